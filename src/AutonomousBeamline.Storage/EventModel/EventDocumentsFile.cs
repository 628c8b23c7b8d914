using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Storage;

/// <summary>
/// The run as Bluesky event-model documents, <c>documents.jsonl</c>: one <c>[name, document]</c> pair per line (the
/// layout Bluesky's JSON-lines serialiser writes): a <c>start</c>; a <c>descriptor</c> per stream (<c>xrd</c>,
/// <c>xas</c> — one per spectrum length —, <c>preflight_xrd</c>, <c>preflight_xas</c>, <c>cell</c>, <c>decisions</c>)
/// with <c>data_keys</c>; an <c>event</c> per observation, preflight frame, cell sample and decision;
/// <c>stream_resource</c> and <c>stream_datum</c> documents pointing into the HDF5 blocks for the frames behind the
/// observations and preflight's frames; and a <c>stop</c> with the exit status. UIDs are derived from
/// the run id, so the same run always gives the same documents.
/// </summary>
public static class EventDocumentsFile
{
    public const string FileName = "documents.jsonl";

    public static string Write(RecordedRun run, RunDescription description, Action<string>? warn = null)
    {
        var path = Path.Combine(run.Directory, FileName);
        var documents = Build(run, description, warn ?? (_ => { }));
        WholeFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
            foreach (var (name, document) in documents)
                writer.Write(new JsonArray(name, document).ToJsonString() + "\n");
        });
        return path;
    }

    public static IReadOnlyList<(string Name, JsonObject Document)> Build(RecordedRun run, RunDescription description, Action<string> warn)
    {
        var uids = new Uids(run.RunId);
        var startUid = uids.Next("start");
        var docs = new List<(string, JsonObject)>
        {
            ("start", new JsonObject
            {
                ["uid"] = startUid,
                ["time"] = Unix(run.StartedAt),
                ["plan_name"] = "autonomous_operando",
                ["run_id"] = run.RunId,
                ["experiment"] = run.Experiment,
                ["strategy"] = run.Strategy.ToString().ToLowerInvariant(),
                ["mode"] = description.Mode,
                ["operator"] = description.Operator,
                ["sample"] = new JsonObject
                {
                    ["name"] = description.SampleName,
                    ["chemistry"] = description.Cell.Chemistry,
                    ["nominal_capacity_ah"] = description.Cell.NominalCapacityAh,
                    ["voltage_min_v"] = description.Cell.VoltageMinV,
                    ["voltage_max_v"] = description.Cell.VoltageMaxV,
                },
                ["wavelength_angstrom"] = description.Beamline.WavelengthAngstrom,
                ["detectors"] = new JsonArray("detector"),
                ["motors"] = new JsonArray("sample_x", "sample_y"),
            }),
        };
        var counts = new Dictionary<string, int>();
        var blocks = BlockIndex.Read(run.Directory, warn);
        var frames = run.Frames.Where(f => f.ObservationSequence is not null).ToDictionary(f => f.ObservationSequence!.Value, f => f.Frame!);

        // Observations: one stream per kind; XAS scans of another length get a descriptor of their own.
        foreach (var kind in new[] { FrameKind.Xrd, FrameKind.Xas })
        {
            var observations = run.Observations.Where(o => o.Kind == kind).ToList();
            foreach (var group in observations.GroupBy(o => frames.TryGetValue(o.Sequence, out var f) ? f.Intensities.Length : 0))
            {
                var stream = kind.Name();
                var external = kind == FrameKind.Xrd ? "pattern" : "spectrum";
                var descriptor = uids.Next($"descriptor/{stream}/{group.Key}");
                // The stream's value in the target's unit where its observations are of the target (a peak position in degrees).
                var keys = ObservationKeys(kind, group.Select(o => o.TargetUnit ?? "").Distinct().SingleOrDefault() ?? "");
                if (group.Key > 0)
                    keys[external] = Key("array", [group.Key], "detector", kind == FrameKind.Xrd ? "counts" : "", external: true,
                        dims: kind == FrameKind.Xrd ? "polar_angle" : "energy");
                docs.Add(("descriptor", Descriptor(descriptor, startUid, run.StartedAt, stream, keys)));
                var first = counts.GetValueOrDefault(stream) + 1;
                var numbered = group.Select((o, i) => (Seq: first + i, Observation: o)).ToList();
                counts[stream] = first + numbered.Count - 1;
                if (group.Key > 0)
                    docs.AddRange(StreamDocuments(numbered.Where(n => blocks.Observations.ContainsKey(n.Observation.Sequence))
                        .Select(n => (n.Seq, blocks.Observations[n.Observation.Sequence])).ToList(), run.Directory, uids, startUid, descriptor, external));
                foreach (var (seq, o) in numbered)
                    docs.Add(("event", Event(uids.Next($"event/{stream}/{seq}"), descriptor, seq, o.Time, ObservationData(o))));
            }
        }

        docs.AddRange(PreflightDocuments(run, blocks, uids, startUid, counts));

        var cell = uids.Next("descriptor/cell");
        var thermometer = run.CellSamples.Any(s => s.Sample.TemperatureC is not null);
        var cellKeys = new JsonObject
        {
            ["voltage_v"] = Key("number", [], "potentiostat", "V"),
            ["current_a"] = Key("number", [], "potentiostat", "A"),
            ["state_of_charge"] = Key("number", [], "potentiostat", ""),
            ["step"] = Key("string", [], "cycler", null),
            ["phase"] = Key("string", [], "cycler", null),
            ["cycle"] = Key("integer", [], "cycler", null),
        };
        // Where the cell has a thermometer; a sample whose reading failed carries null, as every event has every data key.
        if (thermometer) cellKeys["temperature_c"] = Key("number", [], "thermometer", "degC");
        docs.Add(("descriptor", Descriptor(cell, startUid, run.StartedAt, "cell", cellKeys)));
        var cellSeq = 0;
        foreach (var s in run.CellSamples)
        {
            cellSeq++;
            var data = new JsonObject
            {
                ["voltage_v"] = Number(s.Sample.VoltageV),
                ["current_a"] = Number(s.Sample.CurrentA),
                ["state_of_charge"] = Number(s.Sample.StateOfCharge),
                ["step"] = s.Sample.Step,
                ["phase"] = s.Sample.Phase ?? "",
                ["cycle"] = s.Sample.Cycle,
            };
            if (thermometer) data["temperature_c"] = Number(s.Sample.TemperatureC ?? double.NaN);
            docs.Add(("event", Event(uids.Next($"event/cell/{cellSeq}"), cell, cellSeq, s.Time, data)));
        }
        counts["cell"] = cellSeq;

        var decisions = uids.Next("descriptor/decisions");
        docs.Add(("descriptor", Descriptor(decisions, startUid, run.StartedAt, "decisions", new JsonObject
        {
            ["kind"] = Key("string", [], "planner", null),
            ["score"] = Key("number", [], "planner", ""),
            ["reason"] = Key("string", [], "planner", null),
            ["model_version"] = Key("integer", [], "surrogate", null),
            ["strategy"] = Key("string", [], "planner", null),
            ["values"] = Key("string", [], "planner", null),
        })));
        var decisionSeq = 0;
        foreach (var d in run.Decisions)
        {
            decisionSeq++;
            docs.Add(("event", Event(uids.Next($"event/decisions/{decisionSeq}"), decisions, decisionSeq, d.Time, new JsonObject
            {
                ["kind"] = d.Decision.Kind.Name(),
                ["score"] = Number(d.Decision.Score),
                ["reason"] = d.Decision.Reason,
                ["model_version"] = d.Decision.ModelVersion,
                ["strategy"] = d.Decision.Strategy.Name(),
                ["values"] = JsonSerializer.Serialize(d.Decision.Values.ToDictionary(kv => kv.Key, kv => double.IsFinite(kv.Value) ? kv.Value : (double?)null)),
            })));
        }
        counts["decisions"] = decisionSeq;

        var numEvents = new JsonObject();
        foreach (var (stream, n) in counts) numEvents[stream] = n;
        docs.Add(("stop", new JsonObject
        {
            ["uid"] = uids.Next("stop"),
            ["time"] = Unix(run.EndedAt),
            ["run_start"] = startUid,
            ["exit_status"] = run.End?.ExitStatus switch
            {
                ExitStatus.Success => "success",
                ExitStatus.Abort => "abort",
                _ => "fail",
            },
            ["reason"] = run.End?.Reason ?? "the journal ends without run_end: the controller stopped before the run ended (resume it)",
            ["num_events"] = numEvents,
        }));
        return docs;
    }

    /// <summary>
    /// Preflight's frames, a stream per kind of their own (<c>preflight_xrd</c>, <c>preflight_xas</c>), never among the
    /// observations: each event the reference check's verdict, its pattern or spectrum external in the blocks.
    /// </summary>
    private static IEnumerable<(string, JsonObject)> PreflightDocuments(RecordedRun run, BlockIndex blocks, Uids uids, string startUid, Dictionary<string, int> counts)
    {
        foreach (var kind in new[] { FrameKind.Xrd, FrameKind.Xas })
        {
            var stream = $"preflight_{kind.Name()}";
            var external = kind == FrameKind.Xrd ? "pattern" : "spectrum";
            var frames = run.Frames.Where(f => f.Fate == Control.Journal.FrameFate.Preflight && f.Frame!.Header.Kind == kind).ToList();
            foreach (var group in frames.GroupBy(f => f.Frame!.Intensities.Length))
            {
                var descriptor = uids.Next($"descriptor/{stream}/{group.Key}");
                var keys = new JsonObject
                {
                    ["frame"] = Key("integer", [], "detector", null),
                    ["run_frame"] = Key("integer", [], "controller", null),
                    ["explained"] = Key("boolean", [], "reference check", null),
                    ["conclusive"] = Key("boolean", [], "reference check", null),
                    ["unexplained"] = Key("number", [], "reference check", ""),
                    ["summary"] = Key("string", [], "reference check", null),
                    ["likely_cause"] = Key("string", [], "reference check", null),
                    ["beam_current_ma"] = Key("number", [], "detector", "mA"),
                    [external] = Key("array", [group.Key], "detector", kind == FrameKind.Xrd ? "counts" : "", external: true,
                        dims: kind == FrameKind.Xrd ? "polar_angle" : "energy"),
                };
                yield return ("descriptor", Descriptor(descriptor, startUid, run.StartedAt, stream, keys));
                var first = counts.GetValueOrDefault(stream) + 1;
                var numbered = group.Select((f, i) => (Seq: first + i, Stored: f)).ToList();
                counts[stream] = first + numbered.Count - 1;
                var located = numbered.Where(n => n.Stored.RunFrame is { } r && blocks.PreflightFrames.ContainsKey(r))
                    .Select(n => (n.Seq, blocks.PreflightFrames[n.Stored.RunFrame!.Value])).ToList();
                foreach (var document in StreamDocuments(located, run.Directory, uids, startUid, descriptor, external, resourceScope: stream + "/")) yield return document;
                foreach (var (seq, stored) in numbered)
                {
                    var check = stored.Check;
                    var frame = stored.Frame!;
                    yield return ("event", Event(uids.Next($"event/{stream}/{seq}"), descriptor, seq, frame.Header.TStart, new JsonObject
                    {
                        ["frame"] = frame.Header.Frame,
                        ["run_frame"] = stored.RunFrame,
                        ["explained"] = check?.Explained == true,
                        ["conclusive"] = check?.Conclusive == true,
                        ["unexplained"] = Number(check?.Unexplained ?? double.NaN),
                        ["summary"] = check?.Summary ?? "no verdict was stored",
                        ["likely_cause"] = check?.LikelyCause ?? "",
                        ["beam_current_ma"] = Number(frame.Header.BeamCurrentMa),
                    }));
                }
            }
        }
    }

    private static JsonObject ObservationKeys(FrameKind kind, string valueUnit)
    {
        var keys = new JsonObject
        {
            ["sequence"] = Key("integer", [], "controller", null),
            ["frame"] = Key("integer", [], "detector", null),
            ["x_mm"] = Key("number", [], "motion:x", "mm"),
            ["y_mm"] = Key("number", [], "motion:y", "mm"),
            ["state_of_charge"] = Key("number", [], "potentiostat", ""),
            ["c_rate"] = Key("number", [], "cycler", "1/h"),
            ["phase_fraction"] = Key("number", [], "analysis", valueUnit),
            ["phase_fraction_sigma"] = Key("number", [], "analysis", valueUnit),
            ["beam_current_ma"] = Key("number", [], "detector", "mA"),
            ["chosen_by"] = Key("string", [], "planner", null),
        };
        if (kind == FrameKind.Xas)
        {
            keys["edge_energy_ev"] = Key("number", [], "analysis", "eV");
            keys["white_line_energy_ev"] = Key("number", [], "analysis", "eV");
        }
        return keys;
    }

    private static JsonObject ObservationData(Observation o)
    {
        var data = new JsonObject
        {
            ["sequence"] = o.Sequence,
            ["frame"] = o.Frame,
            ["x_mm"] = Number(o.XMm),
            ["y_mm"] = Number(o.YMm),
            ["state_of_charge"] = Number(o.StateOfCharge),
            ["c_rate"] = Number(o.CRate),
            ["phase_fraction"] = Number(o.PhaseFraction),
            ["phase_fraction_sigma"] = Number(o.PhaseFractionSigma),
            ["beam_current_ma"] = Number(o.BeamCurrentMa),
            ["chosen_by"] = o.Source.Name(),
        };
        if (o.Kind == FrameKind.Xas)
        {
            data["edge_energy_ev"] = Number(o.EdgeEnergyEv ?? double.NaN);
            data["white_line_energy_ev"] = Number(o.WhiteLineEnergyEv ?? double.NaN);
        }
        return data;
    }

    private static JsonObject Key(string dtype, int[] shape, string source, string? units, bool external = false, string? dims = null)
    {
        var key = new JsonObject { ["dtype"] = dtype, ["shape"] = new JsonArray(shape.Select(s => (JsonNode)s).ToArray()), ["source"] = source };
        if (units is not null) key["units"] = units;
        if (external) key["external"] = "STREAM:";
        if (dims is not null) key["dims"] = new JsonArray(dims);
        return key;
    }

    private static JsonObject Descriptor(string uid, string startUid, DateTimeOffset time, string name, JsonObject dataKeys) => new()
    {
        ["uid"] = uid,
        ["time"] = Unix(time),
        ["run_start"] = startUid,
        ["name"] = name,
        ["data_keys"] = dataKeys,
    };

    private static JsonObject Event(string uid, string descriptor, int seq, DateTimeOffset time, JsonObject data)
    {
        var timestamps = new JsonObject();
        foreach (var (key, _) in data) timestamps[key] = Unix(time);
        return new JsonObject
        {
            ["uid"] = uid,
            ["time"] = Unix(time),
            ["descriptor"] = descriptor,
            ["seq_num"] = seq,
            ["data"] = data,
            ["timestamps"] = timestamps,
        };
    }

    /// <summary>A JSON number, or null for a value that is not finite (JSON has no NaN).</summary>
    private static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    private static double Unix(DateTimeOffset time) => time.ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>
    /// The stream_resource (one per block dataset) and stream_datum documents (one per run of consecutive events whose
    /// frames are consecutive rows of one dataset) for a stream's external key, to go before its events.
    /// </summary>
    /// <param name="resourceScope">Sets a stream's resources apart from another's on the same block dataset (the observations' have none).</param>
    private static IEnumerable<(string, JsonObject)> StreamDocuments(IReadOnlyList<(int Seq, BlockLocation At)> located, string runDirectory,
        Uids uids, string startUid, string descriptor, string dataKey, string resourceScope = "")
    {
        var resources = new Dictionary<string, string>();
        for (var i = 0; i < located.Count;)
        {
            var (seq, at) = located[i];
            var rows = 1;
            while (at.Row >= 0 && i + rows < located.Count && located[i + rows].At.RelativePath == at.RelativePath && located[i + rows].At.Dataset == at.Dataset
                   && located[i + rows].At.Row == at.Row + rows && located[i + rows].Seq == seq + rows)
                rows++;
            var key = $"{at.RelativePath}#{at.Dataset}";
            if (!resources.TryGetValue(key, out var resource))
            {
                resource = resources[key] = uids.Next($"stream_resource/{resourceScope}{key}");
                var relative = at.RelativePath.Replace(Path.DirectorySeparatorChar, '/');
                yield return ("stream_resource", new JsonObject
                {
                    ["uid"] = resource,
                    ["run_start"] = startUid,
                    ["data_key"] = dataKey,
                    ["mimetype"] = "application/x-hdf5",
                    ["uri"] = new Uri(Path.GetFullPath(Path.Combine(runDirectory, at.RelativePath))).AbsoluteUri,
                    ["parameters"] = new JsonObject
                    {
                        // The block relative to the run folder, for a folder that has moved since.
                        ["path"] = relative,
                        ["dataset"] = at.Dataset,
                        // true: the dataset's first axis is the frame; false: the dataset is one spectrum.
                        ["frame_axis"] = at.Row >= 0,
                    },
                });
            }
            var start = Math.Max(at.Row, 0);
            yield return ("stream_datum", new JsonObject
            {
                ["uid"] = $"{resource}/{seq}",
                ["stream_resource"] = resource,
                ["descriptor"] = descriptor,
                ["indices"] = new JsonObject { ["start"] = start, ["stop"] = start + rows },
                ["seq_nums"] = new JsonObject { ["start"] = seq, ["stop"] = seq + rows },
            });
            i += rows;
        }
    }

    /// <summary>UIDs in UUID form, derived from the run id and what the document is, so that documents are reproducible.</summary>
    private sealed class Uids(string runId)
    {
        public string Next(string what)
        {
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{runId}/{what}"));
            hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
            hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
            return new Guid(hash.AsSpan(0, 16), bigEndian: true).ToString();
        }
    }
}

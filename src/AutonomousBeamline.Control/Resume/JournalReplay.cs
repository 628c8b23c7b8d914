using System.Text.Json;
using System.Text.Json.Nodes;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Control.Resume;

/// <summary>What a run had done when it stopped, rebuilt from its journal and its frame file.</summary>
public sealed record ResumeState
{
    public required IReadOnlyList<Observation> Observations { get; init; }
    /// <summary>Frames received (every line of frames.jsonl, observation or not).</summary>
    public required int FramesAcquired { get; init; }
    public required double BeamTimeUsedS { get; init; }
    public required IReadOnlyDictionary<DecisionKind, int> Decisions { get; init; }
    public required int Faults { get; init; }
    public required int Suspensions { get; init; }
    /// <summary>Protocol steps that ended; the next one (the interrupted one) starts again.</summary>
    public required int StepsCompleted { get; init; }
    public required double StateOfCharge { get; init; }
    public double? RequestedCRate { get; init; }
    public required DateTimeOffset LastRecordTime { get; init; }
    public required DateTimeOffset FirstRecordTime { get; init; }
    public required long LastSequence { get; init; }
    /// <summary>Whether the journal already says the run ended (nothing to resume).</summary>
    public required bool Ended { get; init; }
    public (double X, double Y)? LastPosition { get; init; }
    /// <summary>Frames stored as observations whose observation record the crash cut off: to be analysed again.</summary>
    public IReadOnlyList<(long Sequence, Core.Devices.Frame Frame)> UnjournalledFrames { get; init; } = [];
}

/// <summary>
/// Rebuilds a run's state from its journal — the source of truth — after a crash or a kill. A torn last line (the
/// record being written when the process died) is skipped. Frames are counted from the frame file, which is
/// written before the journal's observation record, so a frame stored as an observation but never journalled is
/// reported (and can be re-analysed) rather than silently lost.
/// </summary>
public static class JournalReplay
{
    public static ResumeState Read(string runDir, double initialStateOfCharge)
    {
        var journalPath = Path.Combine(runDir, "journal.jsonl");
        if (!File.Exists(journalPath)) throw new FileNotFoundException($"{runDir} has no journal.jsonl: not a run folder", journalPath);

        var observations = new List<Observation>();
        var seen = new HashSet<long>();
        var decisions = Enum.GetValues<DecisionKind>().ToDictionary(k => k, _ => 0);
        int faults = 0, suspensions = 0, stepsCompleted = 0;
        double soc = initialStateOfCharge;
        double? cRate = null;
        var lastTime = DateTimeOffset.MinValue;
        DateTimeOffset? firstTime = null;
        long lastSeq = 0;
        var ended = false;
        (double, double)? position = null;

        foreach (var record in RunJournal.Read(journalPath))
        {
            lastSeq = Math.Max(lastSeq, (long?)record["seq"] ?? 0);
            if (record["t"] is JsonValue t && DateTimeOffset.TryParse((string)t!, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var time))
            {
                firstTime ??= time;
                if (time > lastTime) lastTime = time;
            }
            switch ((string?)record["type"])
            {
                case "observation":
                    var o = ToObservation(record);
                    // A record written twice (a resume that re-analysed a frame) counts once.
                    if (seen.Add(o.Frame * 1_000_003 + o.Sequence)) observations.Add(o);
                    position = (o.XMm, o.YMm);
                    break;
                case "decision":
                    if (record["kind"]?.Deserialize<DecisionKind>(RunJournal.JsonOptions) is { } kind) decisions[kind]++;
                    break;
                case "fault": faults++; break;
                case "suspend": suspensions++; break;
                case "step_end": stepsCompleted++; break;
                case "protocol_resumed": stepsCompleted = (int?)record["steps_completed"] ?? stepsCompleted; break;
                case "cell": soc = (double?)record["state_of_charge"] ?? soc; break;
                case "c_rate_requested": cRate = (double?)record["c_rate"]; break;
                case "run_end": ended = true; break;
                case "run_resume": ended = false; break;
            }
        }

        // One pass over the frame file: every record counts (frames, beam time); only frames stored as observations
        // whose record the crash cut off are decoded, to be analysed again.
        var journalled = observations.Select(o => o.Sequence).ToHashSet();
        var stored = FrameFile.Scan(Path.Combine(runDir, "frames.jsonl"),
            (disposition, sequence) => disposition == "observation" && sequence is { } q && !journalled.Contains(q)).ToList();
        var frames = stored.Count;
        var beamTime = stored.Sum(f => f.ExposureS);
        var unjournalled = stored.Where(f => f.Frame is not null).Select(f => (f.ObservationSequence!.Value, f.Frame!)).ToList();
        return new ResumeState
        {
            Observations = observations,
            FramesAcquired = frames,
            BeamTimeUsedS = beamTime,
            Decisions = decisions,
            Faults = faults,
            Suspensions = suspensions,
            StepsCompleted = stepsCompleted,
            StateOfCharge = soc,
            RequestedCRate = cRate,
            LastRecordTime = lastTime,
            FirstRecordTime = firstTime ?? lastTime,
            LastSequence = lastSeq,
            Ended = ended,
            LastPosition = position,
            UnjournalledFrames = unjournalled,
        };
    }

    private static Observation ToObservation(JsonObject record)
    {
        var copy = (JsonObject)record.DeepClone();
        copy.Remove("seq");
        copy.Remove("t");
        copy.Remove("type");
        return copy.Deserialize<Observation>(RunJournal.JsonOptions)
               ?? throw new InvalidDataException($"journal record {record["seq"]} is not an observation");
    }
}

using System.Text.Json;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using PureHDF;
using static AutonomousBeamline.Storage.NexusFields;

namespace AutonomousBeamline.Storage;

/// <summary>
/// The run's NeXus master file, <c>run.nxs</c>: one NXentry <c>entry</c> for the run (definition NXmonopd: the
/// diffraction frames, frames × polar angle) with its instrument, sample (NXlogs of the cell), monitor, the cell's
/// voltage as a second NXdata and the observations and decisions as NXcollection tables of columns; and one NXentry
/// <c>xas_NNNN</c> (definition NXxas) per absorption scan; the frames preflight's reference check took are not among
/// them but in an NXentry <c>preflight</c> of their own, each with its verdict. <c>default</c> attributes lead from the file to a plot.
/// PureHDF writes a file whole, so the master is built from the run's record (journal.jsonl, frames.jsonl) at the end
/// of a run and again on resume, replacing the last one; the HDF5 blocks stay as they were written.
/// </summary>
public static class NexusMasterFile
{
    public const string FileName = "run.nxs";

    /// <summary>Writes <c>run.nxs</c> into the run's folder (a temporary file, renamed) and returns its path.</summary>
    public static string Write(RecordedRun run, RunDescription description)
    {
        var path = Path.Combine(run.Directory, FileName);
        WholeFile.Write(path, stream => Build(run, description).Write(stream));
        return path;
    }

    internal static H5File Build(RecordedRun run, RunDescription description)
    {
        // Preflight's frames were taken before the cell was touched, to check the references: not frames of the experiment.
        var measured = run.Frames.Where(f => f.Fate != FrameFate.Preflight).ToList();
        var xrd = measured.Where(f => f.Frame!.Header.Kind == FrameKind.Xrd).ToList();
        var xas = measured.Where(f => f.Frame!.Header.Kind == FrameKind.Xas).ToList();
        var preflight = run.Frames.Where(f => f.Fate == FrameFate.Preflight).ToList();
        var file = new H5File
        {
            Attributes =
            {
                ["NX_class"] = "NXroot",
                ["default"] = "entry",
                ["file_name"] = FileName,
                ["file_time"] = Iso(run.EndedAt),
                ["creator"] = "AutonomousBeamline",
                ["NeXus_version"] = "v2024.02",
            },
        };
        file["entry"] = RunEntry(run, description, xrd);
        for (var i = 0; i < xas.Count; i++)
            file[XasEntryName(i)] = XasEntry(run, description, xas[i], XasEntryName(i));
        if (preflight.Count > 0) file[PreflightEntryName] = PreflightEntry(run, preflight);
        return file;
    }

    /// <summary>The entry of the frames preflight's reference check took.</summary>
    public const string PreflightEntryName = "preflight";

    /// <summary>
    /// One NXprocess per preflight frame (<c>xrd_0001</c>, <c>xas_0001</c>, …): the reference check's verdict and the
    /// frame's own numbers, with the pattern or spectrum as an NXdata <c>data</c>.
    /// </summary>
    private static H5Group PreflightEntry(RecordedRun run, IReadOnlyList<StoredFrame> preflight)
    {
        var entry = Group("NXentry");
        entry["title"] = Text($"preflight: the first frames of run {run.RunId}, taken before the cell was touched to check that the configured references explain the sample");
        entry["start_time"] = Text(Iso(preflight[0].Frame!.Header.TStart));
        var counts = new Dictionary<FrameKind, int>();
        string? first = null;
        foreach (var stored in preflight)
        {
            var frame = stored.Frame!;
            var kind = frame.Header.Kind;
            counts[kind] = counts.GetValueOrDefault(kind) + 1;
            var name = $"{kind.Name()}_{counts[kind]:0000}";
            first ??= name;
            var process = Group("NXprocess");
            process["program"] = Text("AutonomousBeamline reference check (preflight)");
            var check = stored.Check;
            process["explained"] = Field((byte)(check?.Explained == true ? 1 : 0), "", "1: the configured references explain the frame");
            process["conclusive"] = Field((byte)(check?.Conclusive == true ? 1 : 0), "", "0: the frame could show nothing (no signal); the references were neither confirmed nor refuted");
            process["unexplained"] = Field(check?.Unexplained ?? double.NaN, "", "share of the pattern the references leave unexplained (NaN: none)");
            process["summary"] = Text(check?.Summary ?? "no verdict was stored");
            process["likely_cause"] = Text(check?.LikelyCause ?? "");
            if (stored.RunFrame is { } runFrame) process["run_frame"] = Field(runFrame, "");
            process["frame_number"] = Field(frame.Header.Frame, "");
            process["start_time"] = Text(Iso(frame.Header.TStart));
            process["count_time"] = Field(stored.ExposureS, "s");
            process["beam_current"] = Field(frame.Header.BeamCurrentMa, "mA");
            foreach (var (axis, position) in frame.Header.Positions)
                process[$"position_{axis}"] = Field(position, axis == "energy" ? "eV" : "mm");
            var (axisName, axisUnits, signalUnits) = kind == FrameKind.Xas
                ? ("energy", "eV", "")
                : (frame.Header.XName is null or "two_theta" ? "polar_angle" : frame.Header.XName, Unit(frame.Header.XUnit ?? "deg"), "counts");
            process["data"] = Data("data", [axisName], new Dictionary<string, object>
            {
                ["data"] = Field(frame.Intensities, signalUnits),
                [axisName] = Field(Enumerable.Range(0, frame.Intensities.Length).Select(frame.XAt).ToArray(), axisUnits),
            }, kind == FrameKind.Xas ? "preflight spectrum: normalised absorption against energy" : "preflight pattern");
            process.Attributes["default"] = "data";
            entry[name] = process;
        }
        entry.Attributes["default"] = first!;
        return entry;
    }

    /// <summary>The name of the <paramref name="index"/>-th (from 0) absorption scan's entry.</summary>
    public static string XasEntryName(int index) => $"xas_{index + 1:0000}";

    private static H5Group RunEntry(RecordedRun run, RunDescription description, IReadOnlyList<StoredFrame> xrd)
    {
        var entry = Group("NXentry");
        entry["definition"] = Text(xrd.Count > 0 ? "NXmonopd" : "NXxas");
        entry["title"] = Text($"{run.Experiment}: operando {description.Cell.Chemistry}, run {run.RunId}");
        entry["experiment_identifier"] = Text(run.RunId);
        entry["start_time"] = Text(Iso(run.StartedAt));
        entry["end_time"] = Text(Iso(run.EndedAt));
        entry["program_name"] = Text("AutonomousBeamline");
        entry["run_mode"] = Text(description.Mode);
        entry["exit_status"] = Text(run.End is { } end ? end.ExitStatus.ToString().ToLowerInvariant() : "incomplete");
        var user = Group("NXuser");
        user["name"] = Text(description.Operator);
        entry["user"] = user;

        var instrument = Instrument(description);
        var matrix = DiffractionMatrix(xrd);
        if (matrix is not null)
        {
            var detector = Group("NXdetector");
            detector["description"] = Text("reduced 1D diffraction patterns, one row per frame");
            detector[matrix.AxisName] = Field(matrix.Axis, matrix.AxisUnits);
            detector["data"] = Field(matrix.Counts, "counts");
            detector["frame_number"] = Field(matrix.Frames.Select(f => f.Frame!.Header.Frame).ToArray(), "");
            detector["count_time"] = Field(matrix.Frames.Select(f => f.ExposureS).ToArray(), "s");
            instrument["detector"] = detector;
        }
        entry["instrument"] = instrument;
        entry["sample"] = Sample(run, description);
        if (matrix is not null)
        {
            var time = matrix.Frames.Select(f => run.SecondsFromStart(f.Frame!.Header.TStart)).ToArray();
            var monitor = Group("NXmonitor");
            monitor["mode"] = Text("timer");
            monitor["beam_current"] = Field(matrix.Frames.Select(f => f.Frame!.Header.BeamCurrentMa).ToArray(), "mA");
            monitor["count_time"] = Field(matrix.Frames.Select(f => f.ExposureS).ToArray(), "s");
            entry["monitor"] = monitor;
            entry["data"] = Data("data", ["time", matrix.AxisName], new Dictionary<string, object>
            {
                ["data"] = new H5SoftLink("/entry/instrument/detector/data"),
                [matrix.AxisName] = new H5SoftLink($"/entry/instrument/detector/{matrix.AxisName}"),
                ["time"] = Field(time, "s", "time from the start of the run"),
            }, "diffraction frames against time");
        }
        entry["cell"] = CellData(run);
        entry["observations"] = ObservationTable(run);
        entry["decisions"] = DecisionTable(run);
        entry.Attributes["default"] = matrix is not null ? "data" : "cell";
        return entry;
    }

    private static H5Group Instrument(RunDescription description)
    {
        var instrument = Group("NXinstrument");
        instrument["source"] = Source(description.Beamline);
        var monochromator = Group("NXmonochromator");
        monochromator["wavelength"] = Field(description.Beamline.WavelengthAngstrom, "angstrom");
        monochromator["energy"] = Field(description.Beamline.EnergyKeV, "keV");
        instrument["monochromator"] = monochromator;
        // NXmonopd names the wavelength under an NXcrystal.
        var crystal = Group("NXcrystal");
        crystal["wavelength"] = Field(description.Beamline.WavelengthAngstrom, "angstrom");
        instrument["crystal"] = crystal;
        return instrument;
    }

    private static H5Group Source(BeamlineDescription beamline)
    {
        var source = Group("NXsource");
        source["name"] = Text(beamline.SourceName);
        source["type"] = Text(beamline.SourceType);
        source["probe"] = Text(beamline.Probe);
        return source;
    }

    private static H5Group Sample(RecordedRun run, RunDescription description)
    {
        var cell = description.Cell;
        var sample = Group("NXsample");
        sample["name"] = Text(description.SampleName);
        sample["chemistry"] = Text(cell.Chemistry);
        var electrodes = CellChemistry.Parse(cell.Chemistry);
        if (electrodes.Positive.Formula is { } formula) sample["chemical_formula"] = Text(formula);
        sample["nominal_capacity"] = Field(cell.NominalCapacityAh, "A*h");
        sample["voltage_min"] = Field(cell.VoltageMinV, "V");
        sample["voltage_max"] = Field(cell.VoltageMaxV, "V");
        sample["max_c_rate"] = Field(cell.MaxCRate, "1/h");
        if (cell.TemperatureMinC is { } tMin) sample["temperature_min"] = Field(tMin, "degC");
        if (cell.TemperatureMaxC is { } tMax) sample["temperature_max"] = Field(tMax, "degC");
        sample["rotation_angle"] = Field(0.0, "degree");

        var time = run.CellSamples.Select(s => run.SecondsFromStart(s.Time)).ToArray();
        sample["cell_voltage"] = Log(run.StartedAt, time, run.CellSamples.Select(s => s.Sample.VoltageV).ToArray(), "V", "cell voltage, measured");
        sample["cell_current"] = Log(run.StartedAt, time, run.CellSamples.Select(s => s.Sample.CurrentA).ToArray(), "A", "cell current, measured (+ charges)");
        sample["state_of_charge"] = Log(run.StartedAt, time, run.CellSamples.Select(s => s.Sample.StateOfCharge).ToArray(), "",
            "state of charge by charge counting, 0..1");
        // Only the samples that carry a temperature: a gap (no thermometer answer) is left out, not logged as a number.
        var warm = run.CellSamples.Where(s => s.Sample.TemperatureC is not null).ToList();
        if (warm.Count > 0)
            sample["temperature"] = Log(run.StartedAt, warm.Select(s => run.SecondsFromStart(s.Time)).ToArray(),
                warm.Select(s => s.Sample.TemperatureC!.Value).ToArray(), "degC", "cell temperature, measured by the thermometer on the cell");
        return sample;
    }

    private static H5Group CellData(RecordedRun run)
    {
        var time = run.CellSamples.Select(s => run.SecondsFromStart(s.Time)).ToArray();
        var data = Data("voltage", ["time"], new Dictionary<string, object>
        {
            ["voltage"] = Field(run.CellSamples.Select(s => s.Sample.VoltageV).ToArray(), "V", "cell voltage"),
            ["current"] = Field(run.CellSamples.Select(s => s.Sample.CurrentA).ToArray(), "A", "cell current"),
            ["time"] = Field(time, "s", "time from the start of the run"),
        }, "cell voltage against time");
        data.Attributes["auxiliary_signals"] = new[] { "current" };
        return data;
    }

    private static H5Group ObservationTable(RecordedRun run)
    {
        var o = run.Observations;
        var table = Group("NXcollection");
        table["description"] = Text("one row per observation (a usable frame), as journal.jsonl records it");
        table["sequence"] = Field(o.Select(x => x.Sequence).ToArray(), "");
        table["frame"] = Field(o.Select(x => x.Frame).ToArray(), "");
        table["time"] = Field(o.Select(x => run.SecondsFromStart(x.Time)).ToArray(), "s");
        table["kind"] = Texts(o.Select(x => x.Kind.Name()));
        table["x"] = Field(o.Select(x => x.XMm).ToArray(), "mm");
        table["y"] = Field(o.Select(x => x.YMm).ToArray(), "mm");
        table["state_of_charge"] = Field(o.Select(x => x.StateOfCharge).ToArray(), "");
        table["c_rate"] = Field(o.Select(x => x.CRate).ToArray(), "1/h");
        // The learner's target (learning.target), under its historical name: a share, a lattice parameter, a peak position, an
        // edge. One unit for the column where every row has it; rows of the other modality hold their own reported share.
        var (unit, meaning) = ValueUnit(o);
        table["phase_fraction"] = Field(o.Select(x => x.PhaseFraction).ToArray(), unit, meaning);
        table["phase_fraction_sigma"] = Field(o.Select(x => x.PhaseFractionSigma).ToArray(), unit);
        table["target"] = Texts(o.Select(x => x.Target ?? ""));
        table["target_unit"] = Texts(o.Select(x => x.TargetUnit ?? ""));
        table["beam_current"] = Field(o.Select(x => x.BeamCurrentMa).ToArray(), "mA");
        table["exposure"] = Field(o.Select(x => x.ExposureS ?? double.NaN).ToArray(), "s");
        table["edge_energy"] = Field(o.Select(x => x.EdgeEnergyEv ?? double.NaN).ToArray(), "eV", "absorption edge E0 (NaN: a diffraction frame)");
        table["white_line_energy"] = Field(o.Select(x => x.WhiteLineEnergyEv ?? double.NaN).ToArray(), "eV");
        table["chosen_by"] = Texts(o.Select(x => x.Source.Name()));
        return table;
    }

    /// <summary>The value column's unit and meaning: the target's unit where every row is of the target (or of none: older
    /// journals), else none, with the per-row <c>target</c>/<c>target_unit</c> columns to say which row is what.</summary>
    private static (string Unit, string Meaning) ValueUnit(IReadOnlyList<Observation> o)
    {
        var targets = o.Select(x => x.Target).Distinct().ToList();
        var units = o.Select(x => x.TargetUnit ?? "").Distinct().ToList();
        if (targets is [{ } name] && units is [var unit]) return (unit, $"the learner's target: {name}");
        if (targets is [null]) return ("", "FePO4 (delithiated) fraction");
        return ("", "each row's value: its target (column target, unit in target_unit), or for a row without one the share its analysis reports");
    }

    private static H5Group DecisionTable(RecordedRun run)
    {
        var d = run.Decisions;
        var table = Group("NXcollection");
        table["description"] = Text("one row per decision, as journal.jsonl records it; value_<key> is NaN where a decision has no such value");
        table["time"] = Field(d.Select(x => run.SecondsFromStart(x.Time)).ToArray(), "s");
        table["kind"] = Texts(d.Select(x => x.Decision.Kind.Name()));
        table["score"] = Field(d.Select(x => x.Decision.Score).ToArray(), "");
        table["reason"] = Texts(d.Select(x => x.Decision.Reason));
        table["model_version"] = Field(d.Select(x => (long)x.Decision.ModelVersion).ToArray(), "");
        table["strategy"] = Texts(d.Select(x => x.Decision.Strategy.Name()));
        table["alternatives"] = Field(d.Select(x => (long)x.Decision.Alternatives.Count).ToArray(), "");
        table["values"] = Texts(d.Select(x => JsonSerializer.Serialize(x.Decision.Values)));
        foreach (var key in d.SelectMany(x => x.Decision.Values.Keys).Distinct().Order(StringComparer.Ordinal))
            table[$"value_{key}"] = Field(d.Select(x => x.Decision.Values.GetValueOrDefault(key, double.NaN)).ToArray(), UnitOfKey(key));
        return table;
    }

    /// <summary>The unit a decision value's key names by its suffix (<c>x_mm</c>, <c>start_ev</c>).</summary>
    private static string UnitOfKey(string key) =>
        key.EndsWith("_mm", StringComparison.Ordinal) ? "mm"
        : key.EndsWith("_ev", StringComparison.Ordinal) ? "eV"
        : key.EndsWith("_s", StringComparison.Ordinal) ? "s"
        : key == "c_rate" ? "1/h" : "";

    private static H5Group XasEntry(RecordedRun run, RunDescription description, StoredFrame stored, string name)
    {
        var frame = stored.Frame!;
        var energies = Enumerable.Range(0, frame.Intensities.Length).Select(frame.XAt).ToArray();
        var observation = stored.ObservationSequence is { } seq ? run.Observations.FirstOrDefault(o => o.Sequence == seq) : null;

        var entry = Group("NXentry");
        entry["definition"] = Text("NXxas");
        entry["title"] = Text($"Fe K-edge scan, frame {frame.Header.Frame} of run {run.RunId}");
        entry["start_time"] = Text(Iso(frame.Header.TStart));
        entry["end_time"] = Text(Iso(frame.Header.TStart.AddSeconds(stored.ExposureS)));
        var instrument = Group("NXinstrument");
        instrument["source"] = Source(description.Beamline);
        var monochromator = Group("NXmonochromator");
        monochromator["energy"] = Field(energies, "eV");
        instrument["monochromator"] = monochromator;
        var incoming = Group("NXdetector");
        incoming["description"] = Text("the storage ring's current at the start of the scan (the detector sends normalised spectra, no I0 per point)");
        incoming["data"] = Field(Enumerable.Repeat(frame.Header.BeamCurrentMa, energies.Length).ToArray(), "mA");
        instrument["incoming_beam"] = incoming;
        var absorbed = Group("NXdetector");
        absorbed["description"] = Text("normalised absorption mu(E), as the detector sent it");
        absorbed["data"] = Field(frame.Intensities, "", "normalised mu(E)");
        instrument["absorbed_beam"] = absorbed;
        entry["instrument"] = instrument;

        var sample = Group("NXsample");
        sample["name"] = Text(description.SampleName);
        sample["chemistry"] = Text(description.Cell.Chemistry);
        foreach (var (axis, position) in frame.Header.Positions)
            sample[$"position_{axis}"] = Field(position, axis == "energy" ? "eV" : "mm");
        if (observation is not null)
        {
            sample["state_of_charge"] = Field(observation.StateOfCharge, "");
            sample["c_rate"] = Field(observation.CRate, "1/h");
        }
        entry["sample"] = sample;
        var monitor = Group("NXmonitor");
        monitor["mode"] = Text("timer");
        monitor["data"] = Field(Enumerable.Repeat(frame.Header.BeamCurrentMa, energies.Length).ToArray(), "mA");
        entry["monitor"] = monitor;
        if (observation is not null)
        {
            var analysis = Group("NXprocess");
            analysis["program"] = Text("AutonomousBeamline XasEdgeAnalyzer");
            analysis["observation_sequence"] = Field(observation.Sequence, "");
            if (observation.EdgeEnergyEv is { } e0) analysis["edge_energy"] = Field(e0, "eV");
            if (observation.WhiteLineEnergyEv is { } wl) analysis["white_line_energy"] = Field(wl, "eV");
            analysis["oxidised_fraction"] = Field(observation.PhaseFraction, "");
            entry["analysis"] = analysis;
        }
        entry["data"] = Data("absorbed_beam", ["energy"], new Dictionary<string, object>
        {
            ["absorbed_beam"] = new H5SoftLink($"/{name}/instrument/absorbed_beam/data"),
            ["energy"] = new H5SoftLink($"/{name}/instrument/monochromator/energy"),
        }, "normalised absorption against energy");
        entry.Attributes["default"] = "data";
        return entry;
    }

    private sealed record DiffractionMatrixData(IReadOnlyList<StoredFrame> Frames, float[,] Counts, double[] Axis, string AxisName, string AxisUnits);

    /// <summary>The diffraction frames that share the first frame's axis, as one frames × points matrix; null without any.</summary>
    private static DiffractionMatrixData? DiffractionMatrix(IReadOnlyList<StoredFrame> xrd)
    {
        if (xrd.Count == 0) return null;
        var first = xrd[0].Frame!;
        var points = first.Intensities.Length;
        var frames = xrd.Where(f => f.Frame!.Intensities.Length == points).ToList();
        var counts = new float[frames.Count, points];
        for (var i = 0; i < frames.Count; i++)
        for (var j = 0; j < points; j++)
            counts[i, j] = frames[i].Frame!.Intensities[j];
        var axis = Enumerable.Range(0, points).Select(first.XAt).ToArray();
        var name = first.Header.XName is null or "two_theta" ? "polar_angle" : first.Header.XName;
        return new DiffractionMatrixData(frames, counts, axis, name, Unit(first.Header.XUnit ?? "deg"));
    }
}

using System.Globalization;
using AutonomousBeamline.Configuration;
using AutonomousBeamline.Simulators.Faults;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace AutonomousBeamline.Cli.Soak;

/// <summary>
/// The soak's bad night: a seeded fault schedule over the hours that covers every device and every fault kind the
/// simulators know (whatever <see cref="FaultKinds"/> lists when this runs), plus beam dumps, and the config
/// derived from a base config that makes one dry run last those hours.
/// </summary>
public sealed class SoakSchedule
{
    /// <summary>Faults per hour of experiment once every kind has had its turn.</summary>
    public const double FaultsPerHour = 4.5;

    /// <summary>One beam dump per this many hours (at least one).</summary>
    public const double HoursPerBeamDump = 4;

    /// <summary>
    /// Nothing is scheduled in the first minute (preflight and the first move) or the last 5 % of the night, so that
    /// every fault lands in a running measurement loop and has time to be handled before the run ends.
    /// </summary>
    public const double LeadInS = 60, TailFraction = 0.05;

    public IReadOnlyList<FaultConfig> Faults { get; }
    public IReadOnlyList<BeamDumpConfig> BeamDumps { get; }
    public double Hours { get; }
    public int Seed { get; }

    private SoakSchedule(double hours, int seed, IReadOnlyList<FaultConfig> faults, IReadOnlyList<BeamDumpConfig> beamDumps)
    {
        Hours = hours;
        Seed = seed;
        Faults = faults;
        BeamDumps = beamDumps;
    }

    /// <param name="kindsByDevice">The fault vocabulary; <see cref="FaultKinds.ByDevice"/> when null.</param>
    public static SoakSchedule Build(double hours, int seed, IReadOnlyDictionary<string, string[]>? kindsByDevice = null)
    {
        if (!double.IsFinite(hours) || hours <= 0)
            throw new ArgumentOutOfRangeException(nameof(hours), hours, "the soak must last a positive number of hours");
        kindsByDevice ??= FaultKinds.ByDevice;
        var random = new Random(seed);
        var spanS = hours * 3600;
        var firstS = Math.Min(LeadInS, spanS * 0.1);
        var lastS = spanS * (1 - TailFraction);

        // Every (device, kind) once in a shuffled order, then random picks up to the hourly rate.
        var all = kindsByDevice.OrderBy(p => p.Key, StringComparer.Ordinal)
            .SelectMany(p => p.Value.Select(kind => (Device: p.Key, Kind: kind))).ToList();
        if (all.Count == 0) throw new ArgumentException("no fault kinds to schedule", nameof(kindsByDevice));
        var picks = all.OrderBy(_ => random.Next()).ToList();
        var total = Math.Max(all.Count, (int)Math.Ceiling(FaultsPerHour * hours));
        while (picks.Count < total) picks.Add(all[random.Next(all.Count)]);

        // One fault per equal slot, at a random point inside it: spread over the night, never two at once.
        var slot = (lastS - firstS) / picks.Count;
        var faults = picks.Select((p, i) => new FaultConfig
        {
            AtS = Math.Round(firstS + slot * (i + 0.1 + 0.8 * random.NextDouble()), 1),
            Device = p.Device,
            Kind = p.Kind,
            Count = 1,
            DurationS = DurationFor(p.Kind),
        }).ToList();

        var dumps = Math.Max(1, (int)Math.Round(hours / HoursPerBeamDump));
        var dumpSlot = (lastS - firstS) / dumps;
        var beamDumps = Enumerable.Range(0, dumps).Select(i => new BeamDumpConfig
        {
            AtS = Math.Round(firstS + dumpSlot * (i + 0.1 + 0.5 * random.NextDouble()), 1),
            // Short of the slot so that the beam is back and settled well before the next dump or the end.
            DurationS = Math.Round(Math.Min(60 + 240 * random.NextDouble(), dumpSlot * 0.25), 1),
        }).ToList();

        return new SoakSchedule(hours, seed, faults, beamDumps);
    }

    /// <summary>
    /// A slow reply of half a second (<see cref="Apply"/> keeps it inside the device's time-out); a device fault state
    /// or a lost link of 20 s (<see cref="Apply"/> stretches a fault state past an exposure), long enough that the
    /// controller has to notice and recover, short enough not to end the run; a dropped interlock or an overheating cell
    /// of two minutes.
    /// </summary>
    private static double DurationFor(string kind) => kind switch
    {
        "slow_reply" => 0.5,
        "fault" or "disconnect" => 20,
        // Checked before every frame: a lost hutch search or a hot cell must outlast a frame to be seen at all
        // (<see cref="Apply"/> stretches them past three exposures).
        "interlock" or "overheat" => 120,
        _ => 1,
    };

    /// <summary>
    /// The base config with this schedule, budgets that cannot end the run before the hours are over, and enough
    /// protocol cycles to outlast them; the run ends at the frame budget, sized to the hours.
    /// </summary>
    public ExperimentConfig Apply(ExperimentConfig baseConfig)
    {
        var config = baseConfig;
        config.Simulation.Faults = OutsideSuspensions(Faults.Select(f => f.Kind switch
        {
            "slow_reply" => WithinTimeout(f, config.Devices),
            // Outlasting an exposure and the move after it: a fault state that ends while the device is idle goes unnoticed.
            "fault" => Copy(f, Math.Max(f.DurationS, config.Acquisition.ExposureS + 20)),
            // A condition checked before every frame is seen only if it outlasts one, and its re-acquisition.
            "interlock" or "overheat" => Copy(f, Math.Max(f.DurationS, 3 * config.Acquisition.ExposureS + 30)),
            _ => f,
        }).ToList(), BeamDumps, config);
        config.Simulation.BeamDumps = BeamDumps.ToList();
        // Beam dumps (and the settling after them) and device fault states take no frames: a short night notices.
        var downtimeS = BeamDumps.Sum(d => d.DurationS + config.Acquisition.BeamSettleS)
                        + Faults.Where(f => f.Kind is "fault" or "disconnect" or "interlock" or "overheat").Sum(f => f.DurationS)
                        + Faults.Count(f => f.Kind == "interlock") * config.Acquisition.BeamSettleS
                        + Faults.Count(f => f.Kind == "overheat") * config.Cell.TemperatureSettleS;
        config.Budget.Frames = FrameBudget(config, Math.Max(Hours / 2, Hours - downtimeS / 3600));
        config.Budget.BeamTimeS = Math.Ceiling(Hours * 3600);
        config.Protocol.Cycles = Math.Max(config.Protocol.Cycles, CyclesToOutlast(config, Hours));
        // The soak runs unattended in a child process; a fixed port would collide with anything else running.
        config.Operator.Endpoint = "";
        config.Operator.ApprovalWindowS = 0;
        return config;
    }

    /// <summary>
    /// A fault state or a lost link is there to be noticed, and one that comes and goes while the run is suspended (a beam
    /// dump, a dropped interlock, a hot cell, each with its settle time) leaves the device idle and no trace. Such a fault
    /// is moved to just after the suspension; the night still has it.
    /// </summary>
    private static List<FaultConfig> OutsideSuspensions(List<FaultConfig> faults, IEnumerable<BeamDumpConfig> dumps, ExperimentConfig config)
    {
        var suspensions = dumps.Select(d => (From: d.AtS, To: d.AtS + d.DurationS + config.Acquisition.BeamSettleS))
            .Concat(faults.Where(f => f.Kind == "interlock").Select(f => (From: f.AtS, To: f.AtS + f.DurationS + config.Acquisition.BeamSettleS)))
            .Concat(faults.Where(f => f.Kind == "overheat").Select(f => (From: f.AtS, To: f.AtS + f.DurationS + config.Cell.TemperatureSettleS)))
            .OrderBy(s => s.From)
            .ToList();
        return faults.Select(f =>
        {
            if (f.Kind is not ("fault" or "disconnect")) return f;
            var at = f.AtS;
            foreach (var (from, to) in suspensions)
                if (at + f.DurationS > from && at < to) at = to + 10;
            return at == f.AtS ? f : new FaultConfig { AtS = Math.Round(at, 1), Device = f.Device, Kind = f.Kind, Count = f.Count, DurationS = f.DurationS };
        }).ToList();
    }

    /// <summary>
    /// A slow reply is one that still comes in time: a quarter of the device's time-out at most. (One that comes after
    /// the time-out is a lost reply, which the schedule has as drop_reply.)
    /// </summary>
    private static FaultConfig WithinTimeout(FaultConfig fault, DevicesSection devices)
    {
        var timeoutS = fault.Device switch
        {
            "potentiostat" => devices.Potentiostat.TimeoutS,
            "motion" => devices.Motion.TimeoutS,
            "detector" => devices.Detector.TimeoutS,
            _ => fault.DurationS * 4,
        };
        return Copy(fault, Math.Min(fault.DurationS, timeoutS / 4));
    }

    private static FaultConfig Copy(FaultConfig fault, double durationS) =>
        new() { AtS = fault.AtS, Device = fault.Device, Kind = fault.Kind, Count = fault.Count, DurationS = durationS };

    /// <summary>
    /// Frames that fill the hours: each frame costs its exposure plus a move and its settling, which the soak takes
    /// as <see cref="FrameOverheadS"/>; XAS scans count as one frame but cost their energy points.
    /// </summary>
    internal static int FrameBudget(ExperimentConfig config, double hours)
    {
        var a = config.Acquisition;
        var xrdS = a.ExposureS + FrameOverheadS;
        double perSpotS = a.Kind switch
        {
            "xas" => XasScanS(config) + FrameOverheadS,
            "xrd+xas" => xrdS + (XasScanS(config) + FrameOverheadS) / Math.Max(1, a.XasEvery),
            _ => xrdS,
        };
        var framesPerSpot = a.Kind == "xrd+xas" ? 1 + 1.0 / Math.Max(1, a.XasEvery) : 1;
        return Math.Max(1, (int)Math.Floor(hours * 3600 / perSpotS * framesPerSpot));
    }

    /// <summary>Move, settle and bookkeeping per frame, from dry runs of the shipped configs (about 2.5 s).</summary>
    internal const double FrameOverheadS = 2.5;

    private static double XasScanS(ExperimentConfig config)
    {
        var window = config.Search.EnergyWindows.FirstOrDefault(w => w.Name == config.Acquisition.EnergyWindow)
                     ?? config.Search.EnergyWindows.FirstOrDefault();
        if (window is null || window.StepEv <= 0) return config.Acquisition.DwellS;
        var points = Math.Floor((window.StopEv - window.StartEv) / window.StepEv) + 1;
        return points * config.Acquisition.DwellS;
    }

    /// <summary>
    /// Protocol steps end on voltage long before their duration limits, so a cycle is taken to last a quarter of the
    /// sum of its limits (a step without one: 10 minutes); more cycles than the hours need cost nothing.
    /// </summary>
    internal static int CyclesToOutlast(ExperimentConfig config, double hours)
    {
        static double Limit(ProtocolStepConfig step) => step.Type == "loop"
            ? (step.Repeat ?? 1) * (step.Steps ?? []).Sum(Limit)
            : step.Until.DurationS ?? 600;
        var cycleS = Math.Max(60, 0.25 * config.Protocol.Steps.Sum(Limit));
        return (int)Math.Ceiling(hours * 3600 / cycleS) + 1;
    }

    /// <summary>The config as YAML the program reads back (snake_case keys, invariant numbers, nulls left out).</summary>
    public static string ToYaml(ExperimentConfig config)
    {
        var serializer = new SerializerBuilder()
            .WithNamingConvention(UnderscoredNamingConvention.Instance)
            .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull)
            .Build();
        return $"# Derived by `beamline soak` (seeded schedule, budgets sized to the hours); do not edit, re-run the soak.{Environment.NewLine}"
               + serializer.Serialize(config);
    }

    /// <summary>One line per event of the night as <see cref="Apply"/> scheduled it (times and durations), for the soak's log.</summary>
    public static IEnumerable<string> Describe(ExperimentConfig applied) =>
        applied.Simulation.Faults.Select(f => (f.AtS, Text: string.Create(CultureInfo.InvariantCulture, $"{f.AtS,8:0.0} s  {f.Device} {f.Kind}{For(f)}")))
            .Concat(applied.Simulation.BeamDumps.Select(d => (d.AtS, Text: string.Create(CultureInfo.InvariantCulture, $"{d.AtS,8:0.0} s  beam dump for {d.DurationS:0} s"))))
            .OrderBy(e => e.AtS).Select(e => e.Text);

    private static string For(FaultConfig f) =>
        f.Kind is "fault" or "disconnect" or "interlock" or "overheat" ? string.Create(CultureInfo.InvariantCulture, $" for {f.DurationS:0} s") : "";
}

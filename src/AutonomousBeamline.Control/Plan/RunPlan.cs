using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Control.Plan;

/// <summary>
/// Everything the run engine needs to know about an experiment, in checked, typed form. The program builds it from
/// the experiment file (the YAML schema is the Configuration project's business, not the engine's), so every
/// number here is already finite and in range.
/// </summary>
public sealed record RunPlan
{
    public required string Experiment { get; init; }
    public required int Seed { get; init; }
    public required RunMode Mode { get; init; }
    public required CellLimits Cell { get; init; }
    public required SafeState SafeState { get; init; }
    public required CyclingProtocol Protocol { get; init; }
    public required AxisRoles Axes { get; init; }
    public required RoiPlan Roi { get; init; }
    public required AcquisitionPlan Acquisition { get; init; }
    public required BeamPlan Beam { get; init; }
    public required Budget Budget { get; init; }
    /// <summary>How long each decision waits for a veto before it runs (0: unattended).</summary>
    public required double ApprovalWindowS { get; init; }
    /// <summary>C-rates the learner may choose between for the coming constant-current steps (empty: the protocol's own).</summary>
    public IReadOnlyList<double> CRates { get; init; } = [];
    /// <summary>The cell's temperature window, when it has a thermometer; null: no temperature suspender.</summary>
    public TemperatureWindow? TemperatureWindowC { get; init; }
}

/// <summary>Outside [<see cref="MinC"/>, <see cref="MaxC"/>] °C measuring stops and the cell is held, until it has been back inside for the settle time.</summary>
public sealed record TemperatureWindow(double MinC, double MaxC, double SettleS);

/// <summary>Whether the run drives real equipment on the wall clock or its own simulators on the virtual clock.</summary>
public enum RunMode { DryRun, Live }

/// <summary>What "safe" means at a fault and at the end: output off, or a rest at open circuit.</summary>
public enum SafeState { OutputOff, OpenCircuitRest }

/// <summary>How the next spot is chosen when no operator says otherwise.</summary>
public enum RoiStrategy { Learner, Raster, Random }

/// <summary>Which kinds of frame a run takes: diffraction at every spot, absorption scans, or both.</summary>
[Flags]
public enum AcquisitionKinds { Xrd = 1, Xas = 2, XrdAndXas = Xrd | Xas }

/// <summary>The motion server's axis names that play each role.</summary>
public sealed record AxisRoles(string X, string Y, string? Z = null, string? Energy = null);

/// <summary>The electrode region the sample may be sent to, and the grid spots are chosen on.</summary>
public sealed record RoiPlan(double XMinMm, double XMaxMm, double YMinMm, double YMaxMm, double StepMm)
{
    public bool Contains(double x, double y) => x >= XMinMm && x <= XMaxMm && y >= YMinMm && y <= YMaxMm;

    public override string ToString() => FormattableString.Invariant($"x [{XMinMm}, {XMaxMm}], y [{YMinMm}, {YMaxMm}] mm");
}

/// <summary>An energy window absorption scans are planned in.</summary>
public sealed record EnergyWindowPlan(string Name, double StartEv, double StopEv, double StepEv);

public sealed record AcquisitionPlan
{
    public required AcquisitionKinds Kinds { get; init; }
    /// <summary>Exposure of each diffraction pattern.</summary>
    public required double ExposureS { get; init; }
    /// <summary>With both kinds: an absorption scan at every this-many-th spot, after its pattern.</summary>
    public required int XasEvery { get; init; }
    /// <summary>Counting time per energy point of an absorption scan.</summary>
    public required double DwellS { get; init; }
    /// <summary>The window absorption scans use; null when the run takes none.</summary>
    public EnergyWindowPlan? EnergyWindow { get; init; }
    public required RoiStrategy Strategy { get; init; }
    /// <summary>Beam damage: at most this many seconds of beam on any one spot; null: no limit.</summary>
    public double? DoseBudgetS { get; init; }
    /// <summary>How many unusable frames are taken before a spot is left or the run waits for an operator.</summary>
    public UnusableDataPolicy UnusableData { get; init; } = new();

    public bool TakesXrd => Kinds.HasFlag(AcquisitionKinds.Xrd);
    public bool TakesXas => Kinds.HasFlag(AcquisitionKinds.Xas);
}

/// <summary>
/// Bounds on frames the analysis cannot use. Every such frame spent beam time and frame budget; when they keep coming, the
/// model of the sample does not fit the data, and more of them only waste beam.
/// </summary>
/// <param name="PerSpot">Unusable frames in a row at one spot before it is left (excluded) for the rest of the run.</param>
/// <param name="InARow">Unusable frames in a row anywhere before measuring waits for an operator.</param>
/// <param name="RateWindow">The last this-many frames over which the unusable share is watched...</param>
/// <param name="RateMax">...and the share (0–1) at which measuring waits for an operator.</param>
/// <param name="OperatorWaitS">How long that wait lasts; nobody resumed by then, the run ends with the cell safe (exit status fail).</param>
public sealed record UnusableDataPolicy(int PerSpot = 3, int InARow = 10, int RateWindow = 30, double RateMax = 0.8, double OperatorWaitS = 1800);

/// <summary>When the beam counts as gone, and how long it must be back before measuring resumes.</summary>
public sealed record BeamPlan(double ThresholdMa, double SettleS, double PollS);

/// <summary>The most a run may spend: frames taken and seconds of beam.</summary>
public sealed record Budget(int Frames, double BeamTimeS);

/// <summary>How the run ended.</summary>
public enum ExitStatus
{
    Success,
    /// <summary>Stopped on request (an operator's halt, Ctrl-C, SIGTERM); the cell was left safe.</summary>
    Abort,
    /// <summary>A fault ended it; the cell was left safe.</summary>
    Fail,
    /// <summary>It ended without one usable observation: whatever was spent, nothing was learned.</summary>
    NoData,
}

public static class PlanNames
{
    /// <summary>"dry-run" or "live", as the summary and the program's commands spell it.</summary>
    public static string Name(this RunMode mode) => mode == RunMode.DryRun ? "dry-run" : "live";

    public static DecisionSource Source(this RoiStrategy strategy) => strategy switch
    {
        RoiStrategy.Raster => DecisionSource.Raster,
        RoiStrategy.Random => DecisionSource.Random,
        _ => DecisionSource.Learner,
    };
}

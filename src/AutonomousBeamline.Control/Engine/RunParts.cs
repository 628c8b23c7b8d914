using AutonomousBeamline.Learning.Decomposition;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Control.Engine;

/// <summary>The equipment a run drives, behind Core's small interfaces. Built by the program's composition root.</summary>
/// <param name="Temperature">The cell's temperature, where the equipment has a sensor; null when it has none.</param>
/// <param name="Disk">The run folder's free space, checked at preflight and before every frame; null: not watched.</param>
public sealed record RunDevices(IPotentiostat Potentiostat, IMotion Motion, IDetector Detector, ITemperatureSensor? Temperature = null,
    Suspenders.IFreeSpace? Disk = null);

/// <summary>The learning side as the engine uses it: features from a frame, the planners, and the trainer's hooks.</summary>
/// <param name="ObservationAdded">Hands each new observation to the (background) trainer; returns how the map published before
/// it predicted it (a held-out check of the map's interval), or null when no map has been published or the map does not learn it.</param>
/// <param name="ModelSettled">
/// Null on a live run: a decision never waits for a fit. A dry run passes the trainer's "idle" wait here, because on
/// the virtual clock a 20-second exposure takes milliseconds of wall time, and without it the rehearsal would decide on a
/// model many frames staler than a real night's (and not be reproducible).
/// </param>
/// <param name="CreatePlanner">Builds the ROI planner once preflight has read the motion server's <c>describe</c> (its travel
/// cost needs the axes' real speeds).</param>
/// <param name="CurrentMap">The newest finished map, for the operator's uncertainty view.</param>
public sealed record RunLearning(
    IXrdAnalyzer Analyzer,
    Func<MotionDescription, IRoiPlanner> CreatePlanner,
    Func<Observation, IntervalCheck?> ObservationAdded,
    Func<CancellationToken, Task>? ModelSettled = null,
    Func<IPhaseMap?>? CurrentMap = null)
{
    /// <summary>Reduces an absorption spectrum (needed when the run takes XAS scans).</summary>
    public XasEdgeAnalyzer? XasAnalyzer { get; init; }
    /// <summary>Plans each XAS scan's energies (needed when the run takes XAS scans).</summary>
    public EnergyRangePlanner? EnergyPlanner { get; init; }
    /// <summary>Chooses the C-rate of each coming constant-current step; null leaves the protocol's rates.</summary>
    public CRatePlanner? CRatePlanner { get; init; }
    /// <summary>What an observation's value is (config <c>learning.target</c>); the FePO4 fraction when null.</summary>
    public ObservationTarget? Target { get; init; }
    /// <summary>How the map's 90 % intervals held on the newest frames it had not seen, for the dashboard; null: not shown.</summary>
    public Func<MapCalibration?>? Calibration { get; init; }
    /// <summary>Preflight's check that the configured references explain a first frame; null skips it.</summary>
    public IReferenceCheck? ReferenceCheck { get; init; }
    /// <summary>Decomposes frames without references (a component-score target, and frames the references leave
    /// unexplained); null: such frames are only flagged.</summary>
    public IFrameDecomposition? Decomposition { get; init; }
}

/// <summary>A line of progress for whoever watches (the terminal, a test).</summary>
public sealed record RunProgress(string Message, int Frames, int Observations, double StateOfCharge);

using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Control.Engine;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.Resume;
using AutonomousBeamline.Control.Tests.Cycling;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Core.Time;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Features;

namespace AutonomousBeamline.Control.Tests.Support;

/// <summary>
/// A run engine against fakes (no pty, no ZeroMQ) on the virtual clock: a 5 mAh cell charging at 0.5 C, a stage whose
/// moves are instant, a detector whose frames carry their x position, and a planner that walks a fixed list of spots.
/// </summary>
internal sealed class EngineRig
{
    public static readonly DateTimeOffset Start = new(2026, 11, 24, 21, 0, 0, TimeSpan.Zero);

    public EngineRig()
    {
        Cell = new FakePotentiostat(Clock, 0.005, 0.1);
        Motion = new FakeMotion(Clock);
        Detector = new FakeDetector(Clock, Motion);
        Journal = new MemoryJournal(Clock);
    }

    public VirtualTimeProvider Clock { get; } = new(Start);
    public FakePotentiostat Cell { get; }
    public FakeMotion Motion { get; }
    public FakeDetector Detector { get; }
    public FakeAnalyzer Analyzer { get; } = new();
    public MemoryJournal Journal { get; }
    /// <summary>The run folder's disk, when a test watches it (none by default).</summary>
    public Control.Suspenders.IFreeSpace? Disk { get; init; }
    /// <summary>The trainer's hook: what the map published before each observation made of it (none by default).</summary>
    public Func<Observation, Learning.Surrogate.IntervalCheck?> Trainer { get; set; } = _ => null;
    /// <summary>Preflight's reference check (none by default: the fake detector's frames explain nothing).</summary>
    public IReferenceCheck? References { get; init; }
    /// <summary>What the observations' values are (the FePO4 fraction by default).</summary>
    public ObservationTarget? Target { get; init; }
    /// <summary>The map the operator's snapshot shows (none by default).</summary>
    public IPhaseMap? Map { get; init; }
    public ListPlanner Planner { get; set; } = new((1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (7, 7), (8, 8));

    public static RunPlan Plan(int frames = 6, AcquisitionKinds kinds = AcquisitionKinds.Xrd, double approvalS = 0) => new()
    {
        Experiment = "engine-test",
        Seed = 1,
        Mode = RunMode.DryRun,
        Cell = new CellLimits(0.005, 2.5, 4.0, 3.0, 0.015, 0.1),
        SafeState = SafeState.OutputOff,
        Protocol = new CyclingProtocol(
            [new ProtocolStep { Name = "charge", Kind = StepKind.ConstantCurrent, CRate = 0.5, CutoffVoltageV = 3.9, MaxDuration = TimeSpan.FromHours(3) }],
            1, TimeSpan.FromSeconds(10)),
        Axes = new AxisRoles("sample_x", "sample_y"),
        Roi = new RoiPlan(0, 10, 0, 10, 1),
        Acquisition = new AcquisitionPlan
        {
            Kinds = kinds, ExposureS = 10, XasEvery = 2, DwellS = 0.1, Strategy = RoiStrategy.Learner,
            EnergyWindow = new EnergyWindowPlan("fe-k-edge", 7090, 7180, 0.5), UnusableData = new UnusableDataPolicy(PerSpot: 2, InARow: 3),
        },
        Beam = new BeamPlan(10, 60, 5),
        Budget = new Budget(frames, 36000),
        ApprovalWindowS = approvalS,
    };

    /// <param name="frames">The frame store (the journal's own list unless a test needs one that fails on its own).</param>
    public RunEngine Build(RunPlan? plan = null, ResumeState? resume = null, Journal.IFrameStore? frames = null)
    {
        var learning = new RunLearning(Analyzer, _ => Planner, o => Trainer(o), CurrentMap: Map is { } map ? () => map : null)
        {
            Target = Target,
            XasAnalyzer = new XasEdgeAnalyzer(),
            EnergyPlanner = new EnergyRangePlanner(new EnergyWindow("fe-k-edge", 7090, 7180, 0.5)),
            ReferenceCheck = References,
        };
        return new RunEngine(plan ?? Plan(), new RunDevices(Cell, Motion, Detector, Disk: Disk), learning, Journal, frames ?? Journal, Clock, "run-1", resume);
    }

    /// <summary>Runs the engine to its end, failing the test instead of hanging it if the run never ends.</summary>
    public static async Task<RunOutcome> RunAsync(RunEngine engine)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var run = engine.RunAsync(CancellationToken.None);
        var finished = await Task.WhenAny(run, Task.Delay(Timeout.Infinite, guard.Token).ContinueWith(_ => { }, TaskScheduler.Default));
        Assert.True(finished == run, "the run did not end within a minute of wall time");
        return await run;
    }
}

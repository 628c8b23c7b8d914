using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Decomposition;

namespace AutonomousBeamline.Storage.Tests;

/// <summary>One record of every type, with nulls, NaN and non-default enums where a type has them.</summary>
public static class SampleRecords
{
    public static readonly OperatorIdentity Ann = new("ann", "console-1");

    public static readonly Decision Roi = new()
    {
        Kind = DecisionKind.Roi,
        Values = new Dictionary<string, double> { ["x_mm"] = 1.5, ["y_mm"] = 2 },
        Score = 0.42,
        Alternatives = [new DecisionOption(new Dictionary<string, double> { ["x_mm"] = 3, ["y_mm"] = 4 }, 0.4)],
        Reason = "largest spread",
        ModelVersion = 3,
    };

    public static readonly Observation Xrd = new()
    {
        Sequence = 7, Frame = 12, Time = new DateTimeOffset(2026, 11, 24, 21, 0, 5, TimeSpan.Zero), Kind = FrameKind.Xrd, XMm = 1.5, YMm = 2,
        StateOfCharge = 0.3, CRate = 1, PhaseFraction = 0.31, PhaseFractionSigma = 0.001, BeamCurrentMa = 199.5, ExposureS = 20,
    };

    public static readonly JournalRecord[] All =
    [
        new RunStarted("lfp-operando", RoiStrategy.Learner, "20261124-210000-lfp-operando-a1b2c3"),
        new RunResumeStarted("lfp-operando", RoiStrategy.Raster, "20261124-210000-lfp-operando-a1b2c3"),
        new StateTransition(RunState.Deciding, RunState.Moving, RunTrigger.Decided),
        new PreflightCompleted([new PreflightCheck("potentiostat", "KEYSIGHT B2901A"), new PreflightCheck("shutter", "closed")]),
        new ReferenceChecked(FrameKind.Xrd, 1, false, true, "the references leave 62% of the pattern unexplained at 0.7293 Å (17.000 keV)", 0.62,
            "X-ray energy: the pattern fits far better at 0.5000 Å (24.797 keV) (unexplained 0.04), the config says 0.7293 Å (17.000 keV)"),
        new ReferenceChecked(FrameKind.Xas, 2, true, true, "E0 8345.2 eV (Ni K-edge 8333.0 eV); NMC-pristine 0.98, NMC-charged 0.02"),
        new ResumeCheck(true, 3.41, new DateTimeOffset(2026, 11, 24, 21, 30, 0, TimeSpan.Zero), 40),
        new RunResumed(40, 42, 3, 0.55, 12.5),
        new RunEnded(ExitStatus.Success, "frame budget spent", 80, 82),
        new SafeStateEntered("end of run", "off", "closed"),
        new DecisionMade(Roi with { Score = double.NaN, Strategy = DecisionSource.Operator }),
        new ObservationMade(Xrd),
        new ObservationMade(Xrd with { Kind = FrameKind.Xas, Source = DecisionSource.Recovered, ExposureS = null, EdgeEnergyEv = 7121.5, WhiteLineEnergyEv = 7131 }),
        new ObservationRecovered(8, 13, "stored before the crash, journalled after it"),
        new MapIntervalChecked(9, 4, 0.43, 0.41, 0.015, true),
        new FrameNotCounted(14, FrameKind.Xas, "flat"),
        new ComponentsUpdated(FrameKind.Xrd, 3, 3, 41, 57, [new ComponentSummary(1, 12.25, 0.1, 1), new ComponentSummary(3, 17.5, 0.65, 22)],
            DecompositionStart.ReferenceMisfit, 39),
        new DecompositionUnresolved(FrameKind.Xrd, 58, DecompositionUnresolved.OneMovingPattern, [4, 2, 5], 6.06, 6.105, 0.0074),
        new FrameNotCounted(15, null, "beam 12.5 mA below threshold during the exposure"),
        new FrameRejected("truncated payload", "r16", 16),
        new FrameRejected("for no pending request", null, null),
        new StepAttemptFailed("acquire", 1, 3, "timed out", "retry"),
        new Suspended("beam below threshold", "beam", 12.5, 50),
        new Suspended("operator ann@console-1", "operator", Cell: "held at open circuit"),
        new SuspenderTripped("temperature", "cell at 50.0 °C, window [10, 45] °C"),
        new SuspensionEnded("beam back above threshold for 30 s", 180, 95.5),
        new SuspensionEnded("operator ann@console-1"),
        new FaultRecorded("motion", "timed out", RunState.Moving),
        new DeviceRecovered("motion", 2, 4.5),
        new RecoveryFailed("detector", 3, "connection refused"),
        new DeviceRetried("potentiostat", "MEAS:VOLT?", 1, "no reply"),
        new CyclerError("output stuck"),
        new FaultInjected("detector", "truncated_frame", 1, 3600),
        new OperatorCommandReceived(Ann.ToString(), "ann", "console-1", "GotoRoi", new GotoRoiCommand(3, 4) { By = Ann }, true, "measuring (3, 4) mm next"),
        new OperatorCommandReceived(Ann.ToString(), "ann", "console-1", "Pause", new PauseCommand { By = Ann }, false, "already paused"),
        new OperatorCommandReceived(Ann.ToString(), "ann", "console-1", "SetBudget", new SetBudgetCommand(100, null) { By = Ann }, true, "budget 100 frames"),
        new OperatorCommandReceived(Ann.ToString(), "ann", "console-1", "LockKnob", new LockKnobCommand(Knob.EnergyRange, true) { By = Ann }, true, "locked"),
        new OperatorOverride(Ann.ToString(), OverrideKind.Roi, Roi, XMm: 3, YMm: 4),
        new OperatorOverride(Ann.ToString(), OverrideKind.EnergyRange, Roi with { Kind = DecisionKind.EnergyRange }, StartEv: 7100, StopEv: 7180, StepEv: 0.5),
        new BudgetChanged(Ann.ToString(), 100, 7200),
        new RegionExcluded(Ann.ToString(), 0, 1, 2, 3.5),
        new SpotLeft(2, 3, 3, "flat", 1.8, 2.2, 2.8, 3.2),
        new DoseSpent(2, 3, 60, 60, 1.8, 2.2, 2.8, 3.2),
        new ModalitiesCompared(2, 3, 0.41, "fraction of FePO4", 7, 0.42, 0.01, 8, 0.52, null, 0.1, null),
        new KnobLockChanged(Ann.ToString(), Knob.CRate, true),
        new ApprovalWindowChanged(Ann.ToString(), 30),
        new CRateRefused(5, "learner", "above the cell's 2C"),
        new CRateRequested(1.5, "operator ann@console-1", "next constant-current step"),
        new ProtocolHoldRequested(Ann.ToString()),
        new ProtocolReleaseRequested(Ann.ToString()),
        new ProtocolHeld("charge", "cycle1/charge", "cc", "off"),
        new ProtocolReleased("charge", "cycle1/charge", "cc", 60),
        new ProtocolResumed(3, 0.55, "cycle2/charge"),
        new ProtocolResumed(10, 0.05, null),
        new ProtocolDone(10, 2),
        new CycleStarted(2, 2),
        new StepBoundaryHandlerFailed("InvalidOperationException", "planner not ready"),
        new StepStarted("charge", "cycle1/charge", 1, "cc", 1, 0.0016, "learner", null, 7200, 10),
        new StepStarted("hold", "cycle1/hold", 1, "cv", 0, 0, null, 3.6, 3600, 10),
        new StepEnded("charge", "cycle1/charge", 1, "cc", "voltage reached 3.6 V", "condition", 3600.5, 0.0021, 3.6, 0.98),
        new StepEnded("rest", "cycle1/rest", 1, "rest", "stopped before its end", "stopped", 12, 0, null, null),
        new PhaseStarted("gitt", "cycle1/gitt", 1, "pulse", "current", 0.0016),
        new PhaseStarted("gitt", "cycle1/gitt", 1, "relax", "off", null),
        new PhaseEnded("gitt", "cycle1/gitt", 1, "pulse", "phase time", 600, 0.0003, 3.45, 0.0016),
        new SetpointRefused("charge", "cycle1/charge", 1, "cc", "current", 0.5, 4.2, "above the cell's 2C"),
        new CellSample(3.41, 0.0012, 0.35, "charge", null, 1),
        new CellSample(double.PositiveInfinity, 0, 0.35, "gitt", "pulse", 2),
    ];
}

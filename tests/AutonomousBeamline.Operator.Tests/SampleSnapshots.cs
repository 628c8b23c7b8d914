using AutonomousBeamline.Control.Operator;

namespace AutonomousBeamline.Operator.Tests;

internal static class SampleSnapshots
{
    public static ExperimentSnapshot Running(string state = "Measuring", int framesUsed = 12) => new()
    {
        Time = new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero),
        RunId = "run-42",
        State = state,
        Cell = new CellSnapshotView(3.412, 0.0021, 0.37, 1.0, "charge CC", 2, true),
        BeamCurrentMa = 199.7,
        ShutterOpen = true,
        XMm = 4.5,
        YMm = 2.25,
        RecentDecisions =
        [
            new DecisionView(new DateTimeOffset(2026, 11, 26, 8, 59, 0, TimeSpan.Zero), "roi",
                new Dictionary<string, double> { ["x_mm"] = 4.5, ["y_mm"] = 2.25 }, 0.83, "largest spread near the phase front", 7, "ucb"),
        ],
        PendingDecision = null,
        ApprovalWindowS = 0,
        Uncertainty = new UncertaintyGrid(0, 0, 1, 3, 2, [0.1, 0.2, 0.3, 0.4, 0.5, double.NaN]) { Quantity = "peak position of NMC811", Unit = "degree" },
        FramesUsed = framesUsed,
        FramesBudget = 200,
        BeamTimeUsedS = 120.5,
        BeamTimeBudgetS = 3600,
        Observations = 11,
        RecentFaults = [new FaultView(new DateTimeOffset(2026, 11, 26, 8, 58, 0, TimeSpan.Zero), "motion", "BUSY, retried")],
        LockedKnobs = ["c_rate"],
    };
}

using System.Collections.Concurrent;
using AutonomousBeamline.Control.Operator;

namespace AutonomousBeamline.EndToEnd.Tests.OperatorConsole;

/// <summary>A controller stand-in: records commands, refuses C-rates above 2, pauses on "pause".</summary>
internal sealed class ScriptedOperations : IExperimentOperations
{
    private volatile string _state = "Measuring";

    public ConcurrentQueue<OperatorCommand> Received { get; } = new();

    public CommandOutcome Apply(OperatorCommand command)
    {
        Received.Enqueue(command);
        switch (command)
        {
            case SetCRateCommand { CRate: > 2 } c:
                return CommandOutcome.Refused($"C-rate {c.CRate} is outside the envelope (max 2)");
            case PauseCommand:
                _state = "Paused";
                return CommandOutcome.Applied("pausing at the next safe point");
            case GotoRoiCommand g:
                return CommandOutcome.Applied($"next measurement at ({g.XMm}, {g.YMm}) mm");
            default:
                return CommandOutcome.Applied("ok");
        }
    }

    public ExperimentSnapshot Snapshot() => Sample(_state);

    public static ExperimentSnapshot Sample(string state) => new()
    {
        Time = new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero),
        RunId = "run-0042",
        State = state,
        Cell = new CellSnapshotView(3.4125, 0.0021, 0.37, 1.0, "charge CC", 2, true),
        BeamCurrentMa = 199.7,
        ShutterOpen = true,
        XMm = 2,
        YMm = 1,
        RecentDecisions =
        [
            new DecisionView(new DateTimeOffset(2026, 11, 26, 8, 59, 30, TimeSpan.Zero), "roi",
                new Dictionary<string, double> { ["x_mm"] = 2, ["y_mm"] = 1 }, 0.83, "largest spread near the phase front", 7, "ucb"),
        ],
        PendingDecision = new DecisionView(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero), "c_rate",
            new Dictionary<string, double> { ["c_rate"] = 2 }, 0.41, "faster cycling explores the two-phase plateau", 7, "ucb"),
        ApprovalWindowS = 10,
        Uncertainty = new UncertaintyGrid(0, 0, 1, 4, 3, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, double.NaN]),
        MapCalibration = new MapCalibrationView(0.9, 0.86, 50),
        FramesUsed = 12,
        FramesBudget = 200,
        BeamTimeUsedS = 120,
        BeamTimeBudgetS = 3600,
        Observations = 11,
        RecentFaults = [new FaultView(new DateTimeOffset(2026, 11, 26, 8, 58, 0, TimeSpan.Zero), "motion", "stage BUSY, retried")],
        LockedKnobs = ["energy"],
    };
}

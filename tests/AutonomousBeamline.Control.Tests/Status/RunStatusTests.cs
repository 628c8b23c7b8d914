using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Control.Tests.Status;

public sealed class RunStatusTests
{
    private static RunStatus Fresh() => new() { Knobs = new OperatorKnobs { Budget = new Budget(3, 100) } };

    [Fact]
    public void The_budget_is_spent_by_frames_or_by_beam_time_whichever_comes_first()
    {
        Assert.Null(Fresh().BudgetSpent());
        Assert.Equal("the frame budget (3) is spent", (Fresh() with { Counts = new RunCounts { FramesAcquired = 3 } }).BudgetSpent());
        Assert.Equal("the beam-time budget (100 s) is spent", (Fresh() with { Counts = new RunCounts { BeamTimeUsedS = 100.5 } }).BudgetSpent());
    }

    [Fact]
    public void Recent_decisions_and_faults_keep_the_newest_ten_and_count_them_all()
    {
        var status = Fresh();
        var decision = new Decision { Kind = DecisionKind.CRate, Values = new Dictionary<string, double>(), Score = 0, Alternatives = [], Reason = "", ModelVersion = 0 };
        for (var i = 0; i < 12; i++)
        {
            status = status.WithDecision(new TimedDecision(DateTimeOffset.UnixEpoch.AddSeconds(i), decision));
            status = status.WithFault(new FaultNote(DateTimeOffset.UnixEpoch.AddSeconds(i), "motion", $"fault {i}"));
        }
        Assert.Equal(RunStatus.RecentItems, status.RecentDecisions.Count);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(11), status.RecentDecisions[0].Time);
        Assert.Equal("fault 11", status.RecentFaults[0].Message);
        Assert.Equal(12, status.Counts.Decisions[DecisionKind.CRate]);
        Assert.Equal(12, status.Counts.Faults);
    }

    [Fact]
    public async Task Concurrent_updates_from_two_threads_lose_nothing()
    {
        var board = new StatusBoard(Fresh());
        await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++) board.Update(s => s with { Counts = s.Counts with { FramesAcquired = s.Counts.FramesAcquired + 1 } });
        })));
        Assert.Equal(20_000, board.Current.Counts.FramesAcquired);
    }
}

using AutonomousBeamline.Control.StateMachine;

namespace AutonomousBeamline.Control.Tests;

public class ExperimentStateMachineTests
{
    private static ExperimentStateMachine Running()
    {
        var m = new ExperimentStateMachine();
        m.Fire(RunTrigger.Start);
        m.Fire(RunTrigger.PreflightPassed);
        return m;
    }

    [Fact]
    public void One_turn_of_the_loop_goes_Decide_Move_Acquire_Analyze_and_back()
    {
        var m = Running();
        var seen = new List<RunState> { m.State };
        foreach (var t in new[] { RunTrigger.Decided, RunTrigger.Arrived, RunTrigger.FrameTaken, RunTrigger.Analyzed })
        {
            m.Fire(t);
            seen.Add(m.State);
        }
        Assert.Equal([RunState.Deciding, RunState.Moving, RunState.Acquiring, RunState.Analyzing, RunState.Deciding], seen);
        Assert.True(m.IsRunning);
    }

    [Fact]
    public void Pause_from_any_running_substate_and_resume_re_decides()
    {
        var m = Running();
        m.Fire(RunTrigger.Decided);
        m.Fire(RunTrigger.Arrived);
        m.Fire(RunTrigger.Pause);
        Assert.Equal(RunState.Paused, m.State);
        Assert.False(m.IsRunning);
        m.Fire(RunTrigger.Resume);
        Assert.Equal(RunState.Deciding, m.State); // never back to Acquiring: no replay
    }

    [Fact]
    public void Finishing_goes_through_completing()
    {
        var m = Running();
        m.Fire(RunTrigger.Finish);
        Assert.Equal(RunState.Completing, m.State);
        m.Fire(RunTrigger.Finished);
        Assert.Equal(RunState.Completed, m.State);
        Assert.True(m.IsFinal);
    }

    [Theory]
    [InlineData(RunState.Preflight)]
    [InlineData(RunState.Moving)]
    [InlineData(RunState.Paused)]
    [InlineData(RunState.Completing)]
    public void A_fault_is_reachable_from_every_live_state(RunState from)
    {
        var m = new ExperimentStateMachine();
        m.Fire(RunTrigger.Start);
        if (from != RunState.Preflight) m.Fire(RunTrigger.PreflightPassed);
        if (from == RunState.Moving) m.Fire(RunTrigger.Decided);
        if (from == RunState.Paused) m.Fire(RunTrigger.Pause);
        if (from == RunState.Completing) m.Fire(RunTrigger.Finish);
        Assert.Equal(from, m.State);
        m.FireFault("test");
        Assert.Equal(RunState.Faulted, m.State);
        m.Fire(RunTrigger.Abort);
        Assert.Equal(RunState.Aborted, m.State);
    }

    [Fact]
    public void Forbidden_transitions_throw()
    {
        var m = new ExperimentStateMachine();
        Assert.False(m.CanFire(RunTrigger.Decided));
        Assert.Throws<InvalidOperationException>(() => m.Fire(RunTrigger.Decided));
        var r = Running();
        Assert.Throws<InvalidOperationException>(() => r.Fire(RunTrigger.FrameTaken)); // cannot acquire before moving
        Assert.Throws<ArgumentException>(() => r.Fire(RunTrigger.Fault)); // faults need a reason
    }

    [Fact]
    public void Transitions_are_reported_in_order()
    {
        var m = new ExperimentStateMachine();
        var log = new List<RunTransition>();
        m.Transitioned += log.Add;
        m.Fire(RunTrigger.Start);
        m.Fire(RunTrigger.Abort);
        Assert.Equal([new RunTransition(RunState.Idle, RunState.Preflight, RunTrigger.Start), new RunTransition(RunState.Preflight, RunState.Aborted, RunTrigger.Abort)], log);
    }

    [Fact]
    public void The_graph_exports_every_state()
    {
        var dot = new ExperimentStateMachine().ToDotGraph();
        foreach (var state in Enum.GetNames<RunState>()) Assert.Contains(state, dot);
    }
}

using AutonomousBeamline.Control.StateMachine;

namespace AutonomousBeamline.Control.Tests.StateMachine;

public class ExperimentStateMachineTests
{
    private static async Task<ExperimentStateMachine> Running(RunGuards? guards = null)
    {
        var m = new ExperimentStateMachine(guards);
        await m.FireAsync(RunTrigger.Start);
        await m.FireAsync(RunTrigger.PreflightPassed);
        return m;
    }

    private static RunGuards Guards(bool move, bool approval) => new(() => move, () => approval);

    [Fact]
    public async Task One_turn_of_the_loop_goes_Decide_Move_Acquire_Analyze_and_back()
    {
        var m = await Running();
        var seen = new List<RunState> { m.State };
        foreach (var t in new[] { RunTrigger.Decided, RunTrigger.Arrived, RunTrigger.FrameTaken, RunTrigger.Analyzed })
        {
            await m.FireAsync(t);
            seen.Add(m.State);
        }
        Assert.Equal([RunState.Deciding, RunState.Moving, RunState.Acquiring, RunState.Analyzing, RunState.Deciding], seen);
        Assert.True(m.IsRunning);
    }

    [Fact]
    public async Task The_guards_choose_the_way_out_of_deciding_a_move_an_approval_or_a_measurement_in_place()
    {
        var move = await Running(Guards(move: true, approval: false));
        Assert.False(move.CanFire(RunTrigger.DecidedInPlace));
        Assert.False(move.CanFire(RunTrigger.AwaitApproval));
        await move.FireAsync(RunTrigger.Decided);
        Assert.Equal(RunState.Moving, move.State);

        var approve = await Running(Guards(move: true, approval: true));
        Assert.False(approve.CanFire(RunTrigger.Decided));
        await approve.FireAsync(RunTrigger.AwaitApproval);
        await approve.FireAsync(RunTrigger.Approved);
        Assert.Equal(RunState.Moving, approve.State);

        var here = await Running(Guards(move: false, approval: true));
        Assert.False(here.CanFire(RunTrigger.Decided));
        Assert.False(here.CanFire(RunTrigger.AwaitApproval)); // a scan where the sample is needs no approval of a spot
        await here.FireAsync(RunTrigger.DecidedInPlace);
        Assert.Equal(RunState.Acquiring, here.State);
    }

    [Fact]
    public async Task A_retake_enters_acquiring_again_and_runs_its_work_again()
    {
        var m = new ExperimentStateMachine(Guards(move: false, approval: false));
        var entered = 0;
        m.OnEntry(RunState.Acquiring, () => { entered++; return Task.CompletedTask; });
        await m.FireAsync(RunTrigger.Start);
        await m.FireAsync(RunTrigger.PreflightPassed);
        await m.FireAsync(RunTrigger.DecidedInPlace);
        await m.FireAsync(RunTrigger.Retake);
        Assert.Equal((RunState.Acquiring, 2), (m.State, entered));
    }

    [Fact]
    public async Task Pause_from_any_running_substate_and_resume_re_decides()
    {
        var m = await Running();
        await m.FireAsync(RunTrigger.Decided);
        await m.FireAsync(RunTrigger.Arrived);
        await m.FireAsync(RunTrigger.Pause);
        Assert.Equal(RunState.Paused, m.State);
        Assert.False(m.IsRunning);
        await m.FireAsync(RunTrigger.Resume);
        Assert.Equal(RunState.Deciding, m.State); // never back to Acquiring: no replay
    }

    [Fact]
    public async Task Finishing_goes_through_completing()
    {
        var m = await Running();
        await m.FireAsync(RunTrigger.Finish);
        Assert.Equal(RunState.Completing, m.State);
        await m.FireAsync(RunTrigger.Finished);
        Assert.Equal(RunState.Completed, m.State);
        Assert.True(m.IsFinal);
    }

    [Theory]
    [InlineData(RunState.Preflight)]
    [InlineData(RunState.Moving)]
    [InlineData(RunState.Paused)]
    [InlineData(RunState.Completing)]
    public async Task A_fault_is_reachable_from_every_live_state(RunState from)
    {
        var m = new ExperimentStateMachine();
        await m.FireAsync(RunTrigger.Start);
        if (from != RunState.Preflight) await m.FireAsync(RunTrigger.PreflightPassed);
        if (from == RunState.Moving) await m.FireAsync(RunTrigger.Decided);
        if (from == RunState.Paused) await m.FireAsync(RunTrigger.Pause);
        if (from == RunState.Completing) await m.FireAsync(RunTrigger.Finish);
        Assert.Equal(from, m.State);
        await m.FireAsync(RunTrigger.Fault);
        Assert.Equal(RunState.Faulted, m.State);
        await m.FireAsync(RunTrigger.Abort);
        Assert.Equal(RunState.Aborted, m.State);
    }

    [Fact]
    public async Task Forbidden_transitions_throw()
    {
        var m = new ExperimentStateMachine();
        Assert.False(m.CanFire(RunTrigger.Decided));
        await Assert.ThrowsAsync<InvalidOperationException>(() => m.FireAsync(RunTrigger.Decided));
        var r = await Running();
        await Assert.ThrowsAsync<InvalidOperationException>(() => r.FireAsync(RunTrigger.FrameTaken)); // cannot acquire before moving
    }

    [Fact]
    public async Task Transitions_are_reported_in_order_before_the_new_states_work_runs()
    {
        var m = new ExperimentStateMachine();
        var log = new List<string>();
        m.Transitioned += t => log.Add($"{t.From}->{t.To} on {t.Trigger}");
        m.OnEntry(RunState.Preflight, () => { log.Add("preflight work"); return Task.CompletedTask; });
        await m.FireAsync(RunTrigger.Start);
        await m.FireAsync(RunTrigger.Abort);
        Assert.Equal(["Idle->Preflight on Start", "preflight work", "Preflight->Aborted on Abort"], log);
    }

    [Fact]
    public async Task An_exception_from_a_states_work_comes_out_of_the_fire_with_the_machine_in_that_state()
    {
        var m = new ExperimentStateMachine();
        m.OnEntry(RunState.Preflight, () => throw new InvalidOperationException("no potentiostat"));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => m.FireAsync(RunTrigger.Start));
        Assert.Equal("no potentiostat", e.Message);
        Assert.Equal(RunState.Preflight, m.State);
        Assert.True(m.CanFire(RunTrigger.Fault));
    }

    [Fact]
    public void The_graph_exports_every_state()
    {
        var dot = new ExperimentStateMachine().ToDotGraph();
        foreach (var state in Enum.GetNames<RunState>()) Assert.Contains(state, dot);
    }
}

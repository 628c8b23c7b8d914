using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Control.Decisions;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Control.Steps;
using AutonomousBeamline.Control.Suspenders;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Core.Time;
using AutonomousBeamline.Learning;
using static AutonomousBeamline.Control.StateMachine.RunTrigger;

namespace AutonomousBeamline.Control.Engine;

/// <summary>
/// The experiment's loop, in one file. The state machine drives it: each state's work is its entry action and ends by
/// naming the trigger to fire next, so <see cref="RunAsync"/> only fires triggers until none is left. Deciding asks the
/// planners (through the arbiter) for the next step; Moving, Acquiring and Analyzing carry it out under the step's error
/// policy; the suspenders are checked as a level before every acquisition; the operator inbox is drained in one place
/// (<see cref="Course"/>); every failure goes through one recovery policy (<see cref="OnError"/>). The cycler runs the
/// cell alongside, on its own clock actor.
/// </summary>
public sealed class RunEngine : IExperimentOperations
{
    private static readonly TimeSpan PausedPoll = TimeSpan.FromSeconds(1), ApprovalPoll = TimeSpan.FromSeconds(0.5);

    private readonly RunPlan _plan;
    private readonly RunLearning _learning;
    private readonly TimeProvider _time;
    private readonly ExperimentStateMachine _machine;
    private readonly RunCrew _crew;
    private StepPlanner? _planner;
    private CancellationToken _ct;
    private RunTrigger? _next;
    private IMeasurementStep? _step;
    private Frame? _frame;
    private Trip? _trip;
    private (string Device, string Cause)? _fault;
    private (ExitStatus Status, string Reason)? _end;
    private int _spotsMeasured;
    private bool _xasDue;

    public RunEngine(RunPlan plan, RunDevices devices, RunLearning learning, IRunJournal journal, IFrameStore frames, TimeProvider time,
        string runId = "", Resume.ResumeState? resume = null)
    {
        (_plan, _learning, _time, RunId) = (plan, learning, time, runId);
        Cycler = new Cycler(devices.Potentiostat, plan.Protocol, plan.Cell, time, journal) { Thermometer = devices.Temperature };
        _crew = RunCrew.Assemble(plan, devices, learning, journal, frames, time, runId, resume, Cycler);
        _spotsMeasured = _crew.Kept.Observations.Count(o => o.Kind == FrameKind.Xrd);
        _machine = new ExperimentStateMachine(new RunGuards(() => _step?.Target is not null, () => Status.Knobs.ApprovalWindowS > 0));
        _machine.Transitioned += t =>
        {
            // The state is visible to operators before the record is, so a watcher reacting to the record sees the state it describes.
            _crew.Recorder.Status.Update(s => s with { State = t.To });
            // A journal that fails stops the work, never the way out: the cell is made safe whether or not this is recorded.
            try { journal.Write(new StateTransition(t.From, t.To, t.Trigger)); } catch (Exception e) when (e is IOException or ObjectDisposedException && t.To.IsWayOut()) { }
        };
        Work(RunState.Preflight, PreflightAsync);
        Work(RunState.Deciding, DecideAsync);
        Work(RunState.AwaitingApproval, AwaitApprovalAsync);
        Work(RunState.Moving, MoveAsync);
        Work(RunState.Acquiring, AcquireAsync);
        Work(RunState.Analyzing, AnalyzeAsync);
        Work(RunState.Paused, PausedAsync);
        Work(RunState.Suspended, SuspendedAsync);
        Work(RunState.Faulted, FaultedAsync);
        Work(RunState.Completing, async () => { await _crew.Cell.EndAsync("end of run"); return Finished; }, evenWhenCancelled: true);
        Work(RunState.Aborted, async () => { await _crew.Cell.EndAsync(_end?.Status == ExitStatus.Fail ? "fault" : "abort"); return null; }, evenWhenCancelled: true);
    }

    public string RunId { get; }
    public Cycler Cycler { get; }
    public RunState State => _machine.State;
    public RunStatus Status => _crew.Recorder.Status.Current;
    public IRunJournal Journal => _crew.Recorder.Journal;
    public event Action<RunProgress>? Progress { add => _crew.Recorder.Progress += value; remove => _crew.Recorder.Progress -= value; }
    public CommandOutcome Apply(OperatorCommand command) => _crew.Desk.Apply(command);
    public Task<string> EmergencyHalt(string reason) => _crew.Cell.Halt(reason); // a signal, an unhandled failure
    public ExperimentSnapshot Snapshot() => _crew.Desk.Snapshot();

    /// <summary>Runs the experiment to its end. On the thread pool, so the loop never depends on the caller's synchronization context.</summary>
    public Task<RunOutcome> RunAsync(CancellationToken cancellationToken) => Task.Run(() => RunLoopAsync(cancellationToken), CancellationToken.None);

    private async Task<RunOutcome> RunLoopAsync(CancellationToken cancellationToken)
    {
        using var actor = Core.Time.Clock.JoinAsActor(_time);
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _crew.Cell.Halted);
        _ct = run.Token;
        var (startedAt, experiment, strategy) = (_time.GetUtcNow(), _plan.Experiment, _plan.Acquisition.Strategy);
        _crew.Recorder.Write(_crew.Resumption is null ? new RunStarted(experiment, strategy, RunId) : new RunResumeStarted(experiment, strategy, RunId));
        for (RunTrigger? next = Start; next is { } trigger;)
        {
            _next = null;
            try { await _machine.FireAsync(trigger).ConfigureAwait(false); next = _next; }
            catch (Exception e) { next = OnError(e); }
        }
        var counts = Status.Counts;
        var (exit, reason) = RunOutcome.Judge(_end ?? (ExitStatus.Success, "finished"), counts);
        _crew.Recorder.Journal.TryWrite(new RunEnded(exit, reason, counts.Observations, counts.FramesAcquired)); // if the journal can still take it
        return RunOutcome.Of(exit, reason, _crew.Kept.Observations, counts, _crew.Kept.FramesStored, Cycler.StepsCompleted, startedAt, _time.GetUtcNow());
    }

    private async Task<RunTrigger?> PreflightAsync()
    {
        if (_crew.Resumption is not null) await _crew.Resumption.CheckCellAsync(_crew.Preflight, _crew.Kept, Context, _ct);
        var report = await _crew.Preflight.RunAsync(_ct);
        _planner = StepPlanner.Create(_plan, _learning, report.Motion, _crew.Recorder);
        var at = report.Status.Positions;
        _crew.Recorder.Status.Update(s => s with { Position = new SpotMm(at.GetValueOrDefault(_plan.Axes.X), at.GetValueOrDefault(_plan.Axes.Y)) });
        _crew.Recorder.Observe(report.Status);
        _crew.Resumption?.Continue(Cycler, _crew.Kept.Observations.Count);
        if (_learning.CRatePlanner is { } rates)
            Cycler.StepBoundary += new CRatePolicy(rates, Cycler, _plan.Protocol.CRateByCycle.Count > 0, () => Status, () => _crew.Kept.Observations, _time, _crew.Recorder.Decision).OnStepBoundary;
        _crew.Cell.StartCycler(Cycler, _time);
        return PreflightPassed;
    }

    private async Task<RunTrigger?> DecideAsync()
    {
        if (Course(RunState.Deciding) is { } asked) return asked;
        await _crew.Suspenders.CheckAsync(onlyFatal: true, _ct);
        if (_crew.Cell.Cycling!.IsCompleted) return End(ExitStatus.Success, "the cycling protocol is complete");
        if (Status.BudgetSpent() is { } spent) return End(ExitStatus.Success, spent);
        if (_xasDue)
        {
            // An absorption scan at every xas_every-th spot, where the sample already is.
            _xasDue = false;
            _step = _planner!.ScanHere(_crew.Kept.Scans, _step!.ChosenBy);
            return DecidedInPlace;
        }
        if (_learning.ModelSettled is { } settled) await settled(_ct);
        var here = Status.Position;
        _step = _planner!.NextSpot(_crew.Kept.Observations, _crew.Kept.Scans, new RoiContext(here.X, here.Y, Cycler.EstimateStateOfCharge(_time.GetUtcNow()), Cycler.Latest.CRate));
        if (Status.Knobs.ApprovalWindowS <= 0) return Decided;
        // Pending before the transition is journalled, so an operator who reacts to it finds a decision to veto.
        _crew.Recorder.Status.Update(s => s with { PendingDecision = new TimedDecision(_time.GetUtcNow(), _step.Decision) });
        return AwaitApproval;
    }

    private async Task<RunTrigger?> AwaitApprovalAsync()
    {
        try
        {
            var deadline = _time.GetUtcNow() + TimeSpan.FromSeconds(Status.Knobs.ApprovalWindowS);
            return await WaitAsync(RunState.AwaitingApproval, ApprovalPoll, () => _time.GetUtcNow() >= deadline ? Approved : null);
        }
        finally
        {
            _crew.Recorder.Status.Update(s => s with { PendingDecision = null });
        }
    }

    private async Task<RunTrigger?> MoveAsync()
    {
        var target = _step!.Target!.Value;
        var axes = new Dictionary<string, double> { [_plan.Axes.X] = target.X, [_plan.Axes.Y] = target.Y };
        await _crew.Steps.RunAsync(_step, "move", ct => _crew.Devices.Motion.MoveAsync(axes, ct), _ct);
        _crew.Recorder.Status.Update(s => s with { Position = target });
        return Arrived;
    }

    private async Task<RunTrigger?> AcquireAsync()
    {
        if (await _crew.Suspenders.CheckAsync(onlyFatal: false, _ct) is [var first, ..])
        {
            _trip = first;
            return Suspend;
        }
        var step = _step!;
        var frame = await _crew.Steps.RunAsync(step, "acquire", ct => _crew.Cell.WithShutterOpenAsync(c => step.AcquireAsync(_crew.Devices.Detector, c), ct), _ct);
        _crew.Recorder.Counts(c => c with { FramesAcquired = c.FramesAcquired + 1, BeamTimeUsedS = c.BeamTimeUsedS + step.BeamSeconds });
        _frame = frame;
        if (frame.Header.BeamCurrentMa >= _plan.Beam.ThresholdMa) return FrameTaken;
        _crew.Kept.KeepWithoutBeam(frame, _plan.Beam.ThresholdMa, Status.Position);
        return Retake;
    }

    private Task<RunTrigger?> AnalyzeAsync()
    {
        _crew.Kept.Keep(_frame!, Context(_step!.ChosenBy, _crew.Kept.Observations.Count + 1), _step.Decision.Reason);
        if (_step.Kind == FrameKind.Xrd) _xasDue = _plan.Acquisition.TakesXas && ++_spotsMeasured % _plan.Acquisition.XasEvery == 0;
        return Task.FromResult<RunTrigger?>(Analyzed);
    }

    private async Task<RunTrigger?> PausedAsync()
    {
        await _crew.Cell.SetShutterAsync(false, _ct);
        return await WaitAsync(RunState.Paused, PausedPoll, () => null);
    }

    /// <summary>Shutter closed, until every suspender that tripped has been clear for its settle time (or an operator acts).</summary>
    private async Task<RunTrigger?> SuspendedAsync() =>
        await _crew.Suspenders.SuspendAsync(_trip!, ct => _crew.Cell.SetShutterAsync(false, ct), () => Course(RunState.Suspended), _ct);

    private async Task<RunTrigger?> FaultedAsync()
    {
        if (_end is not null) return Abort; // not a beamline fault: the run ends, and Aborted leaves the cell safe
        var (device, cause) = _fault!.Value;
        _crew.Recorder.Report($"fault: {cause}; the cell continues its protocol, retrying the beamline");
        await _crew.Recovery.RecoverAsync(device, cause, _ct);
        return Recovered;
    }

    /// <summary>
    /// Drains the operator inbox, the one place commands reach the loop: knob changes are applied and journalled; the first
    /// command that changes the run's course is acted on as the state <paramref name="during"/> allows (the rest wait).
    /// </summary>
    private RunTrigger? Course(RunState during)
    {
        while (_crew.Inbox.TryRead(out var command))
        {
            var by = command.By.ToString();
            switch (command)
            {
                case SkipToEndCommand:
                    return End(ExitStatus.Success, $"operator {by} skipped to the end");
                case PauseCommand when during is not (RunState.Paused or RunState.Suspended):
                    _crew.Recorder.Report($"paused by {by}; the cell continues its protocol");
                    return Pause;
                case SuspendCommand when during is not RunState.Suspended:
                    _crew.Suspenders.Hold.Engage(by);
                    _trip = new Trip(_crew.Suspenders.Hold, SuspenderReading.Trip($"operator {by}"));
                    return Suspend;
                case ResumeCommand when during is RunState.Paused:
                    _crew.Recorder.Write(new SuspensionEnded($"operator {by}"));
                    _crew.Recorder.Report($"resumed by {by}; re-deciding from the present state");
                    return RunTrigger.Resume;
                case ResumeCommand when during is RunState.Suspended:
                    _crew.Suspenders.OperatorResumed(by);
                    break;
                case VetoCommand when during is RunState.AwaitingApproval:
                    _crew.Recorder.Write(new OperatorOverride(by, OverrideKind.Veto, _step!.Decision));
                    _crew.Recorder.Report($"decision vetoed by {by}");
                    return Vetoed;
                default:
                    if (KnobChange.Of(command, Status.Knobs) is not { } change) break;
                    _crew.Recorder.Status.Update(s => s with { Knobs = KnobChange.Of(command, s.Knobs)!.Knobs });
                    if (change.Record is { } record) _crew.Recorder.Write(record);
                    break;
            }
        }
        return null;
    }

    /// <summary>Waits on the run's clock until <paramref name="done"/> names a trigger, an operator acts, or the cell faults.</summary>
    private async Task<RunTrigger?> WaitAsync(RunState during, TimeSpan poll, Func<RunTrigger?> done)
    {
        while (true)
        {
            if ((Course(during) ?? done()) is { } next) return next;
            await _crew.Suspenders.CheckAsync(onlyFatal: true, _ct);
            await _time.SleepAsync(poll, _ct);
        }
    }

    /// <summary>
    /// The one recovery policy: a cancelled run aborts; a step whose error policy says recover (or skip) faults the beamline
    /// (or decides afresh) and the run goes on; anything else (a cell fault, a failed preflight, a journal that cannot
    /// write, a bug, a beamline that did not come back) ends the run through Faulted and Aborted, the cell safe.
    /// </summary>
    private RunTrigger? OnError(Exception e)
    {
        var state = _machine.State;
        if (e is OperationCanceledException && _ct.IsCancellationRequested)
        {
            End(ExitStatus.Abort, _crew.Cell.HaltReason ?? "aborted on request");
            return state == RunState.Aborted ? null : Abort;
        }
        if (BeamlineFault.Of(e) is { } beamline && _end is null && state is not (RunState.Preflight or RunState.Faulted))
        {
            _crew.Recorder.Fault(beamline.Device, beamline.Cause);
            _fault = (beamline.Device, beamline.Cause);
            return beamline.Action == StepErrorAction.Skip ? Redecide : Fault;
        }
        End(ExitStatus.Fail, e.Message);
        _crew.Cell.GoSafeNow().Wait(CellSafety.SafeStateWait); // the cell first (bounded: a dead link must not hold the ending), the journal after
        _crew.Recorder.Fault(e is RunEndedBySuspenderException s ? s.Suspender : e.GetType().Name, e.Message);
        if (state == RunState.Aborted) return null;
        return state != RunState.Faulted && _machine.CanFire(Fault) ? Fault : Abort;
    }

    /// <summary>A state's work runs as its entry action; the trigger it returns is fired next. A cancelled run does no more work but its ending.</summary>
    private void Work(RunState state, Func<Task<RunTrigger?>> work, bool evenWhenCancelled = false) => _machine.OnEntry(state, async () =>
    {
        if (!evenWhenCancelled) _ct.ThrowIfCancellationRequested();
        _next = await work();
    });

    /// <summary>The first reason to end wins; returns the trigger that ends measuring.</summary>
    private RunTrigger End(ExitStatus status, string reason)
    {
        _end ??= (status, reason);
        return Finish;
    }

    private FrameContext Context(DecisionSource chosenBy, long sequence) =>
        new(sequence, Status.Position, Cycler.Latest.CRate, Cycler.EstimateStateOfCharge, chosenBy);
}

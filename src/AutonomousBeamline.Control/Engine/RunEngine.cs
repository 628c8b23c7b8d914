using System.Threading.Channels;
using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Control.Decisions;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.Resume;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Control.Steps;
using AutonomousBeamline.Control.Suspenders;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
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
    private readonly RunDevices _devices;
    private readonly RunLearning _learning;
    private readonly TimeProvider _time;
    private readonly ResumeState? _resume;
    private readonly ExperimentStateMachine _machine;
    private readonly RunRecorder _recorder;
    private readonly OperatorDesk _desk;
    private readonly CellSafety _cell;
    private readonly Channel<OperatorCommand> _inbox = Channel.CreateUnbounded<OperatorCommand>();
    private readonly CancellationTokenSource _halt = new();
    private readonly Preflight _preflight;
    private readonly BeamlineRecovery _recovery;
    private readonly StepRunner _steps;
    private readonly ObservationKeeper _kept;
    private readonly IFrameStore _frames;
    private readonly SuspenderSet _suspenders;
    private StepPlanner? _planner;
    private CancellationToken _ct;
    private RunTrigger? _next;
    private IMeasurementStep? _step;
    private Frame? _frame;
    private Trip? _trip;
    private StepFailedException? _fault;
    private (ExitStatus Status, string Reason)? _end;
    private string? _haltReason;
    private int _spotsMeasured;
    private bool _xasDue;

    public RunEngine(RunPlan plan, RunDevices devices, RunLearning learning, IRunJournal journal, IFrameStore frames, TimeProvider time,
        string runId = "", ResumeState? resume = null)
    {
        (_plan, _devices, _learning, _frames, _time, _resume, RunId) = (plan, devices, learning, frames, time, resume, runId);
        Cycler = new Cycler(devices.Potentiostat, plan.Protocol, plan.Cell, time, journal);
        var status = new StatusBoard(new RunStatus
        {
            Knobs = resume?.Knobs ?? new OperatorKnobs { Budget = plan.Budget, ApprovalWindowS = plan.ApprovalWindowS },
            Counts = resume?.Counts ?? new RunCounts(),
        });
        _recorder = new RunRecorder(journal, status, time, () => Cycler.Latest.StateOfCharge);
        _cell = new CellSafety(devices, _recorder);
        _desk = new OperatorDesk(plan, runId, _recorder, Cycler, time, _inbox.Writer, Halt, learning.CurrentMap);
        _preflight = new Preflight(plan, devices, journal, _recorder.Report);
        _recovery = new BeamlineRecovery(devices, journal, time, Observe);
        _steps = new StepRunner(time, journal);
        _suspenders = new SuspenderSet(plan, devices, Cycler, () => _cell.CellFault, Observe, _recorder, time);
        _kept = new ObservationKeeper(new FrameAnalysis(learning.Analyzer, learning.XasAnalyzer, plan.Axes), frames, _recorder, _suspenders.Unusable,
            learning.ObservationAdded, resume?.Observations ?? []);
        _spotsMeasured = _kept.Observations.Count(o => o.Kind == FrameKind.Xrd);

        _machine = new ExperimentStateMachine(new RunGuards(() => _step?.Target is not null, () => Status.Knobs.ApprovalWindowS > 0));
        _machine.Transitioned += t =>
        {
            // The state is visible to operators before the record is, so a watcher reacting to the record sees the state it describes.
            status.Update(s => s with { State = t.To });
            journal.Write(new StateTransition(t.From, t.To, t.Trigger));
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
        Work(RunState.Completing, async () => { await _cell.EndAsync("end of run"); return Finished; }, evenWhenCancelled: true);
        Work(RunState.Aborted, async () => { await _cell.EndAsync(_end?.Status == ExitStatus.Fail ? "fault" : "abort"); return null; }, evenWhenCancelled: true);
    }

    public string RunId { get; }
    public Cycler Cycler { get; }
    public RunState State => _machine.State;
    public RunStatus Status => _recorder.Status.Current;
    public IRunJournal Journal => _recorder.Journal;
    public event Action<RunProgress>? Progress { add => _recorder.Progress += value; remove => _recorder.Progress -= value; }
    public CommandOutcome Apply(OperatorCommand command) => _desk.Apply(command);
    public ExperimentSnapshot Snapshot() => _desk.Snapshot();

    /// <summary>Runs the experiment to its end. On the thread pool, so the loop never depends on the caller's synchronization context.</summary>
    public Task<RunOutcome> RunAsync(CancellationToken cancellationToken) => Task.Run(() => RunLoopAsync(cancellationToken), CancellationToken.None);

    private async Task<RunOutcome> RunLoopAsync(CancellationToken cancellationToken)
    {
        using var actor = Core.Time.Clock.JoinAsActor(_time);
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _halt.Token);
        _ct = run.Token;
        var startedAt = _time.GetUtcNow();
        var (experiment, strategy) = (_plan.Experiment, _plan.Acquisition.Strategy);
        _recorder.Write(_resume is null ? new RunStarted(experiment, strategy, RunId) : new RunResumeStarted(experiment, strategy, RunId));
        for (RunTrigger? next = Start; next is { } trigger;)
        {
            _next = null;
            try { await _machine.FireAsync(trigger).ConfigureAwait(false); next = _next; }
            catch (Exception e) { next = OnError(e); }
        }
        var (exit, reason) = _end ?? (ExitStatus.Success, "finished");
        var counts = Status.Counts;
        _recorder.Write(new RunEnded(exit, reason, counts.Observations, counts.FramesAcquired));
        return new RunOutcome
        {
            ExitStatus = exit, Reason = reason, Observations = _kept.Observations, Decisions = counts.Decisions, Faults = counts.Faults,
            FramesAcquired = counts.FramesAcquired, FramesRejected = counts.FramesRejected, FramesStored = _frames.Count,
            ProtocolSteps = Cycler.StepsCompleted, Suspensions = counts.Suspensions, StartedAt = startedAt, EndedAt = _time.GetUtcNow(),
        };
    }

    // ---- the states' work ---------------------------------------------------------------------------------------------

    private async Task<RunTrigger?> PreflightAsync()
    {
        if (_resume is { } crashed)
        {
            await _preflight.CheckCellAfterCrashAsync(crashed.LastRecordTime, crashed.Observations.Count, _ct);
            foreach (var (sequence, frame) in crashed.UnjournalledFrames.OrderBy(f => f.Sequence))
                _kept.Keep(frame, Context(DecisionSource.Recovered, sequence), "recovered", recovered: true);
        }
        var report = await _preflight.RunAsync(_ct);
        var planner = _learning.CreatePlanner(report.Motion);
        foreach (var region in Status.Knobs.Exclusions) planner.Exclude(region);
        _planner = new StepPlanner(_plan, planner, _learning.EnergyPlanner, _recorder);
        var at = report.Status.Positions;
        _recorder.Status.Update(s => s with { Position = new SpotMm(at.GetValueOrDefault(_plan.Axes.X), at.GetValueOrDefault(_plan.Axes.Y)) });
        Observe(report.Status);
        if (_resume is { } r)
        {
            Cycler.ResumeAt(r.StepsCompleted, r.StateOfCharge, r.RequestedCRate);
            _recorder.Write(new RunResumed(_kept.Observations.Count, Status.Counts.FramesAcquired, r.StepsCompleted, r.StateOfCharge, (_time.GetUtcNow() - r.LastRecordTime).TotalSeconds));
            _recorder.Report($"resumed with {_kept.Observations.Count} observations and {Status.Counts.FramesAcquired} frames; the protocol goes on from step {r.StepsCompleted + 1}; re-deciding from the present state");
        }
        if (_learning.CRatePlanner is { } rates)
            Cycler.StepBoundary += new CRatePolicy(rates, Cycler, _plan.Protocol.CRateByCycle.Count > 0, () => Status, () => _kept.Observations, _time, _recorder.Decision).OnStepBoundary;
        _cell.StartCycler(Cycler, _time);
        return PreflightPassed;
    }

    private async Task<RunTrigger?> DecideAsync()
    {
        if (Course(RunState.Deciding) is { } asked) return asked;
        await _suspenders.CheckAsync(onlyFatal: true, _ct);
        if (_cell.Cycling!.IsCompleted) return End(ExitStatus.Success, "the cycling protocol is complete");
        if (Status.BudgetSpent() is { } spent) return End(ExitStatus.Success, spent);
        if (_xasDue)
        {
            // An absorption scan at every xas_every-th spot, where the sample already is.
            _xasDue = false;
            _step = _planner!.ScanHere(_kept.Scans, _step!.ChosenBy);
            return DecidedInPlace;
        }
        if (_learning.ModelSettled is { } settled) await settled(_ct);
        var here = Status.Position;
        _step = _planner!.NextSpot(_kept.Observations, _kept.Scans, new RoiContext(here.X, here.Y, Cycler.EstimateStateOfCharge(_time.GetUtcNow()), Cycler.Latest.CRate));
        return Status.Knobs.ApprovalWindowS > 0 ? AwaitApproval : Decided;
    }

    private async Task<RunTrigger?> AwaitApprovalAsync()
    {
        _recorder.Status.Update(s => s with { PendingDecision = new TimedDecision(_time.GetUtcNow(), _step!.Decision) });
        try
        {
            var deadline = _time.GetUtcNow() + TimeSpan.FromSeconds(Status.Knobs.ApprovalWindowS);
            return await WaitAsync(RunState.AwaitingApproval, ApprovalPoll, () => _time.GetUtcNow() >= deadline ? Approved : null);
        }
        finally
        {
            _recorder.Status.Update(s => s with { PendingDecision = null });
        }
    }

    private async Task<RunTrigger?> MoveAsync()
    {
        var target = _step!.Target!.Value;
        var axes = new Dictionary<string, double> { [_plan.Axes.X] = target.X, [_plan.Axes.Y] = target.Y };
        await _steps.RunAsync(_step, "move", ct => _devices.Motion.MoveAsync(axes, ct), _ct);
        _recorder.Status.Update(s => s with { Position = target });
        return Arrived;
    }

    private async Task<RunTrigger?> AcquireAsync()
    {
        if (await _suspenders.CheckAsync(onlyFatal: false, _ct) is [var first, ..])
        {
            _trip = first;
            return Suspend;
        }
        var step = _step!;
        var frame = await _steps.RunAsync(step, "acquire", async ct =>
        {
            await _cell.SetShutterAsync(true, ct);
            try { return await step.AcquireAsync(_devices.Detector, ct); }
            finally { await _cell.SetShutterAsync(false, CancellationToken.None); }
        }, _ct);
        _recorder.Counts(c => c with { FramesAcquired = c.FramesAcquired + 1, BeamTimeUsedS = c.BeamTimeUsedS + step.BeamSeconds });
        if (frame.Header.BeamCurrentMa >= _plan.Beam.ThresholdMa)
        {
            _frame = frame;
            return FrameTaken;
        }
        _recorder.Counts(c => c with { FramesRejected = c.FramesRejected + 1 });
        _frames.Store(frame, FrameFate.NoBeam);
        _recorder.Write(new FrameNotCounted(frame.Header.Frame, null, FormattableString.Invariant($"beam {frame.Header.BeamCurrentMa:0.0} mA below threshold during the exposure")));
        return Retake;
    }

    private Task<RunTrigger?> AnalyzeAsync()
    {
        _kept.Keep(_frame!, Context(_step!.ChosenBy, _kept.Observations.Count + 1), _step.Decision.Reason);
        if (_step.Kind == FrameKind.Xrd) _xasDue = _plan.Acquisition.TakesXas && ++_spotsMeasured % _plan.Acquisition.XasEvery == 0;
        return Task.FromResult<RunTrigger?>(Analyzed);
    }

    private async Task<RunTrigger?> PausedAsync()
    {
        await _cell.SetShutterAsync(false, _ct);
        return await WaitAsync(RunState.Paused, PausedPoll, () => null);
    }

    /// <summary>Shutter closed, until every suspender that tripped has been clear for its settle time (or an operator acts).</summary>
    private async Task<RunTrigger?> SuspendedAsync()
    {
        var (first, reading) = _trip!;
        var beam = first is BeamCurrentSuspender;
        _recorder.Counts(c => c with { Suspensions = c.Suspensions + 1 });
        _recorder.Write(new Suspended(reading.Reason, first.Name, beam ? reading.Value : null, beam ? _plan.Beam.ThresholdMa : null, first == _suspenders.Hold ? "held at open circuit" : null));
        await _cell.SetShutterAsync(false, _ct);
        return await _suspenders.WaitOutAsync(_trip, () => Course(RunState.Suspended), _ct);
    }

    private async Task<RunTrigger?> FaultedAsync()
    {
        if (_end is not null) return Abort; // not a beamline fault: the run ends, and Aborted leaves the cell safe
        var cause = _fault!.InnerException!.Message;
        _recorder.Report($"fault: {cause}; the cell continues its protocol, retrying the beamline");
        await _recovery.RecoverAsync(_fault.Device, cause, _ct);
        return Recovered;
    }

    // ---- one inbox, one check of the suspenders, one recovery policy ------------------------------------------------------

    /// <summary>
    /// Drains the operator inbox, the one place commands reach the loop: knob changes are applied and journalled; the first
    /// command that changes the run's course is acted on as the state <paramref name="during"/> allows (the rest wait).
    /// </summary>
    private RunTrigger? Course(RunState during)
    {
        while (_inbox.Reader.TryRead(out var command))
        {
            var by = command.By.ToString();
            switch (command)
            {
                case SkipToEndCommand:
                    return End(ExitStatus.Success, $"operator {by} skipped to the end");
                case PauseCommand when during is not (RunState.Paused or RunState.Suspended):
                    _recorder.Report($"paused by {by}; the cell continues its protocol");
                    return Pause;
                case SuspendCommand when during is not RunState.Suspended:
                    _suspenders.Hold.Engage(by);
                    _trip = new Trip(_suspenders.Hold, SuspenderReading.Trip($"operator {by}"));
                    return Suspend;
                case ResumeCommand when during is RunState.Paused:
                    _recorder.Write(new SuspensionEnded($"operator {by}"));
                    _recorder.Report($"resumed by {by}; re-deciding from the present state");
                    return RunTrigger.Resume;
                case ResumeCommand when during is RunState.Suspended:
                    _suspenders.OperatorResumed(by);
                    break;
                case VetoCommand when during is RunState.AwaitingApproval:
                    _recorder.Write(new OperatorOverride(by, OverrideKind.Veto, _step!.Decision));
                    _recorder.Report($"decision vetoed by {by}");
                    return Vetoed;
                default:
                    if (KnobChange.Of(command, Status.Knobs) is not { } change) break;
                    _recorder.Status.Update(s => s with { Knobs = KnobChange.Of(command, s.Knobs)!.Knobs });
                    if (change.Record is { } record) _recorder.Write(record);
                    if (change.Excluded is { } region) _planner?.Exclude(region);
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
            await _suspenders.CheckAsync(onlyFatal: true, _ct);
            await Task.Delay(poll, _time, _ct);
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
            End(ExitStatus.Abort, _haltReason ?? "aborted on request");
            return state == RunState.Aborted ? null : Abort;
        }
        if (e is StepFailedException { Action: not StepErrorAction.EndRun } failed && _end is null && state != RunState.Faulted)
        {
            _recorder.Fault(failed.Device, failed.InnerException!.Message);
            _fault = failed;
            return failed.Action == StepErrorAction.Skip ? Redecide : Fault;
        }
        End(ExitStatus.Fail, e.Message);
        _recorder.Fault(e is RunEndedBySuspenderException s ? s.Suspender : e.GetType().Name, e.Message);
        if (state == RunState.Aborted) return null;
        return state != RunState.Faulted && _machine.CanFire(Fault) ? Fault : Abort;
    }

    // ---- small helpers --------------------------------------------------------------------------------------------------

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

    private void Observe(MotionStatus status) => _recorder.Status.Update(s => s with { BeamCurrentMa = status.BeamCurrentMa });

    private void Halt(OperatorIdentity by)
    {
        _haltReason = $"emergency halt by {by}";
        _cell.HaltNow();
        _halt.Cancel();
    }
}

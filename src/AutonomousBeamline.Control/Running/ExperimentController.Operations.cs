using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Core.Time;
using AutonomousBeamline.Learning.Acquisition;

namespace AutonomousBeamline.Control.Running;

/// <summary>
/// The operator's side of the controller: commands are validated here, on the caller's thread, against the
/// config and the safety window, and either refused with a reason or queued for the loop, which acts on them
/// at its next safe point. Everything an operator does is journalled with who did it.
/// </summary>
public sealed partial class ExperimentController : IExperimentOperations
{
    private const int RecentItems = 10;

    private readonly object _gate = new();
    private RunState _state = RunState.Idle;
    private (double X, double Y) _position;
    private double _beam;
    private bool _shutterOpen;
    private int _framesBudget;
    private double _beamTimeBudgetS;
    private double _approvalWindowS;
    private Decision? _pendingDecision;
    private (GotoRoiCommand Command, DateTimeOffset At)? _forcedRoi;
    private VetoCommand? _veto;
    private string? _abortReason;
    private readonly List<ExcludeRegionCommand> _exclusions = new();
    private readonly HashSet<Knob> _locks = new();
    private readonly LinkedList<DecisionView> _recentDecisions = new();
    private readonly LinkedList<FaultView> _recentFaults = new();

    public CommandOutcome Apply(OperatorCommand command)
    {
        CommandOutcome outcome;
        try { outcome = Validate(command); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            outcome = CommandOutcome.Refused(e.Message);
        }
        // After the run the journal is closed; such a command is refused anyway.
        _journal.TryWrite("operator_command", new
        {
            by = command.By.ToString(), user = command.By.User, host = command.By.Host,
            command = command.GetType().Name.Replace("Command", ""), args = command,
            accepted = outcome.Accepted, message = outcome.Message,
        });
        return outcome;
    }

    private CommandOutcome Validate(OperatorCommand command)
    {
        var state = CurrentState;
        if (state is RunState.Completed or RunState.Aborted or RunState.Completing)
            return CommandOutcome.Refused($"the run is {state}; it takes no more commands");
        var roi = _config.Search.Roi;
        switch (command)
        {
            case PauseCommand:
                if (state == RunState.Paused) return CommandOutcome.Refused("already paused");
                Enqueue(command);
                return CommandOutcome.Applied("pausing at the next safe point (between frames); the cell stays on its protocol");
            case ResumeCommand:
                if (state is not (RunState.Paused or RunState.Suspended))
                    return CommandOutcome.Refused($"nothing to resume: the run is {state}");
                Enqueue(command);
                return CommandOutcome.Applied("resuming; the next spot is decided from the present state");
            case SuspendCommand:
                Enqueue(command);
                return CommandOutcome.Applied("suspending at the next safe point: shutter closed, the cell held at open circuit, until resume");
            case SkipToEndCommand:
                Enqueue(command);
                return CommandOutcome.Applied("skipping to the end: measuring stops, the end-of-run cleanup runs");
            case HaltCommand:
                lock (_gate) _abortReason = $"emergency halt by {command.By}";
                // Output off now, not at the next safe point: stopping the cycler ends its step and turns the
                // output off (so no later step can turn it on again); the loop then aborts.
                _cyclerStop.Cancel();
                _ = Task.Run(() => _devices.Potentiostat.EnterSafeStateAsync(CancellationToken.None));
                Enqueue(command);
                return CommandOutcome.Applied("halting: output off now, then abort");
            case GotoRoiCommand g:
                if (!double.IsFinite(g.XMm) || !double.IsFinite(g.YMm) || g.XMm < roi.XMinMm || g.XMm > roi.XMaxMm || g.YMm < roi.YMinMm || g.YMm > roi.YMaxMm)
                    return CommandOutcome.Refused($"({g.XMm}, {g.YMm}) mm is outside the ROI x [{roi.XMinMm}, {roi.XMaxMm}], y [{roi.YMinMm}, {roi.YMaxMm}] mm");
                if (IsExcluded(g.XMm, g.YMm) is { } region) return CommandOutcome.Refused($"({g.XMm}, {g.YMm}) mm lies in excluded region {region}");
                lock (_gate) _forcedRoi = (g, _time.GetUtcNow());
                return CommandOutcome.Applied($"the next frame will be taken at ({g.XMm}, {g.YMm}) mm");
            case SetCRateCommand c:
                if (!double.IsFinite(c.CRate) || c.CRate <= 0 || c.CRate > _config.Cell.MaxCRate)
                    return CommandOutcome.Refused($"C-rate {c.CRate} is outside the safety window (0, {_config.Cell.MaxCRate}]");
                var current = c.CRate * _config.Cell.NominalCapacityAh;
                if (_config.Cell.MaxCurrentA is { } maxI && current > maxI)
                    return CommandOutcome.Refused($"C-rate {c.CRate} means {current:0.######} A, above the cell's max_current_a {maxI} A");
                _cycler.RequestCRate(c.CRate, command.By.ToString());
                _counters.Decision(DecisionKind.CRate);
                return CommandOutcome.Applied($"C-rate {c.CRate} from the next constant-current step");
            case SetEnergyRangeCommand r:
                if (!TakesXas) return CommandOutcome.Refused($"this run takes no XAS scans (acquisition.kind is '{_config.Acquisition.Kind}')");
                var window = EnergyWindowConfig;
                if (!double.IsFinite(r.StartEv) || !double.IsFinite(r.StopEv) || !(r.StartEv < r.StopEv))
                    return CommandOutcome.Refused($"an energy range needs start < stop, got {r.StartEv}-{r.StopEv} eV");
                if (r.StartEv < window.StartEv || r.StopEv > window.StopEv)
                    return CommandOutcome.Refused($"{r.StartEv}-{r.StopEv} eV leaves the configured window '{window.Name}' ({window.StartEv}-{window.StopEv} eV)");
                if (!(r.StepEv >= 0.05) || (r.StopEv - r.StartEv) / r.StepEv > 5000)
                    return CommandOutcome.Refused($"a step of {r.StepEv} eV is too fine (at least 0.05 eV and at most 5000 points)");
                lock (_gate) _forcedEnergies = (r, _time.GetUtcNow());
                return CommandOutcome.Applied($"the next XAS scan will cover {r.StartEv}-{r.StopEv} eV in {r.StepEv} eV steps");
            case VetoCommand v:
                lock (_gate)
                {
                    if (_pendingDecision is null)
                        return CommandOutcome.Refused(_approvalWindowS > 0 ? "no decision is waiting for approval right now" : "no decision is waiting: the approval window is 0 s (set one with 'approval SECONDS')");
                    _veto = v;
                }
                return CommandOutcome.Applied("the pending decision is vetoed; the planner decides again");
            case LockKnobCommand l:
                lock (_gate)
                {
                    if (l.Locked) _locks.Add(l.Knob); else _locks.Remove(l.Knob);
                }
                return CommandOutcome.Applied($"{l.Knob} {(l.Locked ? "locked at its present value" : "released to the learner")}");
            case ExcludeRegionCommand e:
                if (!(e.XMinMm < e.XMaxMm) || !(e.YMinMm < e.YMaxMm))
                    return CommandOutcome.Refused($"an excluded region needs xmin < xmax and ymin < ymax, got x [{e.XMinMm}, {e.XMaxMm}], y [{e.YMinMm}, {e.YMaxMm}]");
                if (e.XMaxMm < roi.XMinMm || e.XMinMm > roi.XMaxMm || e.YMaxMm < roi.YMinMm || e.YMinMm > roi.YMaxMm)
                    return CommandOutcome.Refused("the region does not overlap the ROI");
                lock (_gate) _exclusions.Add(e);
                // The learner plans around the region itself; the loop's own check catches any other planner.
                if (_planner is LearnerRoiPlanner learner) learner.Exclude(new RoiRectangle(e.XMinMm, e.XMaxMm, e.YMinMm, e.YMaxMm));
                return CommandOutcome.Applied($"no more frames in x [{e.XMinMm}, {e.XMaxMm}], y [{e.YMinMm}, {e.YMaxMm}] mm");
            case SetBudgetCommand b:
                if (b.Frames is null && b.BeamTimeS is null) return CommandOutcome.Refused("give a frame count or a beam time");
                if (b.Frames is { } f && f < _counters.FramesAcquired)
                    return CommandOutcome.Refused($"{f} frames is below the {_counters.FramesAcquired} already taken");
                if (b.BeamTimeS is { } t && (!double.IsFinite(t) || t < _counters.BeamTimeUsedS))
                    return CommandOutcome.Refused($"{t} s of beam is below the {_counters.BeamTimeUsedS:0} s already used");
                lock (_gate)
                {
                    if (b.Frames is { } frames) _framesBudget = frames;
                    if (b.BeamTimeS is { } seconds) _beamTimeBudgetS = seconds;
                }
                return CommandOutcome.Applied($"budget now {FramesBudget} frames, {BeamTimeBudgetS} s of beam");
            case SetApprovalWindowCommand a:
                if (!double.IsFinite(a.Seconds) || a.Seconds < 0 || a.Seconds > 3600)
                    return CommandOutcome.Refused($"the approval window must be 0 to 3600 s, got {a.Seconds}");
                lock (_gate) _approvalWindowS = a.Seconds;
                return CommandOutcome.Applied(a.Seconds == 0 ? "decisions run at once (unattended)" : $"each decision now waits {a.Seconds} s for a veto");
            default:
                return CommandOutcome.Refused($"unknown command {command.GetType().Name}");
        }
    }

    public ExperimentSnapshot Snapshot()
    {
        var cell = _cycler.Latest;
        var map = _learning.CurrentMap?.Invoke();
        var soc = _cycler.EstimateStateOfCharge(_time.GetUtcNow());
        var grid = map is null ? null : UncertaintyOver(map, soc);
        lock (_gate)
        {
            return new ExperimentSnapshot
            {
                Time = _time.GetUtcNow(),
                RunId = RunId,
                State = _state.ToString(),
                Cell = new CellSnapshotView(cell.VoltageV, cell.CurrentA, cell.StateOfCharge, cell.CRate, cell.Step, cell.Cycle, cell.OutputOn),
                BeamCurrentMa = _beam,
                ShutterOpen = _shutterOpen,
                XMm = _position.X,
                YMm = _position.Y,
                RecentDecisions = _recentDecisions.ToList(),
                PendingDecision = _pendingDecision is { } p ? View(p) : null,
                ApprovalWindowS = _approvalWindowS,
                Uncertainty = grid,
                FramesUsed = _counters.FramesAcquired,
                FramesBudget = _framesBudget,
                BeamTimeUsedS = _counters.BeamTimeUsedS,
                BeamTimeBudgetS = _beamTimeBudgetS,
                Observations = _observations.Count,
                RecentFaults = _recentFaults.ToList(),
                LockedKnobs = _locks.Select(k => k.ToString()).ToList(),
            };
        }
    }

    /// <summary>The map's spread over the ROI at the present state of charge, on a grid of at most 40 × 40.</summary>
    private UncertaintyGrid UncertaintyOver(Learning.IPhaseMap map, double soc)
    {
        var roi = _config.Search.Roi;
        var step = Math.Max(roi.StepMm, Math.Max(roi.XMaxMm - roi.XMinMm, roi.YMaxMm - roi.YMinMm) / 39);
        var nx = (int)Math.Floor((roi.XMaxMm - roi.XMinMm) / step + 1e-9) + 1;
        var ny = (int)Math.Floor((roi.YMaxMm - roi.YMinMm) / step + 1e-9) + 1;
        var spread = new double[nx * ny];
        for (var j = 0; j < ny; j++)
        for (var i = 0; i < nx; i++)
            spread[j * nx + i] = map.Predict(roi.XMinMm + i * step, roi.YMinMm + j * step, soc).Spread;
        return new UncertaintyGrid(roi.XMinMm, roi.YMinMm, step, nx, ny, spread);
    }

    /// <summary>
    /// Acts on queued operator requests. Called by the loop between frames, where stopping is safe.
    /// Returns a reason when the run should end normally (skip to end), throws to abort (halt).
    /// </summary>
    private async Task<string?> AtSafePointAsync(CancellationToken ct)
    {
        while (_requests.Reader.TryRead(out var request))
        {
            switch (request)
            {
                case HaltCommand:
                    _machine.Fire(RunTrigger.Abort);
                    throw new OperationCanceledException(_abortReason);
                case SkipToEndCommand s:
                    return $"operator {s.By} skipped to the end";
                case PauseCommand p:
                    _machine.Fire(RunTrigger.Pause);
                    await SetShutterAsync(false, ct).ConfigureAwait(false);
                    Report($"paused by {p.By}; the cell continues its protocol");
                    if (await WaitWhileHeldAsync(ct).ConfigureAwait(false) is { } ended) return ended;
                    break;
                case SuspendCommand s:
                    _machine.Fire(RunTrigger.Suspend);
                    _counters.Suspended();
                    await SetShutterAsync(false, ct).ConfigureAwait(false);
                    // Suspend to the safe state: the cell is held at open circuit until the resume.
                    _cycler.Hold(s.By.ToString());
                    _journal.Write("suspend", new { reason = $"operator {s.By}", cell = "held at open circuit" });
                    Report($"suspended by {s.By}: shutter closed, cell at open circuit");
                    // Skip to end and halt leave the cell held; the end of the run then stops the cycler safely.
                    if (await WaitWhileHeldAsync(ct).ConfigureAwait(false) is { } stopped) return stopped;
                    _cycler.Release(s.By.ToString());
                    break;
                case ResumeCommand:
                    break; // not paused any more: nothing to do
            }
        }
        return null;
    }

    /// <summary>
    /// Paused or suspended by an operator: waits for resume, skip to end or halt. Polls on the clock (rather
    /// than blocking on the queue) so that virtual time, and with it the cell, goes on.
    /// </summary>
    private async Task<string?> WaitWhileHeldAsync(CancellationToken ct)
    {
        while (true)
        {
            ThrowIfCellFaulted();
            if (!_requests.Reader.TryRead(out var next))
            {
                await _time.SleepAsync(PausePollPeriod, ct).ConfigureAwait(false);
                continue;
            }
            switch (next)
            {
                case ResumeCommand r:
                    _machine.Fire(RunTrigger.Resume);
                    _journal.Write("resume", new { reason = $"operator {r.By}" });
                    Report($"resumed by {r.By}; re-deciding from the present state");
                    return null;
                case SkipToEndCommand s:
                    return $"operator {s.By} skipped to the end";
                case HaltCommand:
                    _machine.Fire(RunTrigger.Abort);
                    throw new OperationCanceledException(_abortReason);
            }
        }
    }

    /// <summary>While suspended for the beam, an operator may still end the run. Returns why it ends, or null.</summary>
    private Task<string?> HandleRequestsWhileSuspendedAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        while (_requests.Reader.TryRead(out var request))
        {
            switch (request)
            {
                case HaltCommand:
                    _machine.Fire(RunTrigger.Abort);
                    throw new OperationCanceledException(_abortReason);
                case SkipToEndCommand s:
                    return Task.FromResult<string?>($"operator {s.By} skipped to the end");
            }
        }
        return Task.FromResult<string?>(null);
    }

    private void Enqueue(OperatorCommand command) => _requests.Writer.TryWrite(command);

    private RunState CurrentState { get { lock (_gate) return _state; } }

    private (GotoRoiCommand Command, DateTimeOffset At)? TakeForcedRoi()
    {
        lock (_gate)
        {
            var forced = _forcedRoi;
            _forcedRoi = null;
            return forced;
        }
    }

    private VetoCommand? TakeVeto()
    {
        lock (_gate)
        {
            var veto = _veto;
            _veto = null;
            return veto;
        }
    }

    private string? IsExcluded(double x, double y)
    {
        lock (_gate)
            return _exclusions.FirstOrDefault(e => x >= e.XMinMm && x <= e.XMaxMm && y >= e.YMinMm && y <= e.YMaxMm) is { } r
                ? $"x [{r.XMinMm}, {r.XMaxMm}], y [{r.YMinMm}, {r.YMaxMm}] mm"
                : null;
    }

    private void SetPending(Decision? decision)
    {
        lock (_gate) _pendingDecision = decision;
    }

    private void RecordDecision(Decision decision)
    {
        _counters.Decision(decision.Kind);
        _journal.Write("decision", decision);
        lock (_gate)
        {
            _recentDecisions.AddFirst(View(decision));
            while (_recentDecisions.Count > RecentItems) _recentDecisions.RemoveLast();
        }
    }

    private DecisionView View(Decision d) => new(_time.GetUtcNow(), d.Kind.Name(), d.Values, d.Score, d.Reason, d.ModelVersion, d.Strategy.Name());

    private void RecordFault(string source, string message)
    {
        _counters.Fault();
        _journal.Write("fault", new { source, message, state = CurrentState.ToString() });
        lock (_gate)
        {
            _recentFaults.AddFirst(new FaultView(_time.GetUtcNow(), source, message));
            while (_recentFaults.Count > RecentItems) _recentFaults.RemoveLast();
        }
    }

    private void SetPosition(double x, double y)
    {
        lock (_gate) _position = (x, y);
    }

    private (double X, double Y) Position { get { lock (_gate) return _position; } }

    private void UpdateBeam(MotionStatus status)
    {
        lock (_gate) _beam = status.BeamCurrentMa;
    }

    private double Beam { get { lock (_gate) return _beam; } }
    private int FramesBudget { get { lock (_gate) return _framesBudget; } }
    private double BeamTimeBudgetS { get { lock (_gate) return _beamTimeBudgetS; } }
    private TimeSpan ApprovalWindow { get { lock (_gate) return TimeSpan.FromSeconds(_approvalWindowS); } }

    private IReadOnlyList<Observation> ObservationsSnapshot()
    {
        lock (_gate) return _observations.ToList();
    }
}

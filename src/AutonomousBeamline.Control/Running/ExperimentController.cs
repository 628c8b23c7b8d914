using System.Threading.Channels;
using AutonomousBeamline.Configuration;
using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Core.Time;
using AutonomousBeamline.Learning;

namespace AutonomousBeamline.Control.Running;

/// <summary>
/// The experiment's control loop, readable in one place: preflight, then Decide → (approval) → Move →
/// Acquire → Analyze until the budget is spent or the protocol ends, with the cycler running the cell
/// alongside. It owns the state machine and nothing else: devices and learner come in through small
/// interfaces, operators through <see cref="IExperimentOperations"/>, and every step goes to the journal.
/// </summary>
public sealed partial class ExperimentController
{
    private static readonly TimeSpan PausePollPeriod = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ApprovalPollPeriod = TimeSpan.FromSeconds(0.5);
    private static readonly TimeSpan RecoveryFirstPause = TimeSpan.FromSeconds(5);
    private const int RecoveryAttempts = 4;

    private readonly ExperimentConfig _config;
    private readonly ControllerDevices _devices;
    private readonly ControllerLearning _learning;
    private readonly RunJournal _journal;
    private readonly FrameStore _frames;
    private readonly TimeProvider _time;
    private readonly ExperimentStateMachine _machine = new();
    private readonly Channel<OperatorCommand> _requests = Channel.CreateUnbounded<OperatorCommand>();
    private readonly List<Observation> _observations = new();
    private readonly Cycler _cycler;
    private readonly RunCounters _counters = new();
    private readonly CancellationTokenSource _cyclerStop = new();
    private IRoiPlanner? _planner;
    private readonly Resume.ResumeState? _resume;
    private Task? _cyclerTask;
    /// <summary>Why the run ended while it was suspended for the beam (an operator's skip to end).</summary>
    private string? _endedWhileSuspended;

    /// <param name="resume">What the run had done before a crash (from <see cref="Resume.JournalReplay"/>); null for a new run.</param>
    public ExperimentController(ExperimentConfig config, ControllerDevices devices, ControllerLearning learning,
        RunJournal journal, FrameStore frames, TimeProvider time, string runId = "", Resume.ResumeState? resume = null)
    {
        _resume = resume;
        _config = config;
        _devices = devices;
        _learning = learning;
        _journal = journal;
        _frames = frames;
        _time = time;
        RunId = runId;
        _cycler = new Cycler(devices.Potentiostat, CyclingProtocol.FromConfig(config.Protocol), CellLimits.FromConfig(config.Cell), time, journal);
        _framesBudget = config.Budget.Frames;
        _beamTimeBudgetS = config.Budget.BeamTimeS;
        _approvalWindowS = config.Operator.ApprovalWindowS;
        _machine.Transitioned += t =>
        {
            // The state is visible to operators before the record is, so that a watcher reacting to the
            // record sees the state it describes.
            lock (_gate) _state = t.To;
            journal.Write("transition", new { from = t.From.ToString(), to = t.To.ToString(), trigger = t.Trigger.ToString() });
        };
    }

    public string RunId { get; }
    public RunState State => _machine.State;
    public Cycler Cycler => _cycler;
    /// <summary>The run's journal; its <see cref="RunJournal.Recorded"/> event lets a watcher follow every record.</summary>
    public RunJournal Journal => _journal;
    public event Action<RunProgress>? Progress;

    public async Task<RunOutcome> RunAsync(CancellationToken cancellationToken)
    {
        using var actor = _time.JoinAsActor();
        var startedAt = _time.GetUtcNow();
        var cyclerStop = _cyclerStop;
        Task? cyclerTask = null;
        string exitStatus, reason;
        _journal.Write(_resume is null ? "run_start" : "run_resume", new { experiment = _config.Experiment.Name, strategy = _config.Acquisition.Strategy, run_id = RunId });
        try
        {
            _machine.Fire(RunTrigger.Start);
            if (_resume is { } resume) await ResumeCheckAsync(resume, cancellationToken).ConfigureAwait(false);
            await PreflightAsync(cancellationToken).ConfigureAwait(false);
            _machine.Fire(RunTrigger.PreflightPassed);

            if (_resume is { } r)
            {
                _cycler.ResumeAt(r.StepsCompleted, r.StateOfCharge, r.RequestedCRate);
                _journal.Write("resumed", new
                {
                    observations = _observations.Count, frames = _counters.FramesAcquired, steps_completed = r.StepsCompleted,
                    state_of_charge = r.StateOfCharge, offline_s = (startedAt - r.LastRecordTime).TotalSeconds,
                });
                Report($"resumed with {_observations.Count} observations and {_counters.FramesAcquired} frames; the protocol goes on from step {r.StepsCompleted + 1}; re-deciding from the present state");
            }
            _cycler.StepBoundary += OnStepBoundary;
            cyclerTask = _cyclerTask = _time.StartActor(() => _cycler.RunAsync(cyclerStop.Token));
            reason = await MeasureAsync(cyclerTask, cancellationToken).ConfigureAwait(false);

            _machine.Fire(RunTrigger.Finish);
            await StopCyclerAsync(cyclerStop, cyclerTask).ConfigureAwait(false);
            await EnterSafeStateAsync("end of run").ConfigureAwait(false);
            _machine.Fire(RunTrigger.Finished);
            exitStatus = "success";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested || _machine.State == RunState.Aborted)
        {
            reason = _abortReason ?? "aborted on request";
            exitStatus = "abort";
            if (_machine.CanFire(RunTrigger.Abort)) _machine.Fire(RunTrigger.Abort);
            await StopCyclerAsync(cyclerStop, cyclerTask).ConfigureAwait(false);
            await EnterSafeStateAsync("abort").ConfigureAwait(false);
        }
        catch (Exception e)
        {
            reason = e.Message;
            exitStatus = "fail";
            RecordFault(e.GetType().Name, e.Message);
            if (_machine.CanFire(RunTrigger.Fault)) _machine.FireFault(e.Message);
            await StopCyclerAsync(cyclerStop, cyclerTask).ConfigureAwait(false);
            await EnterSafeStateAsync("fault").ConfigureAwait(false);
            if (_machine.CanFire(RunTrigger.Abort)) _machine.Fire(RunTrigger.Abort);
        }

        _journal.Write("run_end", new { exit_status = exitStatus, reason, observations = _observations.Count, frames = _counters.FramesAcquired });
        return new RunOutcome
        {
            ExitStatus = exitStatus,
            Reason = reason,
            Observations = _observations.ToList(),
            Decisions = _counters.DecisionCounts(),
            Faults = _counters.Faults,
            FramesAcquired = _counters.FramesAcquired,
            FramesRejected = _counters.FramesRejected,
            FramesStored = _frames.Count,
            ProtocolSteps = _cycler.StepsCompleted,
            Suspensions = _counters.Suspensions,
            StartedAt = startedAt,
            EndedAt = _time.GetUtcNow(),
        };
    }

    /// <summary>
    /// After a crash, before anything else: what is the cell doing now? The output may still be on (the instrument
    /// kept its last setting while no one was watching); it is turned off, and the voltage must be in the window.
    /// The loop then re-decides from the present state; nothing from before the crash is replayed.
    /// </summary>
    private async Task ResumeCheckAsync(Resume.ResumeState resume, CancellationToken ct)
    {
        var outputOn = await _devices.Potentiostat.GetOutputAsync(ct).ConfigureAwait(false);
        var voltage = await _devices.Potentiostat.MeasureVoltageAsync(ct).ConfigureAwait(false);
        _journal.Write("resume_check", new { output_on = outputOn, voltage_v = voltage, journal_ended_at = resume.LastRecordTime, observations = resume.Observations.Count });
        if (outputOn) await _devices.Potentiostat.EnterSafeStateAsync(ct).ConfigureAwait(false);
        if (voltage < _config.Cell.VoltageMinV || voltage > _config.Cell.VoltageMaxV)
            throw new PreflightException($"on resume the cell reads {voltage:0.000} V, outside its window [{_config.Cell.VoltageMinV}, {_config.Cell.VoltageMaxV}] V");

        lock (_gate)
        {
            _observations.AddRange(resume.Observations);
            if (resume.LastPosition is { } p) _position = p;
            foreach (var o in resume.Observations.Where(o => o.Kind == FrameKind.Xas))
                _xasScans.Add(new Learning.Features.XasFeatures(o.EdgeEnergyEv ?? double.NaN, o.WhiteLineEnergyEv ?? double.NaN, double.NaN, double.NaN,
                    o.PhaseFraction, o.PhaseFractionSigma, null));
        }
        _spotsMeasured = resume.Observations.Count(o => o.Kind != FrameKind.Xas);
        _counters.Restore(resume.FramesAcquired, resume.BeamTimeUsedS, resume.Decisions, resume.Faults, resume.Suspensions);

        // A frame reached the disk but its observation record did not (the crash fell between the two): analyse it
        // again, at the state of charge the journal last knew, so that nothing measured is lost.
        foreach (var (sequence, frame) in resume.UnjournalledFrames.OrderBy(f => f.Sequence))
        {
            var o = AnalyzeRecovered(frame, sequence, resume.StateOfCharge);
            if (o is null) continue;
            lock (_gate) _observations.Add(o);
            _journal.Write("observation", o);
            _journal.Write("observation_recovered", new { sequence, frame = frame.Header.Frame, reason = "stored before the crash, journalled after it" });
        }
    }

    private Observation? AnalyzeRecovered(Frame frame, long sequence, double stateOfCharge)
    {
        var header = frame.Header;
        double fraction, sigma;
        double? edge = null, whiteLine = null;
        if (header.Kind == FrameKind.Xas)
        {
            var xas = XasAnalyzer.Analyze(frame);
            if (!xas.Usable) return null;
            (fraction, sigma, edge, whiteLine) = (xas.OxidisedFraction, xas.OxidisedFractionSigma, xas.EdgeEnergyEv, xas.WhiteLineEnergyEv);
        }
        else
        {
            var xrd = _learning.Analyzer.Analyze(frame);
            if (!xrd.Usable) return null;
            (fraction, sigma) = (xrd.PhaseFraction, xrd.PhaseFractionSigma);
        }
        return new Observation
        {
            Sequence = sequence, Frame = header.Frame, Time = header.TStart, Kind = header.Kind,
            XMm = header.Positions.GetValueOrDefault(_config.Axes.X), YMm = header.Positions.GetValueOrDefault(_config.Axes.Y),
            StateOfCharge = stateOfCharge, CRate = _resume?.RequestedCRate ?? 0, PhaseFraction = fraction, PhaseFractionSigma = sigma,
            BeamCurrentMa = header.BeamCurrentMa, Source = DecisionSource.Recovered, ExposureS = header.ExposureS, EdgeEnergyEv = edge, WhiteLineEnergyEv = whiteLine,
        };
    }

    private async Task PreflightAsync(CancellationToken ct)
    {
        var checks = new List<object>();
        void Check(string item, string result) { checks.Add(new { item, result }); Report($"preflight: {item}: {result}"); }

        var identity = await _devices.Potentiostat.IdentifyAsync(ct).ConfigureAwait(false);
        Check("potentiostat", identity.ToString());
        await _devices.Potentiostat.ResetAsync(ct).ConfigureAwait(false);
        if (await _devices.Potentiostat.GetOutputAsync(ct).ConfigureAwait(false))
            throw new PreflightException("the potentiostat output is still on after *RST");
        var voltage = await _devices.Potentiostat.MeasureVoltageAsync(ct).ConfigureAwait(false);
        if (voltage < _config.Cell.VoltageMinV || voltage > _config.Cell.VoltageMaxV)
            throw new PreflightException($"the cell reads {voltage:0.000} V at open circuit, outside its window [{_config.Cell.VoltageMinV}, {_config.Cell.VoltageMaxV}] V");
        Check("cell open-circuit voltage", $"{voltage:0.000} V, inside [{_config.Cell.VoltageMinV}, {_config.Cell.VoltageMaxV}] V");

        var motion = await _devices.Motion.DescribeAsync(ct).ConfigureAwait(false);
        var roi = _config.Search.Roi;
        foreach (var (role, name, lo, hi) in new[] { ("x", _config.Axes.X, roi.XMinMm, roi.XMaxMm), ("y", _config.Axes.Y, roi.YMinMm, roi.YMaxMm) })
        {
            var axis = motion.Axes.FirstOrDefault(a => a.Name == name)
                       ?? throw new PreflightException($"the motion server has no axis '{name}' (configured as axes.{role}); it offers {string.Join(", ", motion.Axes.Select(a => a.Name))}");
            if (lo < axis.Min || hi > axis.Max)
                throw new PreflightException($"the ROI's {role} range [{lo}, {hi}] mm is outside axis '{name}' limits [{axis.Min}, {axis.Max}]");
            Check($"axis {name}", $"limits [{axis.Min}, {axis.Max}] {axis.Unit} cover the ROI, speed {axis.Speed} {axis.Unit}/s");
        }
        if (!motion.HasShutter) throw new PreflightException("the motion server reports no experimental shutter; frames could not be taken safely");
        _planner = _learning.CreatePlanner(motion);
        var status = await _devices.Motion.GetStatusAsync(ct).ConfigureAwait(false);
        if (status.State == MotionState.Fault) throw new PreflightException("the motion server reports a fault");
        SetPosition(status.Positions.GetValueOrDefault(_config.Axes.X), status.Positions.GetValueOrDefault(_config.Axes.Y));
        UpdateBeam(status);
        Check("beam", $"{status.BeamCurrentMa:0.0} mA (threshold {_config.Acquisition.BeamThresholdMa} mA)");

        var detector = await _devices.Detector.DescribeAsync(ct).ConfigureAwait(false);
        foreach (var kind in _config.Acquisition.Kind.Split('+'))
            if (!detector.Kinds.Contains(kind))
                throw new PreflightException($"the detector offers {string.Join(", ", detector.Kinds)}, not '{kind}' (acquisition.kind is '{_config.Acquisition.Kind}')");
        Check("detector", $"kinds {string.Join(", ", detector.Kinds)}" + (detector.Xrd is { } x ? $"; xrd {x.N} points of {x.Name} from {x.Start} {x.Unit}" : ""));
        await _devices.Motion.SetShutterAsync(false, ct).ConfigureAwait(false);
        Check("shutter", "closed");
        _journal.Write("preflight", new { checks });
    }

    /// <summary>The measurement loop. Returns why it ended normally.</summary>
    private async Task<string> MeasureAsync(Task cyclerTask, CancellationToken ct)
    {
        while (true)
        {
            if (await AtSafePointAsync(ct).ConfigureAwait(false) is { } skipReason) return skipReason;
            if (cyclerTask.IsCompleted)
            {
                await cyclerTask.ConfigureAwait(false); // rethrows a cycler fault
                return "the cycling protocol is complete";
            }
            if (BudgetSpent() is { } spent) return spent;

            var decision = await DecideAsync(ct).ConfigureAwait(false);
            if (decision is null) continue; // vetoed: decide again

            Frame? frame;
            try
            {
                var target = (X: decision.Values["x_mm"], Y: decision.Values["y_mm"]);
                await _devices.Motion.MoveAsync(new Dictionary<string, double> { [_config.Axes.X] = target.X, [_config.Axes.Y] = target.Y }, ct).ConfigureAwait(false);
                SetPosition(target.X, target.Y);
                _machine.Fire(RunTrigger.Arrived);
                // An XAS-only run plans each scan's energies as it starts it.
                frame = TakesXrd
                    ? await AcquireWithBeamAsync(c => _devices.Detector.AcquireXrdAsync(_config.Acquisition.ExposureS, c), _config.Acquisition.ExposureS, ct).ConfigureAwait(false)
                    : await AcquireXasAsync(DecideEnergies(), ct).ConfigureAwait(false);
            }
            catch (DeviceException e) when (!ct.IsCancellationRequested && e.Device != "potentiostat")
            {
                // The beamline side failed; the cell is not affected and stays on its protocol.
                await RecoverAsync(e, ct).ConfigureAwait(false);
                continue;
            }
            if (frame is null) return _endedWhileSuspended!;
            _machine.Fire(RunTrigger.FrameTaken);

            Learn(Analyze(frame, decision.Strategy), decision.Reason);
            _machine.Fire(RunTrigger.Analyzed);
            _spotsMeasured++;

            // An absorption spectrum at every xas_every-th spot, where the sample already is: a turn of the
            // loop of its own (decide the energies, no move, acquire, analyze).
            if (TakesXrd && TakesXas && _spotsMeasured % _config.Acquisition.XasEvery == 0 && BudgetSpent() is null)
            {
                Frame? spectrum;
                try
                {
                    var plan = DecideEnergies();
                    _machine.Fire(RunTrigger.Decided);
                    _machine.Fire(RunTrigger.Arrived);
                    spectrum = await AcquireXasAsync(plan, ct).ConfigureAwait(false);
                }
                catch (DeviceException e) when (!ct.IsCancellationRequested && e.Device != "potentiostat")
                {
                    await RecoverAsync(e, ct).ConfigureAwait(false);
                    continue;
                }
                if (spectrum is null) return _endedWhileSuspended!;
                _machine.Fire(RunTrigger.FrameTaken);
                Learn(Analyze(spectrum, decision.Strategy), "XAS at the same spot");
                _machine.Fire(RunTrigger.Analyzed);
            }
        }
    }

    /// <summary>
    /// The next spot: an operator's forced ROI if one is queued, else the planner's choice; then the approval
    /// window, if one is set. Returns null when the decision was vetoed (the loop decides again).
    /// </summary>
    private async Task<Decision?> DecideAsync(CancellationToken ct)
    {
        if (_learning.ModelSettled is { } settled) await settled(ct).ConfigureAwait(false);
        var soc = _cycler.EstimateStateOfCharge(_time.GetUtcNow());
        var planned = Planner.NextRoi(ObservationsSnapshot(), new RoiContext(Position.X, Position.Y, soc, _cycler.Latest.CRate));
        var decision = planned;
        if (IsLocked(Knob.Roi))
        {
            var here = Position;
            decision = planned with
            {
                Values = new Dictionary<string, double> { ["x_mm"] = here.X, ["y_mm"] = here.Y },
                Alternatives = [new DecisionOption(planned.Values, planned.Score)],
                Reason = "the ROI is held by the operator: measuring where the sample is",
                Strategy = DecisionSource.Operator,
            };
        }
        if (TakeForcedRoi() is { } forced)
        {
            decision = new Decision
            {
                Kind = DecisionKind.Roi,
                Values = new Dictionary<string, double> { ["x_mm"] = forced.Command.XMm, ["y_mm"] = forced.Command.YMm },
                Score = double.NaN,
                Alternatives = [new DecisionOption(planned.Values, planned.Score)],
                Reason = $"operator {forced.Command.By} forced ({forced.Command.XMm:0.###}, {forced.Command.YMm:0.###}) mm",
                ModelVersion = planned.ModelVersion,
                Strategy = DecisionSource.Operator,
            };
            _journal.Write("override", new
            {
                by = forced.Command.By.ToString(), what = "roi", x_mm = forced.Command.XMm, y_mm = forced.Command.YMm,
                replaced = planned,
            });
        }
        else if (IsExcluded(decision.Values["x_mm"], decision.Values["y_mm"]) is { } region)
        {
            // The planner does not know the operator's exclusions yet: take its best alternative outside them.
            var alternative = decision.Alternatives.FirstOrDefault(a => IsExcluded(a.Values["x_mm"], a.Values["y_mm"]) is null);
            var fallback = alternative is not null
                ? decision with { Values = alternative.Values, Score = alternative.Score, Reason = $"runner-up: the best spot lies in excluded region {region}" }
                : SpotOutsideExclusions(decision);
            decision = fallback;
        }

        RecordDecision(decision);
        if (ApprovalWindow > TimeSpan.Zero)
        {
            SetPending(decision);
            _machine.Fire(RunTrigger.AwaitApproval);
            if (!await AwaitApprovalAsync(decision, ct).ConfigureAwait(false))
            {
                _machine.Fire(RunTrigger.Vetoed);
                return null;
            }
            _machine.Fire(RunTrigger.Approved);
        }
        else
        {
            _machine.Fire(RunTrigger.Decided);
        }
        return decision;
    }

    private Decision SpotOutsideExclusions(Decision decision)
    {
        var space = _config.Search.Roi;
        var here = Position;
        var best = new Learning.RoiSearchSpace(space.XMinMm, space.XMaxMm, space.YMinMm, space.YMaxMm, space.StepMm).GridPoints()
            .Where(p => IsExcluded(p.X, p.Y) is null)
            .OrderBy(p => Math.Pow(p.X - here.X, 2) + Math.Pow(p.Y - here.Y, 2))
            .Select(p => ((double X, double Y)?)p)
            .FirstOrDefault()
            ?? throw new InvalidOperationException("every spot of the ROI is excluded; nothing is left to measure");
        return decision with
        {
            Values = new Dictionary<string, double> { ["x_mm"] = best.X, ["y_mm"] = best.Y },
            Reason = "nearest spot outside the operator's excluded regions",
        };
    }

    /// <summary>Waits out the veto window on the clock. False when the operator vetoed.</summary>
    private async Task<bool> AwaitApprovalAsync(Decision decision, CancellationToken ct)
    {
        var deadline = _time.GetUtcNow() + ApprovalWindow;
        try
        {
            while (_time.GetUtcNow() < deadline)
            {
                ThrowIfCellFaulted();
                if (TakeVeto() is { } veto)
                {
                    _journal.Write("override", new { by = veto.By.ToString(), what = "veto", replaced = decision });
                    Report($"decision vetoed by {veto.By}");
                    return false;
                }
                await _time.SleepAsync(ApprovalPollPeriod, ct).ConfigureAwait(false);
            }
            return true;
        }
        finally
        {
            SetPending(null);
        }
    }

    /// <summary>
    /// One frame taken with beam. The beam is checked as a level before every frame (not only on its edges);
    /// below the threshold the run suspends with the shutter closed, and when the beam has been back for the
    /// settle time the interrupted frame is taken again. A frame whose own header shows no beam is stored but
    /// never counted. Returns null if the run was told to end while suspended.
    /// </summary>
    private async Task<Frame?> AcquireWithBeamAsync(Func<CancellationToken, Task<Frame>> acquire, double beamSeconds, CancellationToken ct)
    {
        while (true)
        {
            var status = await _devices.Motion.GetStatusAsync(ct).ConfigureAwait(false);
            UpdateBeam(status);
            if (status.BeamCurrentMa >= _config.Acquisition.BeamThresholdMa)
            {
                await SetShutterAsync(true, ct).ConfigureAwait(false);
                Frame frame;
                try { frame = await acquire(ct).ConfigureAwait(false); }
                finally { await SetShutterAsync(false, CancellationToken.None).ConfigureAwait(false); }
                _counters.FrameAcquired(beamSeconds);
                if (frame.Header.BeamCurrentMa >= _config.Acquisition.BeamThresholdMa) return frame;

                _counters.FrameRejected();
                _frames.Store(frame, "no_beam");
                _journal.Write("frame_not_counted", new { frame = frame.Header.Frame, reason = $"beam {frame.Header.BeamCurrentMa:0.0} mA below threshold during the exposure" });
            }
            if (!await SuspendForBeamAsync(ct).ConfigureAwait(false)) return null;
        }
    }

    /// <summary>Suspended until the beam has been back for its settle time. False if the run was ended meanwhile.</summary>
    private async Task<bool> SuspendForBeamAsync(CancellationToken ct)
    {
        _machine.Fire(RunTrigger.Suspend);
        _counters.Suspended();
        var threshold = _config.Acquisition.BeamThresholdMa;
        _journal.Write("suspend", new { reason = "beam below threshold", beam_current_ma = Beam, threshold_ma = threshold });
        Report($"suspended: beam {Beam:0.0} mA below {threshold} mA; the cell continues its protocol");
        var settle = TimeSpan.FromSeconds(_config.Acquisition.BeamSettleS);
        var poll = TimeSpan.FromSeconds(_config.Acquisition.BeamPollS);
        DateTimeOffset? backSince = null;
        var suspendedAt = _time.GetUtcNow();
        while (true)
        {
            ThrowIfCellFaulted();
            if (await HandleRequestsWhileSuspendedAsync(ct).ConfigureAwait(false) is { } ended) { _endedWhileSuspended = ended; return false; }
            var status = await _devices.Motion.GetStatusAsync(ct).ConfigureAwait(false);
            UpdateBeam(status);
            var now = _time.GetUtcNow();
            if (status.BeamCurrentMa < threshold) backSince = null;
            else if ((backSince ??= now) + settle <= now) break;
            await _time.SleepAsync(poll, ct).ConfigureAwait(false);
        }
        _journal.Write("resume", new { reason = $"beam back above threshold for {settle.TotalSeconds:0} s", beam_current_ma = Beam, suspended_s = (_time.GetUtcNow() - suspendedAt).TotalSeconds });
        Report($"resumed: beam {Beam:0.0} mA; re-taking the interrupted frame");
        _machine.Fire(RunTrigger.ConditionCleared);
        return true;
    }

    /// <summary>
    /// Faulted on the beamline side (motion or detector): the shutter is closed if it can be, then the devices are
    /// probed with growing pauses. When both answer, the loop re-decides from the present state (never replaying
    /// the command that failed); when they keep failing, the run gives up and ends in the safe state.
    /// </summary>
    private async Task RecoverAsync(DeviceException fault, CancellationToken ct)
    {
        RecordFault(fault.Device, fault.Message);
        _machine.FireFault(fault.Message);
        Report($"fault: {fault.Message}; the cell continues its protocol, retrying the beamline");
        try { await SetShutterAsync(false, ct).ConfigureAwait(false); }
        catch (DeviceException) { /* the motion server may be the one that failed; probed below */ }

        var pause = RecoveryFirstPause;
        // Another device may fail while the first is being waited for; each gets its own "recovered" record.
        var failed = new SortedSet<string>(StringComparer.Ordinal) { fault.Device };
        for (var attempt = 1; attempt <= RecoveryAttempts; attempt++)
        {
            await _time.SleepAsync(pause, ct).ConfigureAwait(false);
            try
            {
                UpdateBeam(await _devices.Motion.GetStatusAsync(ct).ConfigureAwait(false));
                await _devices.Detector.DescribeAsync(ct).ConfigureAwait(false);
                var status = await _devices.Motion.GetStatusAsync(ct).ConfigureAwait(false);
                if (status.State == MotionState.Fault) throw new DeviceException("motion", "the motion server still reports a fault");
                foreach (var device in failed) _journal.Write("recovered", new { device, attempt, after_s = pause.TotalSeconds });
                _machine.Fire(RunTrigger.Recovered);
                return;
            }
            catch (DeviceException again) when (!ct.IsCancellationRequested)
            {
                failed.Add(again.Device);
                _journal.Write("recovery_failed", new { device = again.Device, attempt, message = again.Message });
                pause *= 3;
            }
        }
        throw new DeviceException(fault.Device, $"gave up after {RecoveryAttempts} attempts to recover from: {fault.Message}", fault);
    }

    private Observation? Analyze(Frame frame, DecisionSource source)
    {
        var header = frame.Header;
        double fraction, sigma;
        double? edge = null, whiteLine = null;
        string? flag;
        if (header.Kind == FrameKind.Xas)
        {
            var xas = XasAnalyzer.Analyze(frame);
            lock (_gate) _xasScans.Add(xas);
            (fraction, sigma, edge, whiteLine, flag) = (xas.OxidisedFraction, xas.OxidisedFractionSigma, xas.EdgeEnergyEv, xas.WhiteLineEnergyEv, xas.Flag);
        }
        else
        {
            var xrd = _learning.Analyzer.Analyze(frame);
            (fraction, sigma, flag) = (xrd.PhaseFraction, xrd.PhaseFractionSigma, xrd.Flag);
        }
        if (flag is not null)
        {
            _counters.FrameRejected();
            _frames.Store(frame, "flagged:" + flag);
            _journal.Write("frame_not_counted", new { frame = header.Frame, kind = header.Kind, reason = flag });
            return null;
        }
        _frames.Store(frame, "observation", _observations.Count + 1);
        var midExposure = header.TStart + TimeSpan.FromSeconds((header.ExposureS ?? 0) / 2);
        var here = Position;
        var observation = new Observation
        {
            Sequence = _observations.Count + 1,
            Frame = header.Frame,
            Time = midExposure,
            Kind = header.Kind,
            XMm = header.Positions.GetValueOrDefault(_config.Axes.X, here.X),
            YMm = header.Positions.GetValueOrDefault(_config.Axes.Y, here.Y),
            StateOfCharge = _cycler.EstimateStateOfCharge(midExposure),
            CRate = _cycler.Latest.CRate,
            PhaseFraction = fraction,
            PhaseFractionSigma = sigma,
            BeamCurrentMa = header.BeamCurrentMa,
            Source = source,
            ExposureS = header.ExposureS,
            EdgeEnergyEv = edge,
            WhiteLineEnergyEv = whiteLine,
        };
        _journal.Write("observation", observation);
        return observation;
    }

    private async Task StopCyclerAsync(CancellationTokenSource stop, Task? cyclerTask)
    {
        if (cyclerTask is null) return;
        await stop.CancelAsync().ConfigureAwait(false);
        try { await cyclerTask.ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        catch (Exception e) when (_machine.State is RunState.Completing or RunState.Aborted or RunState.Faulted)
        {
            _journal.Write("cycler_error", new { message = e.Message });
        }
    }

    /// <summary>Output off and shutter closed, whatever went before. Never throws.</summary>
    private async Task EnterSafeStateAsync(string why)
    {
        await _devices.Potentiostat.EnterSafeStateAsync(CancellationToken.None).ConfigureAwait(false);
        var shutter = "closed";
        try { await SetShutterAsync(false, CancellationToken.None).ConfigureAwait(false); }
        catch (Exception e) when (e is DeviceException or TimeoutException)
        {
            shutter = "close failed: " + e.Message;
            RecordFault("shutter", e.Message);
        }
        _journal.Write("safe_state", new { why, output = "off", shutter });
    }

    private async Task SetShutterAsync(bool open, CancellationToken ct)
    {
        await _devices.Motion.SetShutterAsync(open, ct).ConfigureAwait(false);
        lock (_gate) _shutterOpen = open;
    }

    private string? BudgetSpent()
    {
        if (_counters.FramesAcquired >= FramesBudget) return $"the frame budget ({FramesBudget}) is spent";
        if (_counters.BeamTimeUsedS >= BeamTimeBudgetS) return $"the beam-time budget ({BeamTimeBudgetS} s) is spent";
        return null;
    }

    private IRoiPlanner Planner => _planner ?? throw new InvalidOperationException("the planner exists only after preflight");

    /// <summary>
    /// A fault of the cell's side (the cycler already left the cell safe) ends the run even while the loop waits
    /// (paused, suspended, in an approval window): rethrows the cycler's error.
    /// </summary>
    private void ThrowIfCellFaulted()
    {
        if (_cyclerTask is { IsFaulted: true } failed) failed.GetAwaiter().GetResult();
    }

    private void Report(string message) =>
        Progress?.Invoke(new RunProgress(message, _counters.FramesAcquired, _observations.Count, _cycler.Latest.StateOfCharge));
}

/// <summary>The equipment and the config disagree, or the cell is not fit to start.</summary>
public sealed class PreflightException(string message) : Exception("preflight: " + message);

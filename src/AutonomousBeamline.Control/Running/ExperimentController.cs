using System.Threading.Channels;
using AutonomousBeamline.Configuration;
using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Core.Time;
using AutonomousBeamline.Learning;

namespace AutonomousBeamline.Control.Running;

/// <summary>Something asked of the running experiment from outside the loop (an operator, a signal).</summary>
public enum ControlRequest { Pause, Resume, Abort }

/// <summary>
/// The experiment's control loop, readable in one place: preflight, then Decide → Move → Acquire →
/// Analyze until the budget is spent or the protocol ends, with the cycler running the cell alongside.
/// It owns the state machine and nothing else: devices and learner come in through small interfaces,
/// and every step goes to the journal.
/// </summary>
public sealed class ExperimentController
{
    private static readonly TimeSpan BeamRecheckPeriod = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PausePollPeriod = TimeSpan.FromSeconds(1);

    private readonly ExperimentConfig _config;
    private readonly ControllerDevices _devices;
    private readonly ControllerLearning _learning;
    private readonly RunJournal _journal;
    private readonly FrameStore _frames;
    private readonly TimeProvider _time;
    private readonly ExperimentStateMachine _machine = new();
    private readonly Channel<ControlRequest> _requests = Channel.CreateUnbounded<ControlRequest>();
    private readonly List<Observation> _observations = new();
    private readonly Dictionary<string, int> _decisions = new() { [DecisionKinds.Roi] = 0, [DecisionKinds.CRate] = 0, [DecisionKinds.EnergyRange] = 0 };
    private readonly Cycler _cycler;
    private IRoiPlanner? _planner;
    private int _faults;
    private int _framesAcquired;
    private int _framesRejected;
    private double _beamTimeUsedS;
    private (double X, double Y) _position;

    public ExperimentController(ExperimentConfig config, ControllerDevices devices, ControllerLearning learning,
        RunJournal journal, FrameStore frames, TimeProvider time)
    {
        _config = config;
        _devices = devices;
        _learning = learning;
        _journal = journal;
        _frames = frames;
        _time = time;
        _cycler = new Cycler(devices.Potentiostat, CyclingProtocol.FromConfig(config.Protocol), CellLimits.FromConfig(config.Cell), time, journal);
        _machine.Transitioned += t => journal.Write("transition", new { from = t.From.ToString(), to = t.To.ToString(), trigger = t.Trigger.ToString() });
    }

    public RunState State => _machine.State;
    public Cycler Cycler => _cycler;
    public event Action<RunProgress>? Progress;

    /// <summary>Queues a request for the loop to act on at its next safe point. Thread-safe.</summary>
    public void Request(ControlRequest request) => _requests.Writer.TryWrite(request);

    public async Task<RunOutcome> RunAsync(CancellationToken cancellationToken)
    {
        using var actor = _time.JoinAsActor();
        var startedAt = _time.GetUtcNow();
        using var cyclerStop = new CancellationTokenSource();
        Task? cyclerTask = null;
        string exitStatus, reason;
        _journal.Write("run_start", new { experiment = _config.Experiment.Name, strategy = _config.Acquisition.Strategy });
        try
        {
            _machine.Fire(RunTrigger.Start);
            await PreflightAsync(cancellationToken).ConfigureAwait(false);
            _machine.Fire(RunTrigger.PreflightPassed);

            cyclerTask = _time.StartActor(() => _cycler.RunAsync(cyclerStop.Token));
            reason = await MeasureAsync(cyclerTask, cancellationToken).ConfigureAwait(false);

            _machine.Fire(RunTrigger.Finish);
            await StopCyclerAsync(cyclerStop, cyclerTask).ConfigureAwait(false);
            await CloseShutterAsync().ConfigureAwait(false);
            _machine.Fire(RunTrigger.Finished);
            exitStatus = "success";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested || _machine.State == RunState.Aborted)
        {
            reason = "aborted on request";
            exitStatus = "abort";
            if (_machine.CanFire(RunTrigger.Abort)) _machine.Fire(RunTrigger.Abort);
            await StopCyclerAsync(cyclerStop, cyclerTask).ConfigureAwait(false);
            await EnterSafeStateAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _faults++;
            reason = e.Message;
            exitStatus = "fail";
            _journal.Write("fault", new { source = e.GetType().Name, message = e.Message, state = _machine.State.ToString() });
            if (_machine.CanFire(RunTrigger.Fault)) _machine.FireFault(e.Message);
            await StopCyclerAsync(cyclerStop, cyclerTask).ConfigureAwait(false);
            await EnterSafeStateAsync().ConfigureAwait(false);
        }

        _journal.Write("run_end", new { exit_status = exitStatus, reason, observations = _observations.Count, frames = _framesAcquired });
        return new RunOutcome
        {
            ExitStatus = exitStatus,
            Reason = reason,
            Observations = _observations.ToList(),
            Decisions = new Dictionary<string, int>(_decisions),
            Faults = _faults,
            FramesAcquired = _framesAcquired,
            FramesRejected = _framesRejected,
            FramesStored = _frames.Count,
            ProtocolSteps = _cycler.StepsCompleted,
            StartedAt = startedAt,
            EndedAt = _time.GetUtcNow(),
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
        _planner = _learning.CreatePlanner(motion);
        var status = await _devices.Motion.GetStatusAsync(ct).ConfigureAwait(false);
        if (status.State == MotionState.Fault) throw new PreflightException("the motion server reports a fault");
        _position = (status.Positions.GetValueOrDefault(_config.Axes.X), status.Positions.GetValueOrDefault(_config.Axes.Y));
        Check("beam", $"{status.BeamCurrentMa:0.0} mA (threshold {_config.Acquisition.BeamThresholdMa} mA)");

        var detector = await _devices.Detector.DescribeAsync(ct).ConfigureAwait(false);
        if (!detector.Kinds.Contains(_config.Acquisition.Kind))
            throw new PreflightException($"the detector offers {string.Join(", ", detector.Kinds)}, not '{_config.Acquisition.Kind}'");
        Check("detector", $"kinds {string.Join(", ", detector.Kinds)}" + (detector.Xrd is { } x ? $"; xrd {x.N} points of {x.Name} from {x.Start} {x.Unit}" : ""));
        _journal.Write("preflight", new { checks });
    }

    /// <summary>The measurement loop. Returns why it ended normally.</summary>
    private async Task<string> MeasureAsync(Task cyclerTask, CancellationToken ct)
    {
        while (true)
        {
            await HandleRequestsAsync(ct).ConfigureAwait(false);
            if (cyclerTask.IsCompleted)
            {
                await cyclerTask.ConfigureAwait(false); // rethrows a cycler fault
                return "the cycling protocol is complete";
            }
            if (_framesAcquired >= _config.Budget.Frames) return $"the frame budget ({_config.Budget.Frames}) is spent";
            if (_beamTimeUsedS >= _config.Budget.BeamTimeS) return $"the beam-time budget ({_config.Budget.BeamTimeS} s) is spent";

            // Decide
            if (_learning.ModelSettled is { } settled) await settled(ct).ConfigureAwait(false);
            var soc = _cycler.EstimateStateOfCharge(_time.GetUtcNow());
            var decision = Planner.NextRoi(_observations,
                new RoiContext(_position.X, _position.Y, soc, _cycler.Latest.CRate));
            _decisions[DecisionKinds.Roi]++;
            _journal.Write("decision", decision);
            _machine.Fire(RunTrigger.Decided);

            // Move
            var target = (X: decision.Values["x_mm"], Y: decision.Values["y_mm"]);
            await _devices.Motion.MoveAsync(new Dictionary<string, double> { [_config.Axes.X] = target.X, [_config.Axes.Y] = target.Y }, ct).ConfigureAwait(false);
            _position = target;
            _machine.Fire(RunTrigger.Arrived);

            // Acquire: the beam is checked as a level before every frame, not only on its edges.
            var status = await _devices.Motion.GetStatusAsync(ct).ConfigureAwait(false);
            if (status.BeamCurrentMa < _config.Acquisition.BeamThresholdMa)
            {
                _journal.Write("beam_low", new { beam_current_ma = status.BeamCurrentMa, threshold_ma = _config.Acquisition.BeamThresholdMa });
                Report($"beam {status.BeamCurrentMa:0.0} mA below threshold; waiting");
                await CloseShutterAsync().ConfigureAwait(false);
                await _time.SleepAsync(BeamRecheckPeriod, ct).ConfigureAwait(false);
                _machine.Fire(RunTrigger.Redecide);
                continue;
            }
            await _devices.Motion.SetShutterAsync(true, ct).ConfigureAwait(false);
            var frame = await _devices.Detector.AcquireXrdAsync(_config.Acquisition.ExposureS, ct).ConfigureAwait(false);
            await _devices.Motion.SetShutterAsync(false, ct).ConfigureAwait(false);
            _framesAcquired++;
            _beamTimeUsedS += _config.Acquisition.ExposureS;
            _machine.Fire(RunTrigger.FrameTaken);

            // Analyze
            var observation = Analyze(frame, decision.Strategy);
            _machine.Fire(RunTrigger.Analyzed);
            if (observation is null) continue;
            _observations.Add(observation);
            _learning.ObservationAdded(observation);
            Report($"frame {_framesAcquired}/{_config.Budget.Frames} at ({observation.XMm:0.0}, {observation.YMm:0.0}) mm, " +
                   $"SOC {observation.StateOfCharge:0.000}, FePO4 {observation.PhaseFraction:0.000} ± {observation.PhaseFractionSigma:0.000}; {decision.Reason}");
        }
    }

    private IRoiPlanner Planner => _planner ?? throw new InvalidOperationException("the planner exists only after preflight");

    private Observation? Analyze(Frame frame, string source)
    {
        var header = frame.Header;
        if (header.BeamCurrentMa < _config.Acquisition.BeamThresholdMa)
        {
            _framesRejected++;
            _frames.Store(frame, "no_beam");
            _journal.Write("frame_not_counted", new { frame = header.Frame, reason = $"beam {header.BeamCurrentMa:0.0} mA below threshold" });
            return null;
        }
        var features = _learning.Analyzer.Analyze(frame);
        if (!features.Usable)
        {
            _framesRejected++;
            _frames.Store(frame, "flagged:" + features.Flag);
            _journal.Write("frame_not_counted", new { frame = header.Frame, reason = features.Flag });
            return null;
        }
        _frames.Store(frame, "observation");
        var midExposure = header.TStart + TimeSpan.FromSeconds((header.ExposureS ?? 0) / 2);
        var observation = new Observation
        {
            Sequence = _observations.Count + 1,
            Frame = header.Frame,
            Time = midExposure,
            Kind = header.Kind,
            XMm = header.Positions.GetValueOrDefault(_config.Axes.X, _position.X),
            YMm = header.Positions.GetValueOrDefault(_config.Axes.Y, _position.Y),
            StateOfCharge = _cycler.EstimateStateOfCharge(midExposure),
            CRate = _cycler.Latest.CRate,
            PhaseFraction = features.PhaseFraction,
            PhaseFractionSigma = features.PhaseFractionSigma,
            BeamCurrentMa = header.BeamCurrentMa,
            Source = source,
        };
        _journal.Write("observation", observation);
        return observation;
    }

    private async Task HandleRequestsAsync(CancellationToken ct)
    {
        while (_requests.Reader.TryRead(out var request))
        {
            switch (request)
            {
                case ControlRequest.Abort:
                    _machine.Fire(RunTrigger.Abort);
                    throw new OperationCanceledException("abort requested");
                case ControlRequest.Pause when _machine.CanFire(RunTrigger.Pause):
                    _machine.Fire(RunTrigger.Pause);
                    await CloseShutterAsync().ConfigureAwait(false);
                    Report("paused; the cell continues its protocol");
                    // Wait for a resume or an abort; the cycler keeps running the cell meanwhile.
                    // Polling on the clock (not blocking on the queue) lets virtual time, and so the cell, go on.
                    while (_machine.State == RunState.Paused)
                    {
                        if (!_requests.Reader.TryRead(out var next))
                        {
                            await _time.SleepAsync(PausePollPeriod, ct).ConfigureAwait(false);
                            continue;
                        }
                        if (next == ControlRequest.Resume) _machine.Fire(RunTrigger.Resume);
                        else if (next == ControlRequest.Abort) { _machine.Fire(RunTrigger.Abort); throw new OperationCanceledException("abort requested"); }
                    }
                    Report("resumed; re-deciding from the present state");
                    break;
            }
        }
    }

    private async Task StopCyclerAsync(CancellationTokenSource stop, Task? cyclerTask)
    {
        if (cyclerTask is null) return;
        await stop.CancelAsync().ConfigureAwait(false);
        try { await cyclerTask.ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        catch (Exception e) when (_machine.IsFinal || _machine.State == RunState.Completing)
        {
            _journal.Write("cycler_error", new { message = e.Message });
        }
    }

    private async Task EnterSafeStateAsync()
    {
        await _devices.Potentiostat.EnterSafeStateAsync(CancellationToken.None).ConfigureAwait(false);
        await CloseShutterAsync().ConfigureAwait(false);
        _journal.Write("safe_state", new { output = "off", shutter = "closed requested" });
    }

    private async Task CloseShutterAsync()
    {
        try { await _devices.Motion.SetShutterAsync(false, CancellationToken.None).ConfigureAwait(false); }
        catch (DeviceException e) { _journal.Write("shutter_close_failed", new { message = e.Message }); }
    }

    private void Report(string message) =>
        Progress?.Invoke(new RunProgress(message, _framesAcquired, _observations.Count, _cycler.Latest.StateOfCharge));
}

/// <summary>The equipment and the config disagree, or the cell is not fit to start.</summary>
public sealed class PreflightException(string message) : Exception("preflight: " + message);

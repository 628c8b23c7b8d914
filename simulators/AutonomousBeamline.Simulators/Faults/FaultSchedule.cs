using AutonomousBeamline.Simulators.Detector;
using AutonomousBeamline.Simulators.Motion;
using AutonomousBeamline.Simulators.Physics;
using AutonomousBeamline.Simulators.Potentiostat;

namespace AutonomousBeamline.Simulators.Faults;

/// <summary>One fault to inject: when (from the start of the schedule), into which device, what, how often, how long.</summary>
public sealed record ScheduledFault(TimeSpan At, string Device, string Kind, int Count = 1, TimeSpan? Duration = null)
{
    public override string ToString() => $"{Device} {Kind} ×{Count} at {At.TotalSeconds:0} s";
}

/// <summary>
/// Injects faults into the running simulators at given moments of the (virtual or wall) clock, through their
/// own fault switches. Timers are made on the simulators' clock, so a dry run meets its faults at the same
/// moments of the experiment every time.
/// </summary>
public sealed class FaultSchedule : IDisposable
{
    private readonly List<ITimer> _timers = new();
    private readonly ScpiServer _potentiostat;
    private readonly IReadOnlyList<Action<TimeSpan>> _potentiostatLinks;
    private readonly Func<MotionServer> _motion;
    private readonly Action<TimeSpan>? _restartMotion;
    private readonly MotionStage _stage;
    private readonly DetectorServer _detector;
    private int _injected;

    public FaultSchedule(TimeProvider time, IEnumerable<ScheduledFault> faults, ScpiServer potentiostat, Func<MotionServer> motion, MotionStage stage, DetectorServer detector,
        IReadOnlyList<Action<TimeSpan>>? potentiostatLinks = null, Action<TimeSpan>? restartMotion = null)
    {
        _restartMotion = restartMotion;
        _potentiostatLinks = potentiostatLinks ?? [];
        _stage = stage;
        _potentiostat = potentiostat;
        _motion = motion;
        _detector = detector;
        foreach (var fault in faults)
        {
            Validate(fault);
            _timers.Add(time.CreateTimer(_ => Inject(fault, time), null, fault.At, Timeout.InfiniteTimeSpan));
        }
    }

    /// <summary>Raised after each injection, on a timer thread.</summary>
    public event Action<ScheduledFault>? Injected;

    public int InjectedCount => Volatile.Read(ref _injected);

    private static void Validate(ScheduledFault f)
    {
        if (!FaultKinds.ByDevice.TryGetValue(f.Device, out var known))
            throw new ArgumentException($"fault {f}: unknown device '{f.Device}'");
        if (!known.Contains(f.Kind)) throw new ArgumentException($"fault {f}: a {f.Device} cannot '{f.Kind}'");
        if (f.Count < 1) throw new ArgumentException($"fault {f}: count must be at least 1");
    }

    private void Inject(ScheduledFault f, TimeProvider time)
    {
        var duration = f.Duration ?? TimeSpan.FromSeconds(1);
        switch (f.Device, f.Kind)
        {
            case ("potentiostat", "drop_reply"): _potentiostat.Faults.DropReplies(f.Count); break;
            case ("potentiostat", "garbage_reply"): _potentiostat.Faults.GarbleReplies(f.Count); break;
            case ("potentiostat", "disconnect"):
                // The serial line (or socket) vanishes for the duration, in wall-clock time, and comes back.
                foreach (var disconnect in _potentiostatLinks) disconnect(duration);
                break;
            case ("potentiostat", "overheat"):
                // The cell's thermocouple reads 25 °C hot for the duration.
                _potentiostat.Faults.ExtraHeatC = 25;
                Later(time, duration, () => _potentiostat.Faults.ExtraHeatC = 0);
                break;
            case ("potentiostat", "scpi_error"): _potentiostat.Faults.RefuseNextCommand(-221, "Settings conflict;injected fault"); break;
            case ("potentiostat", "slow_reply"):
                _potentiostat.Faults.ReplyDelay = duration;
                Later(time, TimeSpan.FromSeconds(30), () => _potentiostat.Faults.ReplyDelay = TimeSpan.Zero);
                break;
            case ("motion", "drop_reply"): _motion().DropNextReplies(f.Count); break;
            case ("motion", "slow_reply"): _motion().DelayNextReplies(f.Count, duration); break;
            case ("motion", "restart"):
                // The server process goes away for the duration (wall clock) and comes back on its port;
                // the stage (the hardware) keeps its positions.
                (_restartMotion ?? throw new InvalidOperationException("no way to restart the motion server was given"))(duration);
                break;
            case ("detector", "drop_reply"): _detector.DropNextReplies(f.Count); break;
            case ("detector", "slow_reply"): _detector.DelayNextReplies(f.Count, duration); break;
            case ("detector", "drop_frame"): _detector.DropNextFrames(f.Count); break;
            case ("detector", "truncated_frame"): _detector.CorruptNextFrames(FrameCorruption.TruncatedPayload, f.Count); break;
            case ("detector", "wrong_n"): _detector.CorruptNextFrames(FrameCorruption.WrongN, f.Count); break;
            case ("detector", "nan_values"): _detector.CorruptNextFrames(FrameCorruption.NotANumber, f.Count); break;
            case ("detector", "frame_for_no_request"): _detector.CorruptNextFrames(FrameCorruption.ForeignRequestId, f.Count); break;
            case ("detector", "fault"):
                _detector.InjectFault("injected fault");
                Later(time, duration, _detector.ClearFault);
                break;
            case ("motion", "interlock"):
                _stage.TripInterlock("hutch search lost (injected)");
                Later(time, duration, _stage.ClearInterlock);
                break;
            case ("motion", "fault"):
                _stage.InjectFault("injected fault");
                Later(time, duration, _stage.ClearFault);
                break;
        }
        Interlocked.Increment(ref _injected);
        Injected?.Invoke(f);
    }

    private void Later(TimeProvider time, TimeSpan after, Action action)
    {
        lock (_timers) _timers.Add(time.CreateTimer(_ => action(), null, after, Timeout.InfiniteTimeSpan));
    }

    public void Dispose()
    {
        lock (_timers)
        {
            foreach (var timer in _timers) timer.Dispose();
            _timers.Clear();
        }
    }
}

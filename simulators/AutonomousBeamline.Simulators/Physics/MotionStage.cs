using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Simulators.Physics;

/// <summary>One simulated axis. <see cref="Initial"/> defaults to 0 clamped into [Min, Max].</summary>
public sealed record StageAxis(string Name, string Unit, double Min, double Max, double Speed, double? Initial = null);

/// <summary>A period without beam: the ring current is ~0 from <see cref="Start"/> for <see cref="Duration"/>.</summary>
public sealed record BeamDump(DateTimeOffset Start, TimeSpan Duration)
{
    public bool Covers(DateTimeOffset t) => t >= Start && t < Start + Duration;
}

/// <summary>The stage refused a command; <see cref="Code"/> is the ICD error code the server answers with.</summary>
public sealed class StageRefusedException(FacilityErrorCode code, string message) : Exception(message)
{
    public FacilityErrorCode Code { get; } = code;
}

/// <summary>
/// The physics behind the motion server: axes that travel linearly at their speed, a settle time,
/// the experimental shutter and the ring current with scheduled beam dumps.
/// </summary>
/// <remarks>
/// Positions are computed from the move's start time and target on the injected clock rather than
/// stepped by a timer, so the stage is exact at any instant and costs nothing while nobody asks.
/// </remarks>
public sealed class MotionStage : IBeamlineView
{
    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly Dictionary<string, StageAxis> _axes;
    private readonly Dictionary<string, Segment> _segments;
    private readonly IReadOnlyList<BeamDump> _beamDumps;
    private DateTimeOffset _busyUntil = DateTimeOffset.MinValue;
    private string? _fault;
    private string? _interlock;
    private bool _shutterOpen;

    public MotionStage(TimeProvider timeProvider, IEnumerable<StageAxis> axes, double nominalBeamMa,
        IEnumerable<BeamDump>? beamDumps = null, TimeSpan? settleTime = null)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(axes);
        if (!(nominalBeamMa > 0) || !double.IsFinite(nominalBeamMa))
            throw new ArgumentOutOfRangeException(nameof(nominalBeamMa), nominalBeamMa, "the nominal beam current must be positive");
        _time = timeProvider;
        Axes = axes.ToList();
        if (Axes.Count == 0) throw new ArgumentException("a stage needs at least one axis", nameof(axes));
        _axes = new Dictionary<string, StageAxis>(StringComparer.Ordinal);
        _segments = new Dictionary<string, Segment>(StringComparer.Ordinal);
        var now = _time.GetUtcNow();
        foreach (var axis in Axes)
        {
            if (string.IsNullOrWhiteSpace(axis.Name)) throw new ArgumentException("an axis has no name", nameof(axes));
            if (!double.IsFinite(axis.Min) || !double.IsFinite(axis.Max) || axis.Max < axis.Min)
                throw new ArgumentException($"axis '{axis.Name}': min {axis.Min} and max {axis.Max} do not form a range", nameof(axes));
            if (!(axis.Speed > 0) || !double.IsFinite(axis.Speed))
                throw new ArgumentException($"axis '{axis.Name}': speed must be positive", nameof(axes));
            if (!_axes.TryAdd(axis.Name, axis)) throw new ArgumentException($"axis '{axis.Name}' is listed twice", nameof(axes));
            var start = Math.Clamp(axis.Initial ?? 0.0, axis.Min, axis.Max);
            _segments[axis.Name] = new Segment(start, start, now, now);
        }
        NominalBeamMa = nominalBeamMa;
        _beamDumps = (beamDumps ?? []).ToList();
        SettleTime = settleTime ?? TimeSpan.FromMilliseconds(200);
        if (SettleTime < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(settleTime), "settle time cannot be negative");
    }

    public IReadOnlyList<StageAxis> Axes { get; }

    public double NominalBeamMa { get; }

    /// <summary>Time after the last axis arrives during which the stage still reports "moving".</summary>
    public TimeSpan SettleTime { get; }

    /// <summary>The ring current reported during a beam dump (0 unless a residual is wanted).</summary>
    public double DumpedBeamMa { get; init; }

    public bool ShutterOpen
    {
        get { lock (_gate) return _shutterOpen; }
    }

    public string? FaultReason
    {
        get { lock (_gate) return _fault; }
    }

    /// <summary>Why the beamline's interlock is not ok (the hutch search lost, say), or null when it is.</summary>
    public string? InterlockReason
    {
        get { lock (_gate) return _interlock; }
    }

    /// <summary>The interlock drops (as a lost hutch search does) until <see cref="ClearInterlock"/>; the stage itself goes on.</summary>
    public void TripInterlock(string reason)
    {
        lock (_gate) _interlock = reason;
    }

    public void ClearInterlock()
    {
        lock (_gate) _interlock = null;
    }

    public void SetShutter(bool open)
    {
        lock (_gate) _shutterOpen = open;
    }

    public IReadOnlyDictionary<string, double> PositionsAt(DateTimeOffset t)
    {
        lock (_gate) return _segments.ToDictionary(kv => kv.Key, kv => kv.Value.At(t), StringComparer.Ordinal);
    }

    public MotionState StateAt(DateTimeOffset t)
    {
        lock (_gate)
        {
            if (_fault is not null) return MotionState.Fault;
            return t < _busyUntil ? MotionState.Moving : MotionState.Idle;
        }
    }

    public double BeamCurrentMaAt(DateTimeOffset t) =>
        _beamDumps.Any(d => d.Covers(t)) ? DumpedBeamMa : NominalBeamMa;

    /// <summary>Starts a move of the given axes now and returns the time until it has settled.</summary>
    /// <exception cref="StageRefusedException">Unknown axis, target outside the travel, a move under way, or a fault. Nothing moves then.</exception>
    public TimeSpan StartMove(IReadOnlyDictionary<string, double> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (_fault is not null) throw new StageRefusedException(FacilityErrorCode.Fault, $"stage in fault: {_fault}");
            if (now < _busyUntil) throw new StageRefusedException(FacilityErrorCode.Busy, "a move is under way");
            if (targets.Count == 0) throw new StageRefusedException(FacilityErrorCode.BadRequest, "no targets given");
            // Check every target before touching any axis: a refused move moves nothing.
            foreach (var (name, target) in targets)
            {
                if (!_axes.TryGetValue(name, out var axis)) throw new StageRefusedException(FacilityErrorCode.UnknownAxis, $"no axis '{name}'");
                if (!double.IsFinite(target)) throw new StageRefusedException(FacilityErrorCode.BadRequest, $"target of '{name}' is not a finite number");
                if (target < axis.Min || target > axis.Max)
                    throw new StageRefusedException(FacilityErrorCode.OutOfRange,
                        FormattableString.Invariant($"'{name}' target {target} is outside [{axis.Min}, {axis.Max}] {axis.Unit}"));
            }
            var longest = TimeSpan.Zero;
            foreach (var (name, target) in targets)
            {
                var from = _segments[name].At(now);
                var travel = TimeSpan.FromSeconds(Math.Abs(target - from) / _axes[name].Speed);
                _segments[name] = new Segment(from, target, now, now + travel);
                if (travel > longest) longest = travel;
            }
            var eta = longest + SettleTime;
            _busyUntil = now + eta;
            return eta;
        }
    }

    /// <summary>Halts every axis where it is now.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            foreach (var name in _segments.Keys.ToList())
            {
                var here = _segments[name].At(now);
                _segments[name] = new Segment(here, here, now, now);
            }
            _busyUntil = now;
        }
    }

    /// <summary>Puts the stage into fault: axes halt, moves are refused with FAULT until <see cref="ClearFault"/>.</summary>
    public void InjectFault(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        Stop();
        lock (_gate) _fault = reason;
    }

    public void ClearFault()
    {
        lock (_gate) _fault = null;
    }

    private readonly record struct Segment(double From, double To, DateTimeOffset Start, DateTimeOffset End)
    {
        public double At(DateTimeOffset t)
        {
            if (t >= End) return To;
            if (t <= Start) return From;
            var fraction = (t - Start).TotalSeconds / (End - Start).TotalSeconds;
            return From + (To - From) * fraction;
        }
    }
}

namespace AutonomousBeamline.Simulators.Zmq;

/// <summary>
/// How a simulated ZeroMQ server answers, apart from what it answers. The native manner is this project's own habit (one
/// reply per request, at once, only the ICD's fields). The foreign manner is a gateway written by someone else from the
/// ICD alone: replies carry fields of its own, some come a little late, some twice, and now and then the reply to the
/// previous request comes again before the current one. Detector frames may be re-sent after their request is done
/// (for a client, a frame out of order) and may leave positions out of the header.
/// </summary>
public sealed class ZmqWireManner
{
    private readonly object _gate = new();
    private readonly Random _random;

    private ZmqWireManner(int seed) => _random = new Random(seed);

    public static ZmqWireManner Native { get; } = new(0);

    public static ZmqWireManner Foreign(int seed) => new(seed)
    {
        ExtraFields = true, Duplicate = 0.03, StaleFirst = 0.02, Delayed = 0.05, MaxDelay = TimeSpan.FromMilliseconds(250),
        FrameResent = 0.03, PositionsLeftOut = 0.03,
    };

    /// <summary>Every reply and frame header carries fields the ICD does not define.</summary>
    public bool ExtraFields { get; private init; }
    public double Duplicate { get; private init; }
    public double StaleFirst { get; private init; }
    public double Delayed { get; private init; }
    public TimeSpan MaxDelay { get; private init; }
    public double FrameResent { get; private init; }
    public double PositionsLeftOut { get; private init; }

    public bool Chance(double p)
    {
        if (p <= 0) return false;
        lock (_gate) return _random.NextDouble() < p;
    }

    /// <summary>A delay within the client's patience (a slow gateway, not a lost reply).</summary>
    public TimeSpan Delay()
    {
        lock (_gate) return TimeSpan.FromMilliseconds(MaxDelay.TotalMilliseconds * _random.NextDouble());
    }
}

using System.Diagnostics;

namespace AutonomousBeamline.Core.Time;

/// <summary>
/// A discrete-event clock for dry runs: virtual time stands still while anyone is busy
/// and jumps to the next deadline once every registered actor is asleep.
/// </summary>
/// <remarks>
/// Why this shape: the dry run talks to its simulators over real transports (a pty, TCP),
/// so real I/O must cost no virtual time, while a 12-hour night of cycling must pass in
/// minutes. An actor is a long-lived loop (the measurement loop, the cycler) that joins with
/// <see cref="JoinActor"/>; its sleeps go through <see cref="Clock.SleepAsync"/>. When all
/// joined actors sleep, time advances to the earliest wake-up, firing any timers on the way.
/// With no actor joined, a sleep advances time at once (handy in tests and tools).
/// Everything else (simulators, timers made through <see cref="TimeProvider.CreateTimer"/>)
/// is passive: it sees time move but never holds it back.
/// </remarks>
public sealed class VirtualTimeProvider : TimeProvider
{
    private readonly object _gate = new();
    private readonly AsyncLocal<ActorToken?> _currentActor = new();
    private readonly PriorityQueue<Sleeper, (DateTimeOffset Due, long Order)> _sleepers = new();
    private readonly List<VirtualTimer> _timers = new();
    private DateTimeOffset _now;
    private long _order;
    private int _actors;
    private int _sleepingActors;
    private double? _pace;
    private DateTimeOffset _paceStartVirtual;
    private long _paceStartWall;

    public VirtualTimeProvider(DateTimeOffset start) => _now = start;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate) return _now;
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>Number of actors currently joined (for diagnostics and tests).</summary>
    public int Actors
    {
        get { lock (_gate) return _actors; }
    }

    /// <summary>
    /// Registers the calling async flow as an actor until the returned handle is disposed.
    /// Child tasks started from this flow inherit the membership, so start each independent
    /// loop from a flow that joins on its own.
    /// </summary>
    public IDisposable JoinActor()
    {
        var token = CreateActor();
        _currentActor.Value = token;
        return token;
    }

    /// <summary>
    /// Starts <paramref name="body"/> as a new actor. Membership is counted before this returns, so
    /// time cannot slip past the new actor's first sleep while its task is still being scheduled.
    /// </summary>
    public Task StartActor(Func<Task> body)
    {
        var token = CreateActor();
        return Task.Run(async () =>
        {
            _currentActor.Value = token;
            try { await body().ConfigureAwait(false); }
            finally { token.Dispose(); }
        });
    }

    private ActorToken CreateActor()
    {
        var token = new ActorToken(this);
        lock (_gate) _actors++;
        return token;
    }

    /// <summary>Moves time forward by hand (tests, or tools that drive the clock themselves).</summary>
    public void Advance(TimeSpan delta)
    {
        if (delta < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(delta), "time cannot run backwards");
        List<Action> due;
        lock (_gate) due = AdvanceLocked(_now + delta);
        Run(due);
    }

    /// <summary>
    /// When set, virtual time runs at most this many seconds per second of wall time: a sleep that ends ahead
    /// of that pace is held back in real time. Lets a person watch (and steer) a dry run; null runs flat out.
    /// </summary>
    public double? Pace
    {
        get => _pace;
        set
        {
            if (value is { } p && !(p > 0)) throw new ArgumentOutOfRangeException(nameof(value), "the pace must be positive");
            lock (_gate)
            {
                _pace = value;
                _paceStartVirtual = _now;
                _paceStartWall = Stopwatch.GetTimestamp();
            }
        }
    }

    /// <summary>Sleeps for <paramref name="delay"/> of virtual time (and, with a <see cref="Pace"/>, long enough in wall time).</summary>
    public async Task SleepAsync(TimeSpan delay, CancellationToken cancellationToken = default)
    {
        await SleepVirtualAsync(delay, cancellationToken).ConfigureAwait(false);
        double? pace;
        DateTimeOffset startVirtual;
        long startWall;
        lock (_gate) (pace, startVirtual, startWall) = (_pace, _paceStartVirtual, _paceStartWall);
        if (pace is not { } p) return;
        // Still an awake actor while it waits, so the clock cannot run ahead of the pace meanwhile.
        var due = TimeSpan.FromSeconds((GetUtcNow() - startVirtual).TotalSeconds / p);
        var ahead = due - Stopwatch.GetElapsedTime(startWall);
        if (ahead > TimeSpan.Zero) await Task.Delay(ahead, cancellationToken).ConfigureAwait(false);
    }

    private Task SleepVirtualAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay < TimeSpan.Zero) delay = TimeSpan.Zero;
        cancellationToken.ThrowIfCancellationRequested();
        var actor = _currentActor.Value is { Disposed: false } a && ReferenceEquals(a.Owner, this) ? a : null;
        var sleeper = new Sleeper(actor is not null);
        List<Action> due;
        lock (_gate)
        {
            _sleepers.Enqueue(sleeper, (_now + delay, _order++));
            if (sleeper.IsActor) _sleepingActors++;
            due = TryAdvanceLocked();
        }
        Run(due);
        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(() => Cancel(sleeper, cancellationToken));
            sleeper.Completion.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
        }
        return sleeper.Completion.Task;
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new VirtualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private void Cancel(Sleeper sleeper, CancellationToken token)
    {
        List<Action> due;
        lock (_gate)
        {
            if (sleeper.Done) return;
            sleeper.Done = true;
            if (sleeper.IsActor) _sleepingActors--;
            // The cancelled entry stays in the queue and is skipped when it comes due.
            due = TryAdvanceLocked();
        }
        sleeper.Completion.TrySetCanceled(token);
        Run(due);
    }

    private void Leave()
    {
        List<Action> due;
        lock (_gate)
        {
            _actors--;
            due = TryAdvanceLocked();
        }
        Run(due);
    }

    private List<Action> TryAdvanceLocked()
    {
        // Time moves only when nobody who holds it back is awake.
        if (_sleepingActors < _actors) return new List<Action>();
        while (_sleepers.TryPeek(out var head, out _) && head.Done) _sleepers.Dequeue();
        if (!_sleepers.TryPeek(out _, out var key)) return new List<Action>();
        var target = key.Due > _now ? key.Due : _now;
        return AdvanceLocked(target);
    }

    private List<Action> AdvanceLocked(DateTimeOffset target)
    {
        var actions = new List<Action>();
        while (true)
        {
            // Fire timers and wake sleepers in time order up to the target.
            var nextTimer = _timers.Where(t => t.Due is not null && t.Due <= target).OrderBy(t => t.Due).FirstOrDefault();
            DateTimeOffset? nextSleeperDue = null;
            while (_sleepers.TryPeek(out var s, out var k) && s.Done) _sleepers.Dequeue();
            if (_sleepers.TryPeek(out _, out var sk) && sk.Due <= target) nextSleeperDue = sk.Due;

            if (nextTimer is null && nextSleeperDue is null) break;
            if (nextTimer is not null && (nextSleeperDue is null || nextTimer.Due <= nextSleeperDue))
            {
                if (nextTimer.Due > _now) _now = nextTimer.Due!.Value;
                actions.Add(nextTimer.FireLocked(_now));
            }
            else
            {
                if (nextSleeperDue > _now) _now = nextSleeperDue!.Value;
                var sleeper = _sleepers.Dequeue();
                sleeper.Done = true;
                if (sleeper.IsActor) _sleepingActors--;
                actions.Add(() => sleeper.Completion.TrySetResult());
            }
        }
        if (target > _now) _now = target;
        return actions;
    }

    private static void Run(List<Action> actions)
    {
        foreach (var action in actions) action();
    }

    private sealed class Sleeper(bool isActor)
    {
        public bool IsActor { get; } = isActor;
        public bool Done { get; set; }
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class ActorToken(VirtualTimeProvider owner) : IDisposable
    {
        public VirtualTimeProvider Owner { get; } = owner;
        public bool Disposed { get; private set; }

        public void Dispose()
        {
            if (Disposed) return;
            Disposed = true;
            Owner.Leave();
        }
    }

    private sealed class VirtualTimer(VirtualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private TimeSpan _period;
        public DateTimeOffset? Due { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._gate)
            {
                _period = period;
                if (dueTime == Timeout.InfiniteTimeSpan)
                {
                    Due = null;
                    owner._timers.Remove(this);
                }
                else
                {
                    Due = owner._now + (dueTime < TimeSpan.Zero ? TimeSpan.Zero : dueTime);
                    if (!owner._timers.Contains(this)) owner._timers.Add(this);
                }
            }
            return true;
        }

        public Action FireLocked(DateTimeOffset now)
        {
            if (_period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan) Due = now + _period;
            else
            {
                Due = null;
                owner._timers.Remove(this);
            }
            return () => ThreadPool.UnsafeQueueUserWorkItem(_ => callback(state), null);
        }

        public void Dispose()
        {
            lock (owner._gate)
            {
                Due = null;
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

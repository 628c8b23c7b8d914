using System.Diagnostics;

namespace AutonomousBeamline.Core.Time;

/// <summary>
/// A discrete-event clock for dry runs: virtual time stands still while anyone is busy
/// and jumps to the next deadline once every registered actor is asleep.
/// </summary>
/// <remarks>
/// <para>
/// Why this shape: the dry run talks to its simulators over real transports (a pty, TCP),
/// so real I/O must cost no virtual time, while a 12-hour night of cycling must pass in
/// minutes. An actor is a long-lived loop (the measurement loop, the cycler) that joins with
/// <see cref="JoinActor"/> or <see cref="StartActor"/>.
/// </para>
/// <para>
/// An actor sleeps while a <em>sleep</em> armed from its flow is pending. A sleep is a one-shot timer made or re-armed
/// (<see cref="TimeProvider.CreateTimer"/>, <see cref="ITimer.Change"/>) while the actor's flow is current and
/// whose callback state is not a <see cref="CancellationTokenSource"/>: what <see cref="SleepAsync"/>,
/// <c>Task.Delay(delay, clock)</c> and Polly's retry delays arm. Its firing wakes the actor; disposing it or
/// changing it to <see cref="Timeout.InfiniteTimeSpan"/> before then is a cancelled sleep (the actor is awake
/// again); re-arming it is a cancelled sleep and a new one; and a sleep whose state is a task that has completed is
/// over (a <c>Task.Delay</c> cancelled by its token completes, and may run what awaits it, before it disposes its
/// timer). When every joined actor sleeps, time jumps to the earliest sleep's end, firing every timer on the way
/// in time order. It stops early at a time-out it fires, so that whoever the time-out wakes sees its moment, and
/// moves on once the time-out's callback has returned; other timers on the way (a simulator's fault schedule)
/// only see time pass, their callbacks running alongside whatever the jump wakes.
/// </para>
/// <para>
/// Every other timer is passive: it fires as time passes it but never makes anyone asleep. That is a timer
/// cancelling a token source (<c>new CancellationTokenSource(delay, clock)</c>, <c>CancelAfter</c>, Polly's
/// timeout), because a time-out races work rather than waiting for time; a periodic timer
/// (<see cref="PeriodicTimer"/>), because between its ticks its owner may be doing I/O, which must cost no
/// virtual time, so the clock cannot know it is waiting; and any timer armed outside an actor's flow
/// (simulators, fault schedules, tools). Outside actors only <see cref="SleepAsync"/> moves time by itself:
/// with no actor awake (none joined, in tests and tools) its sleep ends at once.
/// </para>
/// <para>
/// Limits, as the rule implies: a sleep raced against work from an actor (<c>Task.WhenAny(work, Task.Delay(t, clock))</c>,
/// or <c>task.WaitAsync(t, clock)</c>, whose timer is such a sleep) makes that actor asleep while the work runs, so
/// time may pass during its I/O; bound work with a token source or Polly's timeout instead. An actor's child
/// tasks share its membership, and an actor counts as asleep while any of its sleeps is pending. An actor awaiting
/// a periodic timer's tick is awake as far as the clock knows, so time reaches the tick only if other actors sleep
/// past it (alone, it freezes the run): an actor paces itself with a sleep between rounds instead.
/// </para>
/// <para>
/// A sleep that a time-out must be able to end is armed after it listens to the time-out's token: <see cref="SleepAsync"/>
/// (and <see cref="Clock.SleepAsync"/>) register on the token first, then arm. <c>Task.Delay(delay, clock, token)</c>
/// arms its timer first and registers afterwards, and arming is what lets time jump: the jump may stop at the time-out and
/// its callback cancel the token before the delay has registered, the clock then sees every actor still asleep and runs
/// on to the delay's end, and the delay completes as though no time-out had fired (a watchdog test failed about once in
/// a dozen runs on a loaded machine this way). The run's own code sleeps with <see cref="Clock.SleepAsync"/> for this
/// reason; Polly's retry pauses are <c>Task.Delay</c>s on the caller's token, which no time-out of the run races.
/// </para>
/// <para>
/// With a <see cref="Pace"/>, the end of every sleep (an actor's timer or <see cref="SleepAsync"/>) is held back in
/// wall time until the pace allows it; its actor is awake meanwhile, so the clock cannot run on. Passive timers are
/// not held: they fire when time passes them.
/// </para>
/// </remarks>
public sealed class VirtualTimeProvider : TimeProvider
{
    private readonly object _gate = new();
    private readonly AsyncLocal<ActorToken?> _currentActor = new();

    // Pending timers by due time, ties in arming order. Time may jump to a sleep; a passive timer only sees it pass.
    private readonly PriorityQueue<VirtualTimer, (DateTimeOffset Due, long Order)> _sleeps = new();
    private readonly PriorityQueue<VirtualTimer, (DateTimeOffset Due, long Order)> _passive = new();
    private DateTimeOffset _now;
    private long _order;
    private int _actors;

    /// <summary>Joined actors with at least one pending sleep.</summary>
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

    /// <summary>Moves time forward by hand (tests, or tools that drive the clock themselves), firing every timer on the way.</summary>
    public void Advance(TimeSpan delta)
    {
        if (delta < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(delta), "time cannot run backwards");
        List<Firing> fired;
        lock (_gate) fired = AdvanceLocked(_now + delta, stopAtTimeOuts: false);
        Dispatch(fired);
    }

    /// <summary>
    /// When set, virtual time runs at most this many seconds per second of wall time: a sleep that ends ahead
    /// of that pace is held back in real time (its sleeper is awake meanwhile, so the clock cannot run on).
    /// Lets a person watch (and steer) a dry run; null runs flat out.
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

    /// <summary>
    /// Sleeps for <paramref name="delay"/> of virtual time (and, with a <see cref="Pace"/>, long enough in wall time).
    /// From an actor it is the same sleep as <c>Task.Delay(delay, clock)</c>, to the tick rather than the
    /// millisecond; outside actors it also moves time by itself once no actor is awake, where a <c>Task.Delay</c>
    /// would wait for something else to move it.
    /// </summary>
    public async Task SleepAsync(TimeSpan delay, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var woken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var timer = new VirtualTimer(this, static state => ((TaskCompletionSource)state!).TrySetResult(), woken, sleepsOutsideActors: true);
        using var registration = cancellationToken.Register(() =>
        {
            // The sleep ends before the sleeper runs on, so the clock never counts a running flow as asleep.
            timer.Dispose();
            woken.TrySetCanceled(cancellationToken);
        });
        timer.Change(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan);
        await woken.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// A timer on virtual time. Made from an actor's flow, a one-shot timer is that actor's sleep while it is pending
    /// (unless its state is a <see cref="CancellationTokenSource"/>: a time-out); periodic timers and timers made
    /// outside actors are passive. The class remarks give the whole rule and its limits.
    /// </summary>
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new VirtualTimer(this, callback, state, sleepsOutsideActors: false);
        timer.Change(dueTime, period);
        return timer;
    }

    // Only a sleep starting or ending can let time jump (or move where it jumps to). A passive timer is found when
    // time passes it, and must not restart a jump that stopped at it: a token source disposes its timer before it
    // runs what its cancellation wakes.

    private bool Change(VirtualTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        List<Firing> fired = [];
        lock (_gate)
        {
            if (timer.Disposed) return false;
            var sleepEnded = DisarmLocked(timer);
            var sleepStarted = dueTime != Timeout.InfiniteTimeSpan && ArmLocked(timer, dueTime, period);
            if (sleepEnded || sleepStarted) fired = TryAdvanceLocked();
        }
        Dispatch(fired);
        return true;
    }

    private void Dispose(VirtualTimer timer)
    {
        List<Firing> fired = [];
        lock (_gate)
        {
            if (timer.Disposed) return;
            timer.Disposed = true;
            if (DisarmLocked(timer)) fired = TryAdvanceLocked();
        }
        Dispatch(fired);
    }

    /// <summary>Queues the timer; true when it is a sleep.</summary>
    private bool ArmLocked(VirtualTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        var key = (_now + (dueTime < TimeSpan.Zero ? TimeSpan.Zero : dueTime), _order++);
        var periodic = period != TimeSpan.Zero && period != Timeout.InfiniteTimeSpan;
        var actor = _currentActor.Value is { Joined: true } current ? current : null;
        timer.Key = key;
        timer.Period = periodic ? period : TimeSpan.Zero;
        timer.IsSleep = !periodic && timer.State is not CancellationTokenSource && (actor is not null || timer.SleepsOutsideActors);
        if (!timer.IsSleep)
        {
            _passive.Enqueue(timer, key);
            return false;
        }
        _sleeps.Enqueue(timer, key);
        timer.Sleeper = actor;
        if (actor is not null && actor.PendingSleeps++ == 0) _sleepingActors++;
        return true;
    }

    /// <summary>Takes the timer out of its queue and calls off a firing on its way; true when a pending sleep ended.</summary>
    private bool DisarmLocked(VirtualTimer timer)
    {
        timer.CallOff();
        if (timer.Key is null) return false;
        (timer.IsSleep ? _sleeps : _passive).Remove(timer, out _, out _);
        timer.Key = null;
        WakeLocked(timer);
        return timer.IsSleep;
    }

    /// <summary>The sleep <paramref name="timer"/> stood for has ended, fired or cancelled: its actor may be awake again.</summary>
    private void WakeLocked(VirtualTimer timer)
    {
        if (timer.Sleeper is not { } actor) return;
        timer.Sleeper = null;
        if (--actor.PendingSleeps == 0 && actor.Joined) _sleepingActors--;
    }

    private void Leave(ActorToken actor)
    {
        List<Firing> fired;
        lock (_gate)
        {
            if (!actor.Joined) return;
            actor.Joined = false;
            _actors--;
            if (actor.PendingSleeps > 0) _sleepingActors--;
            fired = TryAdvanceLocked();
        }
        Dispatch(fired);
    }

    private void TryAdvance()
    {
        List<Firing> fired;
        lock (_gate) fired = TryAdvanceLocked();
        Dispatch(fired);
    }

    private List<Firing> TryAdvanceLocked()
    {
        // Time moves only when nobody who holds it back is awake, and only towards a sleep's end.
        if (_sleepingActors < _actors) return [];
        EndFinishedSleepsLocked();
        if (_sleepingActors < _actors || !_sleeps.TryPeek(out _, out var next)) return [];
        return AdvanceLocked(next.Due > _now ? next.Due : _now, stopAtTimeOuts: true);
    }

    /// <summary>
    /// Ends the sleeps whose task is already complete. A <c>Task.Delay</c> cancelled by its token completes, and may run
    /// its awaiter's code, before it disposes its timer: its sleeper is awake from the moment the task is done.
    /// </summary>
    private void EndFinishedSleepsLocked()
    {
        var finished = _sleeps.UnorderedItems.Select(item => item.Element).Where(timer => timer.State is Task { IsCompleted: true }).ToList();
        foreach (var timer in finished) DisarmLocked(timer);
    }

    /// <summary>
    /// Fires every timer due up to <paramref name="target"/> in time order (a passive one before a sleep due at the
    /// same moment). With <paramref name="stopAtTimeOuts"/> it stops at the moment of the first time-out it fires.
    /// </summary>
    private List<Firing> AdvanceLocked(DateTimeOffset target, bool stopAtTimeOuts)
    {
        var fired = new List<Firing>();
        var end = target;
        while (true)
        {
            var passiveDue = _passive.TryPeek(out _, out var p) ? p.Due : (DateTimeOffset?)null;
            var sleepDue = _sleeps.TryPeek(out _, out var s) ? s.Due : (DateTimeOffset?)null;
            var takePassive = passiveDue <= end && (sleepDue is null || passiveDue <= sleepDue);
            if (!takePassive && !(sleepDue <= end)) break;

            var timer = (takePassive ? _passive : _sleeps).Dequeue();
            var due = takePassive ? passiveDue!.Value : sleepDue!.Value;
            if (due > _now) _now = due;
            if (takePassive)
            {
                var stops = stopAtTimeOuts && timer.State is CancellationTokenSource;
                if (stops) end = _now;
                fired.Add(new Firing(timer, timer.Arming, HoldBack: TimeSpan.Zero, ResumesJump: stops));
                if (timer.Period > TimeSpan.Zero) RearmPeriodicLocked(timer);
                else timer.Key = null;
            }
            else
            {
                timer.Key = null;
                WakeLocked(timer);
                fired.Add(new Firing(timer, timer.Arming, HoldBackLocked(), ResumesJump: false));
            }
        }
        if (end > _now) _now = end;
        return fired;
    }

    private void RearmPeriodicLocked(VirtualTimer timer)
    {
        var key = (_now + timer.Period, _order++);
        timer.Key = key;
        _passive.Enqueue(timer, key);
    }

    /// <summary>How long a sleep ending now must wait in wall time to keep the <see cref="Pace"/>.</summary>
    private TimeSpan HoldBackLocked()
    {
        if (_pace is not { } pace) return TimeSpan.Zero;
        var due = TimeSpan.FromSeconds((_now - _paceStartVirtual).TotalSeconds / pace);
        return due - Stopwatch.GetElapsedTime(_paceStartWall);
    }

    /// <summary>
    /// Runs fired timers' callbacks on the thread pool, outside whatever flow moved the clock, as a real timer's
    /// callback runs outside the flow that armed it (otherwise what a callback arms would count as that flow's sleep).
    /// </summary>
    private static void Dispatch(List<Firing> fired)
    {
        foreach (var firing in fired) ThreadPool.UnsafeQueueUserWorkItem(static f => f.Deliver(), firing, preferLocal: false);
    }

    /// <summary>One timer's firing on its way to its callback.</summary>
    /// <param name="Arming">The timer's arming when it fired: a firing that was called off since is dropped.</param>
    /// <param name="HoldBack">Wall time to wait first, to keep the pace.</param>
    /// <param name="ResumesJump">A time-out the jump stopped at: the clock looks again once its callback has returned.</param>
    private readonly record struct Firing(VirtualTimer Timer, long Arming, TimeSpan HoldBack, bool ResumesJump)
    {
        public void Deliver()
        {
            if (HoldBack > TimeSpan.Zero)
            {
                _ = DeliverAfterHoldBackAsync();
                return;
            }
            Timer.Invoke(Arming);
            if (ResumesJump) Timer.Owner.TryAdvance();
        }

        private async Task DeliverAfterHoldBackAsync()
        {
            await Task.Delay(HoldBack).ConfigureAwait(false);
            Dispatch([this with { HoldBack = TimeSpan.Zero }]);
        }
    }

    private sealed class ActorToken(VirtualTimeProvider owner) : IDisposable
    {
        // Guarded by the owner's gate.
        public bool Joined { get; set; } = true;
        public int PendingSleeps { get; set; }

        public void Dispose() => owner.Leave(this);
    }

    private sealed class VirtualTimer(VirtualTimeProvider owner, TimerCallback callback, object? state, bool sleepsOutsideActors) : ITimer
    {
        private long _arming;

        public VirtualTimeProvider Owner { get; } = owner;
        public object? State { get; } = state;

        /// <summary>Made by <see cref="SleepAsync"/>: a sleep even outside any actor.</summary>
        public bool SleepsOutsideActors { get; } = sleepsOutsideActors;

        // The rest is guarded by the owner's gate.
        public (DateTimeOffset Due, long Order)? Key { get; set; }
        public bool IsSleep { get; set; }
        public ActorToken? Sleeper { get; set; }
        public TimeSpan Period { get; set; }
        public bool Disposed { get; set; }

        /// <summary>Counts every change and disposal, so that a firing already on its way can tell it was called off.</summary>
        public long Arming => Volatile.Read(ref _arming);

        public void CallOff() => Interlocked.Increment(ref _arming);

        public void Invoke(long arming)
        {
            if (Arming == arming) callback(State);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period) => Owner.Change(this, dueTime, period);

        public void Dispose() => Owner.Dispose(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

using AutonomousBeamline.Core.Time;

namespace AutonomousBeamline.Core.Tests.Time;

public class VirtualTimeProviderTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 21, 0, 0, TimeSpan.Zero);

    /// <summary>Bounds waiting on a clock that would otherwise freeze on a regression; not a speed requirement.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(10);

    /// <summary>Wall time given to a clock that must not move, so that a wrong jump (which takes microseconds) is seen.</summary>
    private static Task LetTheClockTryToMove() => Task.Delay(50);

    [Fact]
    public async Task Without_actors_a_sleep_advances_time_at_once()
    {
        var clock = new VirtualTimeProvider(Start);
        await clock.SleepAsync(TimeSpan.FromHours(12));
        Assert.Equal(Start.AddHours(12), clock.GetUtcNow());
    }

    [Fact]
    public async Task Time_waits_for_every_actor_to_sleep()
    {
        var clock = new VirtualTimeProvider(Start);
        var secondMayGo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        DateTimeOffset? firstWokeAt = null;

        var second = clock.StartActor(async () =>
        {
            await secondMayGo.Task; // busy (as if doing I/O): time must stand still
            await clock.SleepAsync(TimeSpan.FromSeconds(30));
        });
        var first = clock.StartActor(async () =>
        {
            await clock.SleepAsync(TimeSpan.FromSeconds(10));
            firstWokeAt = clock.GetUtcNow();
        });

        await Task.Delay(50);
        Assert.Equal(Start, clock.GetUtcNow());
        Assert.Null(firstWokeAt);

        secondMayGo.SetResult();
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Start.AddSeconds(10), firstWokeAt);
        Assert.Equal(Start.AddSeconds(30), clock.GetUtcNow());
    }

    public enum Sleep { SleepAsync, TaskDelay }

    [Theory]
    [InlineData(Sleep.SleepAsync)]
    [InlineData(Sleep.TaskDelay)]
    public async Task Interleaved_sleepers_wake_in_time_order(Sleep sleep)
    {
        var clock = new VirtualTimeProvider(Start);
        var log = new List<(string Who, double T)>();
        async Task Loop(string who, double period, int count)
        {
            for (var i = 0; i < count; i++)
            {
                var delay = TimeSpan.FromSeconds(period);
                await (sleep == Sleep.TaskDelay ? Task.Delay(delay, clock) : clock.SleepAsync(delay));
                lock (log) log.Add((who, (clock.GetUtcNow() - Start).TotalSeconds));
            }
        }
        Task a, b;
        // Hold time while both loops join, so that neither can run ahead alone.
        using (clock.JoinActor())
        {
            a = clock.StartActor(() => Loop("a", 3, 4));
            b = clock.StartActor(() => Loop("b", 5, 2));
        }
        await Task.WhenAll(a, b).WaitAsync(HangGuard);
        Assert.Equal(new (string, double)[] { ("a", 3), ("b", 5), ("a", 6), ("a", 9), ("b", 10), ("a", 12) }, log);
    }

    [Fact]
    public async Task Timers_fire_as_time_passes_them()
    {
        var clock = new VirtualTimeProvider(Start);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5), clock);
        await clock.SleepAsync(TimeSpan.FromSeconds(4));
        Assert.False(cts.IsCancellationRequested);
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = cts.Token.Register(() => fired.TrySetResult());
        await clock.SleepAsync(TimeSpan.FromSeconds(2));
        await fired.Task.WaitAsync(TimeSpan.FromSeconds(10)); // the callback runs on the thread pool
        Assert.True(cts.IsCancellationRequested);
    }

    [Fact]
    public async Task A_cancelled_sleep_releases_time_for_the_others()
    {
        var clock = new VirtualTimeProvider(Start);
        using var cancel = new CancellationTokenSource();
        // The busy actor joins first, so that the hour-long sleep can never be the only one awake.
        var busy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var other = clock.StartActor(async () => { await busy.Task; await clock.SleepAsync(TimeSpan.FromSeconds(1)); });
        var sleeper = clock.StartActor(() => clock.SleepAsync(TimeSpan.FromHours(1), cancel.Token));
        await Task.Delay(20);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sleeper.WaitAsync(TimeSpan.FromSeconds(5)));
        busy.SetResult();
        await other.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(Start.AddSeconds(1), clock.GetUtcNow());
    }

    [Fact]
    public void Advance_by_hand_moves_time_and_refuses_to_go_back()
    {
        var clock = new VirtualTimeProvider(Start);
        clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(Start.AddMinutes(3), clock.GetUtcNow());
        Assert.Throws<ArgumentOutOfRangeException>(() => clock.Advance(TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public async Task A_pace_holds_virtual_time_back_to_wall_time()
    {
        var clock = new VirtualTimeProvider(Start) { Pace = 100 }; // 100 virtual seconds per wall second
        var wall = System.Diagnostics.Stopwatch.StartNew();
        await clock.SleepAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Start.AddSeconds(30), clock.GetUtcNow());
        Assert.True(wall.Elapsed >= TimeSpan.FromMilliseconds(290), $"30 virtual s took only {wall.ElapsedMilliseconds} ms of wall time");
        Assert.Throws<ArgumentOutOfRangeException>(() => clock.Pace = 0);
    }

    [Fact]
    public async Task An_actor_awaiting_a_task_delay_sleeps_exactly_that_long()
    {
        var clock = new VirtualTimeProvider(Start);
        DateTimeOffset? wokeAt = null;

        await clock.StartActor(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), clock);
            wokeAt = clock.GetUtcNow();
        }).WaitAsync(HangGuard);

        Assert.Equal(Start.AddSeconds(10), wokeAt);
        Assert.Equal(Start.AddSeconds(10), clock.GetUtcNow());
    }

    [Fact]
    public async Task A_cancelled_task_delay_releases_time_for_the_others()
    {
        var clock = new VirtualTimeProvider(Start);
        using var cancel = new CancellationTokenSource();
        var busy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Past the cancelled delay's end: a deadline left behind by the cancellation would stop time there for good.
        var other = clock.StartActor(async () => { await busy.Task; await Task.Delay(TimeSpan.FromHours(2), clock); });
        var armed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sleeper = clock.StartActor(async () =>
        {
            var delay = Task.Delay(TimeSpan.FromHours(1), clock, cancel.Token);
            armed.SetResult();
            await delay;
        });
        await armed.Task.WaitAsync(HangGuard);

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sleeper.WaitAsync(HangGuard));
        busy.SetResult();
        await other.WaitAsync(HangGuard);

        Assert.Equal(Start.AddHours(2), clock.GetUtcNow());
    }

    [Fact]
    public async Task An_actor_whose_task_delay_was_cancelled_is_awake_again()
    {
        var clock = new VirtualTimeProvider(Start);
        using var cancel = new CancellationTokenSource();
        var busy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Joined first and busy until the cancellation, so that time cannot jump while the delay is pending.
        var other = clock.StartActor(async () => { await cancelled.Task; await Task.Delay(TimeSpan.FromSeconds(30), clock); });
        var armed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = clock.StartActor(async () =>
        {
            var delay = Task.Delay(TimeSpan.FromHours(1), clock, cancel.Token);
            armed.SetResult();
            try { await delay; }
            catch (OperationCanceledException) { cancelled.SetResult(); }
            await busy.Task; // awake, as if doing I/O: time must stand still
        });

        await armed.Task.WaitAsync(HangGuard);
        cancel.Cancel();
        await cancelled.Task.WaitAsync(HangGuard);
        await LetTheClockTryToMove();
        Assert.Equal(Start, clock.GetUtcNow());
        Assert.False(other.IsCompleted);

        busy.SetResult();
        await Task.WhenAll(actor, other).WaitAsync(HangGuard);
        Assert.Equal(Start.AddSeconds(30), clock.GetUtcNow());
    }

    [Fact]
    public async Task A_sleep_whose_task_is_complete_no_longer_holds_its_actor_asleep()
    {
        // As a Task.Delay cancelled by its token is: complete, and maybe running what awaits it, before it disposes its timer.
        var clock = new VirtualTimeProvider(Start);
        var holder = clock.JoinActor();
        var delay = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var armed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var busy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = clock.StartActor(async () =>
        {
            using var timer = clock.CreateTimer(_ => { }, delay.Task, TimeSpan.FromHours(1), Timeout.InfiniteTimeSpan);
            armed.SetResult();
            await busy.Task;
        });

        await armed.Task.WaitAsync(HangGuard);
        delay.SetResult();
        holder.Dispose(); // the only actor left is awake, its timer still armed
        await LetTheClockTryToMove();
        Assert.Equal(Start, clock.GetUtcNow());

        busy.SetResult();
        await actor.WaitAsync(HangGuard);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Disposing_or_disarming_an_actors_timer_ends_its_sleep(bool dispose)
    {
        var clock = new VirtualTimeProvider(Start);
        var busy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fired = false;
        var disarmed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Joined first and busy until the timer is disarmed, so that time cannot jump while it is pending.
        var other = clock.StartActor(async () => { await disarmed.Task; await clock.SleepAsync(TimeSpan.FromSeconds(30)); });
        var actor = clock.StartActor(async () =>
        {
            var timer = clock.CreateTimer(_ => fired = true, null, TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan);
            if (dispose) timer.Dispose();
            else timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            disarmed.SetResult();
            await busy.Task;
        });

        await disarmed.Task.WaitAsync(HangGuard);
        await LetTheClockTryToMove();
        Assert.Equal(Start, clock.GetUtcNow());

        busy.SetResult();
        await Task.WhenAll(actor, other).WaitAsync(HangGuard);
        Assert.Equal(Start.AddSeconds(30), clock.GetUtcNow());
        Assert.False(fired);
    }

    [Fact]
    public async Task Re_arming_an_actors_timer_replaces_its_sleep()
    {
        var clock = new VirtualTimeProvider(Start);
        var fired = new TaskCompletionSource<DateTimeOffset>(TaskCreationOptions.RunContinuationsAsynchronously);
        var rearmed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Joined first and busy until the timer is re-armed, so that time cannot jump while the first arming is pending.
        var other = clock.StartActor(async () => { await rearmed.Task; await clock.SleepAsync(TimeSpan.FromSeconds(30)); });
        var actor = clock.StartActor(async () =>
        {
            using var timer = clock.CreateTimer(_ => fired.TrySetResult(clock.GetUtcNow()), null, TimeSpan.FromHours(1), Timeout.InfiniteTimeSpan);
            timer.Change(TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);
            rearmed.SetResult();
            await fired.Task;
        });

        await Task.WhenAll(actor, other).WaitAsync(HangGuard);
        Assert.Equal(Start.AddSeconds(5), await fired.Task);
        Assert.Equal(Start.AddSeconds(30), clock.GetUtcNow());
    }

    [Fact]
    public async Task A_time_out_armed_by_an_awake_actor_does_not_let_time_pass()
    {
        var clock = new VirtualTimeProvider(Start);
        var busy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var timedOut = true;
        var armed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = clock.StartActor(async () =>
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5), clock);
            armed.SetResult();
            await busy.Task; // the work the time-out races
            timedOut = timeout.IsCancellationRequested;
        });
        var other = clock.StartActor(() => clock.SleepAsync(TimeSpan.FromSeconds(30)));

        await armed.Task.WaitAsync(HangGuard);
        await LetTheClockTryToMove();
        Assert.Equal(Start, clock.GetUtcNow());

        busy.SetResult();
        await Task.WhenAll(actor, other).WaitAsync(HangGuard);
        Assert.False(timedOut);
        Assert.Equal(Start.AddSeconds(30), clock.GetUtcNow());
    }

    [Fact]
    public async Task A_time_out_fires_when_time_passes_it_and_its_actor_wakes_at_its_moment()
    {
        var clock = new VirtualTimeProvider(Start);
        DateTimeOffset? timedOutAt = null;
        Task actor, other;
        using (clock.JoinActor())
        {
            actor = clock.StartActor(async () =>
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5), clock);
                // SleepAsync listens to the time-out's token before it arms (a Task.Delay arms first: the class remarks).
                try { await clock.SleepAsync(TimeSpan.FromHours(1), timeout.Token); }
                catch (OperationCanceledException) { timedOutAt = clock.GetUtcNow(); }
            });
            other = clock.StartActor(() => clock.SleepAsync(TimeSpan.FromSeconds(30)));
        }

        await Task.WhenAll(actor, other).WaitAsync(HangGuard);
        Assert.Equal(Start.AddSeconds(5), timedOutAt);
        Assert.Equal(Start.AddSeconds(30), clock.GetUtcNow());
    }

    [Fact]
    public async Task A_periodic_timer_ticks_as_time_passes_but_never_makes_its_actor_asleep()
    {
        var clock = new VirtualTimeProvider(Start);
        var busy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ticks = 0;
        var armed = new TaskCompletionSource<ITimer>(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = clock.StartActor(async () =>
        {
            armed.SetResult(clock.CreateTimer(_ => Interlocked.Increment(ref ticks), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
            await busy.Task;
        });
        var other = clock.StartActor(() => clock.SleepAsync(TimeSpan.FromSeconds(3.5)));

        using var ticker = await armed.Task.WaitAsync(HangGuard);
        await LetTheClockTryToMove();
        Assert.Equal(Start, clock.GetUtcNow());

        busy.SetResult();
        await Task.WhenAll(actor, other).WaitAsync(HangGuard);
        Assert.Equal(Start.AddSeconds(3.5), clock.GetUtcNow());
        // Ticks run alongside what the jump wakes: the last may still be on its way from the thread pool.
        for (var waited = 0; Volatile.Read(ref ticks) < 3 && waited < 200; waited++) await Task.Delay(10);
        Assert.Equal(3, Volatile.Read(ref ticks));
    }

    [Fact]
    public async Task Outside_actors_a_task_delay_is_passive_and_ends_as_time_passes_it()
    {
        var clock = new VirtualTimeProvider(Start);

        var delay = Task.Delay(TimeSpan.FromSeconds(10), clock);
        await LetTheClockTryToMove();
        Assert.False(delay.IsCompleted);
        Assert.Equal(Start, clock.GetUtcNow());

        await clock.SleepAsync(TimeSpan.FromSeconds(10));
        await delay.WaitAsync(HangGuard);
        Assert.Equal(Start.AddSeconds(10), clock.GetUtcNow());
    }
}

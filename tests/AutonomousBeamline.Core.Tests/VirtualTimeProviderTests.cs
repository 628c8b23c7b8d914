using AutonomousBeamline.Core.Time;

namespace AutonomousBeamline.Core.Tests;

public class VirtualTimeProviderTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 21, 0, 0, TimeSpan.Zero);

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

    [Fact]
    public async Task Interleaved_sleepers_wake_in_time_order()
    {
        var clock = new VirtualTimeProvider(Start);
        var log = new List<(string Who, double T)>();
        async Task Loop(string who, double period, int count)
        {
            for (var i = 0; i < count; i++)
            {
                await clock.SleepAsync(TimeSpan.FromSeconds(period));
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
        await Task.WhenAll(a, b).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(new double[] { 3, 5, 6, 9, 10, 12 }, log.Select(l => l.T).ToArray());
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
}

using System.Diagnostics;
using AutonomousBeamline.Core.Time;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace AutonomousBeamline.Core.Tests.Time;

/// <summary>Polly pipelines with <c>TimeProvider = clock</c>, run by actors of the virtual clock.</summary>
public class PollyOnTheVirtualClockTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 21, 0, 0, TimeSpan.Zero);

    /// <summary>Bounds waiting on a clock that would otherwise freeze on a regression; not a speed requirement.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(10);

    private sealed class Glitch : Exception;

    /// <summary>Retries a <see cref="Glitch"/> with back-off from <paramref name="delay"/>, on <paramref name="clock"/>.</summary>
    private static ResiliencePipeline Retry(TimeProvider clock, int retries, TimeSpan delay, DelayBackoffType backoff) =>
        new ResiliencePipelineBuilder { TimeProvider = clock }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Glitch>(),
                MaxRetryAttempts = retries,
                Delay = delay,
                BackoffType = backoff,
                UseJitter = false,
            })
            .Build();

    /// <summary>Runs <paramref name="pipeline"/> over an action that fails <paramref name="failures"/> times; the clock at each attempt.</summary>
    private static async Task<List<DateTimeOffset>> AttemptTimesAsync(ResiliencePipeline pipeline, TimeProvider clock, int failures)
    {
        var attempts = new List<DateTimeOffset>();
        await pipeline.ExecuteAsync(_ =>
        {
            attempts.Add(clock.GetUtcNow());
            return attempts.Count <= failures ? ValueTask.FromException(new Glitch()) : ValueTask.CompletedTask;
        });
        return attempts;
    }

    private static double[] GapsInSeconds(List<DateTimeOffset> times) =>
        times.Zip(times.Skip(1), (a, b) => (b - a).TotalSeconds).ToArray();

    [Fact]
    public async Task A_retry_backs_off_in_virtual_time_without_waiting_on_the_wall()
    {
        var clock = new VirtualTimeProvider(Start);
        var pipeline = Retry(clock, retries: 3, TimeSpan.FromSeconds(10), DelayBackoffType.Exponential);
        List<DateTimeOffset> attempts = [];

        // 70 s of back-off; the guard is far shorter, so the delays cannot have been waited in wall time.
        await clock.StartActor(async () => attempts = await AttemptTimesAsync(pipeline, clock, failures: 3)).WaitAsync(HangGuard);

        Assert.Equal(Start, attempts[0]);
        Assert.Equal([10.0, 20.0, 40.0], GapsInSeconds(attempts));
        Assert.Equal(Start.AddSeconds(70), clock.GetUtcNow());
    }

    [Fact]
    public async Task A_timeout_fires_only_when_another_actor_sleeps_past_it()
    {
        var clock = new VirtualTimeProvider(Start);
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = clock }.AddTimeout(TimeSpan.FromSeconds(5)).Build();
        var busy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var other = clock.StartActor(async () => { await busy.Task; await clock.SleepAsync(TimeSpan.FromSeconds(30)); });
        DateTimeOffset? timedOutAt = null;
        var actor = clock.StartActor(async () =>
        {
            // SleepAsync listens to the time-out's token before it arms (a Task.Delay arms first: VirtualTimeProvider's remarks).
            try { await pipeline.ExecuteAsync(async ct => await clock.SleepAsync(TimeSpan.FromHours(1), ct)); }
            catch (TimeoutRejectedException) { timedOutAt = clock.GetUtcNow(); }
        });

        // The other actor is busy: no time passes, so nothing times out.
        await Task.Delay(50);
        Assert.Null(timedOutAt);
        Assert.Equal(Start, clock.GetUtcNow());

        busy.SetResult();
        await Task.WhenAll(actor, other).WaitAsync(HangGuard);
        Assert.Equal(Start.AddSeconds(5), timedOutAt);
        Assert.Equal(Start.AddSeconds(30), clock.GetUtcNow());
    }

    [Fact]
    public async Task A_timeout_around_work_does_not_make_the_working_actor_look_asleep()
    {
        var clock = new VirtualTimeProvider(Start);
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = clock }.AddTimeout(TimeSpan.FromSeconds(5)).Build();
        var work = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var working = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = clock.StartActor(async () => await pipeline.ExecuteAsync(async ct =>
        {
            working.SetResult();
            await work.Task.WaitAsync(ct); // I/O, which costs no virtual time
        }));
        var other = clock.StartActor(() => clock.SleepAsync(TimeSpan.FromSeconds(30)));

        await working.Task.WaitAsync(HangGuard);
        await Task.Delay(50);
        Assert.Equal(Start, clock.GetUtcNow());
        Assert.False(other.IsCompleted);

        work.SetResult();
        await Task.WhenAll(actor, other).WaitAsync(HangGuard); // the work finished in time: no TimeoutRejectedException
        Assert.Equal(Start.AddSeconds(30), clock.GetUtcNow());
    }

    [Fact]
    public async Task A_pace_holds_a_retry_delay_back_in_wall_time()
    {
        var clock = new VirtualTimeProvider(Start) { Pace = 100 }; // 100 virtual seconds per wall second
        var pipeline = Retry(clock, retries: 1, TimeSpan.FromSeconds(30), DelayBackoffType.Constant);
        List<DateTimeOffset> attempts = [];
        var wall = Stopwatch.StartNew();

        await clock.StartActor(async () => attempts = await AttemptTimesAsync(pipeline, clock, failures: 1)).WaitAsync(HangGuard);

        Assert.Equal([30.0], GapsInSeconds(attempts));
        // 30 virtual s at that pace are 300 ms of wall time; the bound leaves room for timer resolution.
        Assert.True(wall.Elapsed >= TimeSpan.FromMilliseconds(250), $"30 virtual s took only {wall.ElapsedMilliseconds} ms of wall time");
    }
}

using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Control.Steps;
using AutonomousBeamline.Control.Tests.Support;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Core.Time;

namespace AutonomousBeamline.Control.Tests.Steps;

/// <summary>The uniform error policy of a step: attempts, the action when they are used up, and a watchdog on the run's clock.</summary>
public sealed class StepRunnerTests
{
    private readonly VirtualTimeProvider _clock = new(EngineRig.Start);
    private readonly MemoryJournal _journal;
    private readonly StepRunner _runner;

    public StepRunnerTests()
    {
        _journal = new MemoryJournal(_clock);
        _runner = new StepRunner(_clock, _journal);
    }

    private static XrdStep Step(int attempts, StepErrorAction onError, double watchdogS = 100) => new(
        new Decision { Kind = DecisionKind.Roi, Values = new Dictionary<string, double>(), Score = 0, Alternatives = [], Reason = "test", ModelVersion = 0 },
        new SpotMm(1, 2), 10, new StepErrorPolicy(attempts, onError, TimeSpan.FromSeconds(watchdogS)));

    [Fact]
    public async Task A_device_error_is_tried_again_up_to_the_attempts_with_a_pause_on_the_runs_clock()
    {
        using var actor = _clock.JoinActor();
        var times = new List<DateTimeOffset>();
        var result = await _runner.RunAsync(Step(3, StepErrorAction.Recover), "acquire", _ =>
        {
            times.Add(_clock.GetUtcNow());
            return times.Count < 3 ? throw new DeviceException("detector", "busy") : Task.FromResult(42);
        }, CancellationToken.None);

        Assert.Equal(42, result);
        Assert.Equal([EngineRig.Start, EngineRig.Start + StepRunner.RetryPause, EngineRig.Start + 2 * StepRunner.RetryPause], times);
        Assert.Equal([1, 2], _journal.Records<StepAttemptFailed>().Select(r => r.Attempt));
        Assert.All(_journal.Records<StepAttemptFailed>(), r => Assert.Equal("retrying", r.Action));
    }

    [Fact]
    public async Task When_the_attempts_are_used_up_the_step_fails_with_its_policys_action_and_the_device_named()
    {
        using var actor = _clock.JoinActor();
        var failed = await Assert.ThrowsAsync<StepFailedException>(() => _runner.RunAsync<int>(Step(2, StepErrorAction.Skip), "move",
            _ => throw new DeviceException("motion", "OUT_OF_RANGE: sample_x"), CancellationToken.None));

        Assert.Equal(StepErrorAction.Skip, failed.Action);
        Assert.Equal("motion", failed.Device);
        Assert.Contains("OUT_OF_RANGE", failed.Message);
        var last = _journal.Records<StepAttemptFailed>().Last();
        Assert.Equal((2, 2, "skipping the step"), (last.Attempt, last.Attempts, last.Action));
    }

    [Fact]
    public async Task The_watchdog_ends_an_attempt_that_waits_longer_than_it_on_the_runs_clock()
    {
        using var actor = _clock.JoinActor();
        var failed = await Assert.ThrowsAsync<StepFailedException>(() => _runner.RunAsync(Step(1, StepErrorAction.Recover, watchdogS: 30), "acquire",
            // SleepAsync listens to the watchdog's token before it arms (a Task.Delay arms first: VirtualTimeProvider's remarks).
            async ct => { await _clock.SleepAsync(TimeSpan.FromMinutes(10), ct); return 1; }, CancellationToken.None));

        Assert.IsType<TimeoutException>(failed.InnerException);
        Assert.Contains("watchdog of 30 s", failed.Message);
        Assert.Equal(EngineRig.Start.AddSeconds(30), _clock.GetUtcNow());
    }

    [Fact]
    public async Task A_cancelled_run_is_not_a_failed_step()
    {
        using var actor = _clock.JoinActor();
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _runner.RunAsync(Step(3, StepErrorAction.Recover), "acquire",
            ct => { ct.ThrowIfCancellationRequested(); return Task.FromResult(1); }, cancel.Token));
        Assert.Empty(_journal.Records<StepAttemptFailed>());
    }

    [Fact]
    public void A_policy_without_an_attempt_or_with_no_watchdog_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepErrorPolicy(0, StepErrorAction.Recover, TimeSpan.FromSeconds(1)).Validated());
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepErrorPolicy(1, StepErrorAction.Recover, TimeSpan.Zero).Validated());
    }
}

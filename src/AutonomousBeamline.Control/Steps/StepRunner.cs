using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Devices;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace AutonomousBeamline.Control.Steps;

/// <summary>A step used up its attempts; <see cref="Action"/> is what its error policy says happens now.</summary>
public sealed class StepFailedException(IMeasurementStep step, string part, StepErrorAction action, Exception inner)
    : Exception($"{step.Name}: {part} failed: {inner.Message}", inner)
{
    public IMeasurementStep Step { get; } = step;
    public StepErrorAction Action { get; } = action;

    /// <summary>The device that failed, when a device did.</summary>
    public string Device => InnerException is DeviceException d ? d.Device : "step";
}

/// <summary>
/// A failure of the beamline (the motion server, the detector) the run can recover from, and what its policy says to do:
/// a step that used up its attempts, or a beamline device that failed outside a step (its beam read while suspended, say).
/// </summary>
public sealed record BeamlineFault(string Device, string Cause, StepErrorAction Action)
{
    /// <summary>The beamline fault <paramref name="e"/> is, or null when it is none (the cell's side, a bug, a run told to end).</summary>
    public static BeamlineFault? Of(Exception e) => e switch
    {
        StepFailedException { Action: not StepErrorAction.EndRun } failed => new(failed.Device, failed.InnerException!.Message, failed.Action),
        DeviceException { Device: not "potentiostat" } device => new(device.Device, device.Message, StepErrorAction.Recover),
        _ => null,
    };
}

/// <summary>
/// Runs one part of a step (its move, its acquisition) under the step's error policy: a Polly pipeline on the run's
/// clock, so the pause between attempts and the watchdog are virtual seconds in a dry run and real ones on a night.
/// Only the beamline's failures are retried (a device error, the watchdog); a cancelled run is not a failure.
/// </summary>
public sealed class StepRunner(TimeProvider time, IRunJournal journal)
{
    /// <summary>Pause before another attempt: long enough for a server that restarts, short against a night.</summary>
    public static readonly TimeSpan RetryPause = TimeSpan.FromSeconds(2);

    public async Task<T> RunAsync<T>(IMeasurementStep step, string part, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var policy = step.ErrorPolicy.Validated();
        var builder = new ResiliencePipelineBuilder<T> { TimeProvider = time };
        if (policy.Attempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions<T>
            {
                ShouldHandle = new PredicateBuilder<T>().Handle<DeviceException>().Handle<TimeoutRejectedException>(),
                MaxRetryAttempts = policy.Attempts - 1,
                Delay = RetryPause,
                BackoffType = DelayBackoffType.Constant,
                UseJitter = false,
                OnRetry = args =>
                {
                    journal.Write(new StepAttemptFailed(step.Name, args.AttemptNumber + 1, policy.Attempts, Message(args.Outcome.Exception), "retrying"));
                    return ValueTask.CompletedTask;
                },
            });
        }
        // Innermost, so each attempt gets the whole watchdog.
        builder.AddTimeout(policy.Watchdog);
        var pipeline = builder.Build();
        try
        {
            return await pipeline.ExecuteAsync(async ct => await work(ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DeviceException or TimeoutRejectedException && !cancellationToken.IsCancellationRequested)
        {
            journal.Write(new StepAttemptFailed(step.Name, policy.Attempts, policy.Attempts, Message(e), Describe(policy.OnError)));
            throw new StepFailedException(step, part, policy.OnError,
                e is TimeoutRejectedException ? new TimeoutException($"{part} overran its watchdog of {policy.Watchdog.TotalSeconds:0.###} s", e) : e);
        }
    }

    private static string Message(Exception? e) => e switch
    {
        TimeoutRejectedException t => $"the watchdog expired: {t.Message}",
        null => "failed",
        _ => e.Message,
    };

    private static string Describe(StepErrorAction action) => action switch
    {
        StepErrorAction.Recover => "recovering the beamline",
        StepErrorAction.Skip => "skipping the step",
        _ => "ending the run",
    };
}

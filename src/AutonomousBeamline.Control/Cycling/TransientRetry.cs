using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Devices;
using Polly;
using Polly.Retry;

namespace AutonomousBeamline.Control.Cycling;

/// <summary>
/// A device glitch (a lost or garbled reply, an instrument error on a setting) retried a few times with a growing
/// pause on the run's clock, each retry journalled. Only for exchanges that are safe to repeat: a measurement, or a
/// configuration that starts again from output off. A refusal by the safety envelope is no glitch (it is not a
/// <see cref="DeviceException"/>) and is never retried. A silent or vanished line also gets wall-clock time to come
/// back, since on the virtual clock a pause costs none.
/// </summary>
public sealed class TransientRetry
{
    public const int Attempts = 5;
    public static readonly TimeSpan FirstPause = TimeSpan.FromSeconds(0.5);
    private static readonly TimeSpan LinkPause = TimeSpan.FromSeconds(0.25);
    private static readonly ResiliencePropertyKey<string> What = new("what");

    private readonly ResiliencePipeline _pipeline;

    public TransientRetry(TimeProvider time, IRunJournal journal, int attempts = Attempts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempts, 2);
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is DeviceException && !args.Context.CancellationToken.IsCancellationRequested),
                MaxRetryAttempts = attempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                Delay = FirstPause,
                UseJitter = false,
                OnRetry = async args =>
                {
                    var e = (DeviceException)args.Outcome.Exception!;
                    var attempt = args.AttemptNumber + 1;
                    journal.Write(new DeviceRetried(e.Device, args.Context.Properties.GetValue(What, "an exchange"), attempt, e.Message));
                    if (e is DeviceTimeoutException || e.InnerException is IOException)
                        await Task.Delay(LinkPause * (1 << (attempt - 1)), args.Context.CancellationToken).ConfigureAwait(false);
                },
            })
            .Build();
    }

    /// <param name="what">What the exchange does, for the journal ("measure voltage").</param>
    public async Task<T> RunAsync<T>(string what, Func<Task<T>> exchange, CancellationToken ct)
    {
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(What, what);
        try
        {
            return await _pipeline.ExecuteAsync(async _ => await exchange().ConfigureAwait(false), context).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}

using System.Globalization;
using Polly;
using Polly.Retry;

namespace AutonomousBeamline.Instruments.Scpi;

/// <summary>
/// How a transport reopens a link that has failed (a serial device that vanished, a TCP peer that went away).
/// Every duration is real (wall-clock) time: reopening a device is a matter of the wire, not of the experiment.
/// </summary>
/// <remarks>
/// Reopening happens inside the write of the next message, which <see cref="ScpiClient"/> bounds with its
/// reply time-out; keep all attempts together shorter than that so a link that stays gone is reported as gone
/// (an <see cref="IOException"/> naming the endpoint) rather than as a slow write.
/// </remarks>
public sealed record LinkReconnectPolicy
{
    /// <summary>
    /// How many times to try opening the link again before giving up; 0 never reopens it. The defaults span about
    /// 1.2 s, long enough for a USB-serial adapter to come back from a glitch and inside the usual 2 s reply time-out.
    /// </summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>Wait after the first failed attempt; it doubles after each further one, up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan FirstDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Bound on one connection attempt where opening can hang (TCP to an unreachable host).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Clock of the back-off and of the seconds the give-up message reports: the wall clock unless a test supplies
    /// another. Never the dry run's virtual clock: a device comes back in real time, and a back-off in virtual time
    /// passes in no wall time at all.
    /// </summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>A failed link stays failed: every later exchange fails at once (the behaviour before reconnecting existed).</summary>
    public static LinkReconnectPolicy Never { get; } = new() { MaxAttempts = 0 };

    /// <summary>The longest delay Polly's retry accepts.</summary>
    private static readonly TimeSpan LongestDelay = TimeSpan.FromDays(1);

    internal void Validate()
    {
        if (MaxAttempts < 0) throw new ArgumentException($"MaxAttempts cannot be negative (got {MaxAttempts})");
        if (FirstDelay < TimeSpan.Zero) throw new ArgumentException($"FirstDelay cannot be negative (got {FirstDelay})");
        if (MaxDelay < FirstDelay) throw new ArgumentException($"MaxDelay ({MaxDelay}) cannot be shorter than FirstDelay ({FirstDelay})");
        if (MaxDelay > LongestDelay) throw new ArgumentException($"MaxDelay cannot be longer than {LongestDelay} (got {MaxDelay})");
        if (ConnectTimeout <= TimeSpan.Zero) throw new ArgumentException($"ConnectTimeout must be positive (got {ConnectTimeout})");
    }

    /// <summary>
    /// Tries <paramref name="open"/> up to <see cref="MaxAttempts"/> times with back-off. An <see cref="IOException"/>
    /// from an attempt means "not there yet"; anything else is not a reason to try again and propagates.
    /// </summary>
    internal async Task<T> ReopenAsync<T>(string endpoint, Func<CancellationToken, Task<T>> open, CancellationToken cancellationToken)
    {
        if (MaxAttempts == 0)
            throw new IOException($"{endpoint}: the link failed and reconnecting is disabled");
        var started = TimeProvider.GetTimestamp();
        try
        {
            return await ReopenPipeline().ExecuteAsync(async ct => await open(ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (IOException last)
        {
            var elapsed = TimeProvider.GetElapsedTime(started).TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
            throw new IOException(
                $"{endpoint}: the link is gone and could not be reopened ({MaxAttempts} attempts over {elapsed} s): {last.Message}", last);
        }
    }

    /// <summary>
    /// Waits <see cref="FirstDelay"/> after the first failed attempt, doubling up to <see cref="MaxDelay"/>, without
    /// jitter (one link, nobody to spread out from). Built per reopen, which is rare, from the settings as they are.
    /// </summary>
    private ResiliencePipeline ReopenPipeline()
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = TimeProvider };
        // A single attempt has nothing to retry (and Polly's retry wants at least one).
        if (MaxAttempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<IOException>(),
                MaxRetryAttempts = MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                Delay = FirstDelay,
                MaxDelay = MaxDelay,
                UseJitter = false,
            });
        }
        return builder.Build();
    }
}

using System.Globalization;

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

    /// <summary>A failed link stays failed: every later exchange fails at once (the behaviour before reconnecting existed).</summary>
    public static LinkReconnectPolicy Never { get; } = new() { MaxAttempts = 0 };

    internal void Validate()
    {
        if (MaxAttempts < 0) throw new ArgumentException($"MaxAttempts cannot be negative (got {MaxAttempts})");
        if (FirstDelay < TimeSpan.Zero) throw new ArgumentException($"FirstDelay cannot be negative (got {FirstDelay})");
        if (MaxDelay < FirstDelay) throw new ArgumentException($"MaxDelay ({MaxDelay}) cannot be shorter than FirstDelay ({FirstDelay})");
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
        var started = TimeProvider.System.GetTimestamp();
        var delay = FirstDelay;
        IOException? last = null;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            if (attempt > 1)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
            }
            try
            {
                return await open(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                last = e;
            }
        }
        var elapsed = TimeProvider.System.GetElapsedTime(started).TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        throw new IOException(
            $"{endpoint}: the link is gone and could not be reopened ({MaxAttempts} attempts over {elapsed} s): {last!.Message}", last);
    }
}

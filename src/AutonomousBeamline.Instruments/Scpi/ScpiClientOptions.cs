namespace AutonomousBeamline.Instruments.Scpi;

/// <summary>
/// Time-outs and resilience settings of one <see cref="ScpiClient"/>. Every duration here is real
/// (wall-clock) time: they bound waiting for bytes on a wire, not physical processes.
/// </summary>
public sealed record ScpiClientOptions
{
    /// <summary>How long to wait for a reply line (or for a write to go out).</summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How many times an idempotent query is repeated after a time-out. Commands are never repeated.</summary>
    public int QueryRetries { get; init; } = 2;

    /// <summary>First back-off delay between query attempts; it doubles on each further attempt.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The circuit opens when this share of recent exchanges failed on the transport...</summary>
    public double BreakerFailureRatio { get; init; } = 0.8;

    /// <summary>...over at least this many exchanges...</summary>
    public int BreakerMinimumThroughput { get; init; } = 5;

    /// <summary>...within this window...</summary>
    public TimeSpan BreakerSamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>...and stays open (failing fast) this long before one trial exchange is let through.</summary>
    public TimeSpan BreakerBreakDuration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Upper bound on <c>:SYST:ERR?</c> reads when draining, so a babbling instrument cannot hang the client.</summary>
    public int MaxErrorQueueReads { get; init; } = 32;

    /// <summary>
    /// How long the line must stay quiet after a resynchronisation's <c>1</c> before the next query goes out: stragglers of
    /// the abandoned exchanges (a reply sent twice, the rest of a line still crossing a 9600 baud link) arrive within a few
    /// character times, and must be dropped rather than read as the next reply.
    /// </summary>
    public TimeSpan ResyncSettle { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Clock for back-off delays and the breaker; the system clock unless a test supplies another.</summary>
    public TimeProvider ResilienceTimeProvider { get; init; } = TimeProvider.System;
}

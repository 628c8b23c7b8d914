using System.Globalization;
using System.Text.RegularExpressions;
using AutonomousBeamline.Core.Devices;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace AutonomousBeamline.Instruments.Scpi;

/// <summary>
/// Talks SCPI to one instrument over an <see cref="IScpiTransport"/> (FACILITY-ICD §1): one exchange at a time,
/// time-outs with resynchronisation, retries for idempotent queries only, a circuit breaker, and command
/// confirmation through the error queue.
/// </summary>
public sealed partial class ScpiClient : IAsyncDisposable
{
    private const string SystemErrorQuery = ":SYST:ERR?";
    private const string OperationCompleteQuery = "*OPC?";

    /// <summary>How many stale lines a resynchronisation may skip before the link is considered garbage.</summary>
    private const int MaxStaleLinesDuringResync = 32;

    private readonly IScpiTransport _transport;
    private readonly ScpiClientOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ResiliencePipeline _replyTimeout;
    private readonly ResiliencePipeline _queryRetry;
    private readonly ResiliencePipeline _breaker;
    private bool _resyncPending;

    /// <summary>
    /// Set when the transport reported the link gone. The next guarded exchange first resynchronises and empties the
    /// error queue, so that neither a reply nor an error belonging to an exchange lost with the link is taken for its own.
    /// </summary>
    private bool _linkLost;
    private bool _disposed;

    public ScpiClient(IScpiTransport transport, string deviceName, ScpiClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentException.ThrowIfNullOrWhiteSpace(deviceName);
        _transport = transport;
        DeviceName = deviceName;
        _options = options ?? new ScpiClientOptions();
        if (_options.ReplyTimeout <= TimeSpan.Zero) throw new ArgumentException("ReplyTimeout must be positive", nameof(options));
        if (_options.QueryRetries < 0) throw new ArgumentException("QueryRetries cannot be negative", nameof(options));
        if (_options.MaxErrorQueueReads < 1) throw new ArgumentException("MaxErrorQueueReads must be at least 1", nameof(options));

        _replyTimeout = new ResiliencePipelineBuilder { TimeProvider = _options.ResilienceTimeProvider }
            .AddTimeout(_options.ReplyTimeout)
            .Build();

        _queryRetry = _options.QueryRetries == 0
            ? ResiliencePipeline.Empty
            : new ResiliencePipelineBuilder { TimeProvider = _options.ResilienceTimeProvider }
                .AddRetry(new RetryStrategyOptions
                {
                    // Only a silent instrument is worth asking again; a refusal or a garbled reply is not transient.
                    ShouldHandle = new PredicateBuilder().Handle<DeviceTimeoutException>(),
                    MaxRetryAttempts = _options.QueryRetries,
                    BackoffType = DelayBackoffType.Exponential,
                    Delay = _options.RetryBaseDelay,
                    UseJitter = false,
                })
                .Build();

        _breaker = new ResiliencePipelineBuilder { TimeProvider = _options.ResilienceTimeProvider }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<DeviceTimeoutException>().Handle<IOException>(),
                FailureRatio = _options.BreakerFailureRatio,
                MinimumThroughput = _options.BreakerMinimumThroughput,
                SamplingDuration = _options.BreakerSamplingDuration,
                BreakDuration = _options.BreakerBreakDuration,
            })
            .Build();
    }

    /// <summary>The instrument's name, used in every error message.</summary>
    public string DeviceName { get; }

    public string Endpoint => _transport.Endpoint;

    /// <summary>
    /// Raised when a query went unanswered and the link was resynchronised (the query may then be asked again):
    /// the query and what happened. For the journal; handlers must be quick.
    /// </summary>
    public event Action<string, string>? TimedOut;

    /// <summary>True after the link failed until an exchange has resynchronised over the reopened link.</summary>
    public bool LinkRecoveryPending => _linkLost;

    /// <summary>Sends a command (no reply expected). Never repeated automatically: it may change state.</summary>
    public async Task SendAsync(string command, CancellationToken cancellationToken = default)
    {
        ValidateMessage(command, expectQuery: false);
        await WithGateAsync(ct => GuardedAsync(command, ct2 => WriteCoreAsync(command, ct2), ct), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Sends a command that must not be stopped by an open circuit breaker (turning an output off on a fault).
    /// Still one exchange at a time and still bounded by the reply time-out. After a link loss it goes out as soon
    /// as the link is reopened, before the resynchronisation the next ordinary exchange does.
    /// </summary>
    public async Task SendBypassingBreakerAsync(string command, CancellationToken cancellationToken = default)
    {
        ValidateMessage(command, expectQuery: false);
        await WithGateAsync(async ct =>
        {
            try
            {
                await WriteCoreAsync(command, ct).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw LinkFailure(command, e);
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Asks an idempotent query and returns its reply line. After a time-out the input is discarded, the link is
    /// resynchronised with <c>*OPC?</c> and the query is asked again (with back-off) up to the configured number of
    /// retries; then a <see cref="DeviceTimeoutException"/> naming the query is thrown.
    /// </summary>
    public async Task<string> QueryAsync(string query, CancellationToken cancellationToken = default)
    {
        ValidateMessage(query, expectQuery: true);
        return await WithGateAsync(
            ct => _queryRetry.ExecuteAsync(
                async ct2 => await GuardedAsync(query, ct3 => QueryCoreAsync(query, ct3), ct2).ConfigureAwait(false), ct),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A query asked exactly once, for queries with side effects (reading the error queue pops it).</summary>
    public async Task<string> QueryOnceAsync(string query, CancellationToken cancellationToken = default)
    {
        ValidateMessage(query, expectQuery: true);
        return await WithGateAsync(ct => GuardedAsync(query, ct2 => QueryCoreAsync(query, ct2), ct), cancellationToken)
            .ConfigureAwait(false);
    }

    public async Task<double> QueryNumberAsync(string query, CancellationToken cancellationToken = default) =>
        ScpiNumber.Parse(await QueryAsync(query, cancellationToken).ConfigureAwait(false), query, DeviceName);

    public async Task<bool> QueryBooleanAsync(string query, CancellationToken cancellationToken = default) =>
        ScpiNumber.ParseBoolean(await QueryAsync(query, cancellationToken).ConfigureAwait(false), query, DeviceName);

    /// <summary>Reads <c>:SYST:ERR?</c> until it answers <c>0,...</c>; returns the non-zero entries, oldest first.</summary>
    public async Task<IReadOnlyList<ScpiError>> DrainErrorsAsync(CancellationToken cancellationToken = default) =>
        await WithGateAsync(DrainErrorsCoreAsync, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Sends a command, then drains the error queue; any non-zero entry means the command failed and throws a
    /// <see cref="ScpiCommandException"/> naming the command and quoting the instrument's code and text.
    /// </summary>
    public async Task SendConfirmedAsync(string command, CancellationToken cancellationToken = default)
    {
        ValidateMessage(command, expectQuery: false);
        await WithGateAsync(async ct =>
        {
            await GuardedAsync(command, ct2 => WriteCoreAsync(command, ct2), ct).ConfigureAwait(false);
            IReadOnlyList<ScpiError> errors;
            try
            {
                errors = await DrainErrorsCoreAsync(ct).ConfigureAwait(false);
            }
            catch (DeviceException e) when (e.InnerException is IOException lost)
            {
                throw new DeviceException(DeviceName,
                    $"link failure on {Endpoint} while confirming \"{command}\" (it was sent; whether it was applied is unknown): {lost.Message}", lost);
            }
            if (errors.Count > 0) throw new ScpiCommandException(DeviceName, command, errors);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Parses one error-queue entry, <c>&lt;code&gt;,"&lt;text&gt;"</c>.</summary>
    public static ScpiError ParseError(string reply, string device = "SCPI instrument")
    {
        ArgumentNullException.ThrowIfNull(reply);
        var match = ErrorEntry().Match(reply);
        if (!match.Success || !int.TryParse(match.Groups[1].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var code))
            throw new ScpiReplyFormatException(device, SystemErrorQuery, reply, "<code>,\"<text>\"");
        return new ScpiError(code, match.Groups[2].Value.Replace("\"\"", "\"", StringComparison.Ordinal));
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _transport.DisposeAsync().ConfigureAwait(false);
    }

    [GeneratedRegex(@"^\s*([+-]?\d+)\s*,\s*""((?:[^""]|"""")*)""\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex ErrorEntry();

    private async ValueTask<IReadOnlyList<ScpiError>> DrainErrorsCoreAsync(CancellationToken cancellationToken)
    {
        var errors = new List<ScpiError>();
        for (var read = 0; read < _options.MaxErrorQueueReads; read++)
        {
            var reply = await GuardedAsync(SystemErrorQuery, ct => QueryCoreAsync(SystemErrorQuery, ct), cancellationToken)
                .ConfigureAwait(false);
            var entry = ParseError(reply, DeviceName);
            if (!entry.IsError) return errors;
            errors.Add(entry);
        }
        throw new DeviceException(DeviceName,
            $"the error queue did not empty after {_options.MaxErrorQueueReads} reads of {SystemErrorQuery}; " +
            $"last entries: {string.Join("; ", errors.TakeLast(3))}");
    }

    /// <summary>Runs one operation alone on the link: at most one query is ever outstanding.</summary>
    private async Task<T> WithGateAsync<T>(Func<CancellationToken, ValueTask<T>> action, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await action(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private Task WithGateAsync(Func<CancellationToken, ValueTask> action, CancellationToken cancellationToken) =>
        WithGateAsync(async ct =>
        {
            await action(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>
    /// Runs one exchange through the circuit breaker, turning an open circuit or a lost link into a device error.
    /// After a link loss the exchange is preceded by the recovery, so its message is the one a failure names.
    /// </summary>
    private async ValueTask<T> GuardedAsync<T>(string message, Func<CancellationToken, ValueTask<T>> exchange, CancellationToken cancellationToken)
    {
        try
        {
            return await _breaker.ExecuteAsync(async ct =>
            {
                if (_linkLost) await RecoverLinkCoreAsync(ct).ConfigureAwait(false);
                return await exchange(ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (BrokenCircuitException e)
        {
            throw new DeviceException(DeviceName,
                $"not sending \"{message}\": too many recent transport failures on {Endpoint}, the link is paused " +
                $"(circuit open for {_options.BreakerBreakDuration.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s)", e);
        }
        catch (IOException e)
        {
            // The breaker has counted it; callers of a device see a device error that says which link broke.
            throw LinkFailure(message, e);
        }
    }

    /// <summary>
    /// The transport lost the link during <paramref name="message"/>: whether it reached the instrument is unknown,
    /// so it is not sent again here (only the caller knows whether repeating it is safe), and the next exchange recovers first.
    /// </summary>
    private DeviceException LinkFailure(string message, IOException e)
    {
        _linkLost = true;
        _resyncPending = true;
        // Transport messages already start with the endpoint; it is said once.
        var detail = e.Message.StartsWith(Endpoint + ": ", StringComparison.Ordinal) ? e.Message[(Endpoint.Length + 2)..] : e.Message;
        return new DeviceException(DeviceName, $"link failure during \"{message}\" on {Endpoint}: {detail}", e);
    }

    /// <summary>
    /// First exchange over a reopened link: <c>*OPC?</c> proves the instrument answers in step, then the error queue is
    /// emptied. Its entries belong to commands whose confirmation was lost with the link (already reported to their
    /// callers as failed), and must not be blamed on the next command.
    /// </summary>
    private async Task RecoverLinkCoreAsync(CancellationToken cancellationToken)
    {
        await ResynchroniseAsync(cancellationToken).ConfigureAwait(false);
        for (var read = 0; read < _options.MaxErrorQueueReads; read++)
        {
            var entry = ParseError(await QueryCoreAsync(SystemErrorQuery, cancellationToken).ConfigureAwait(false), DeviceName);
            if (!entry.IsError)
            {
                _linkLost = false;
                return;
            }
        }
        throw new DeviceException(DeviceName,
            $"the error queue did not empty after {_options.MaxErrorQueueReads} reads of {SystemErrorQuery} while recovering the link on {Endpoint}");
    }

    private async ValueTask GuardedAsync(string message, Func<CancellationToken, ValueTask> exchange, CancellationToken cancellationToken) =>
        await GuardedAsync(message, async ct =>
        {
            await exchange(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

    private async ValueTask WriteCoreAsync(string message, CancellationToken cancellationToken)
    {
        try
        {
            await _replyTimeout.ExecuteAsync(
                async ct => await _transport.WriteLineAsync(message, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException e)
        {
            _resyncPending = true;
            throw new DeviceTimeoutException(DeviceName,
                $"writing \"{message}\" to {Endpoint} did not finish within {Seconds(_options.ReplyTimeout)} s", e);
        }
    }

    private async ValueTask<string> QueryCoreAsync(string query, CancellationToken cancellationToken)
    {
        // Only exchanges that read need a clean input; a bare command (an emergency output-off included) goes
        // out at once even while the instrument is silent.
        if (_resyncPending) await ResynchroniseAsync(cancellationToken).ConfigureAwait(false);
        await WriteCoreAsync(query, cancellationToken).ConfigureAwait(false);
        try
        {
            return await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException e)
        {
            var resynchronised = await TryResynchroniseAsync(cancellationToken).ConfigureAwait(false);
            var timeout = new DeviceTimeoutException(DeviceName,
                $"no reply to \"{query}\" from {Endpoint} within {Seconds(_options.ReplyTimeout)} s; " +
                (resynchronised ? "input discarded and link resynchronised with *OPC?" : "resynchronisation with *OPC? failed too"), e);
            TimedOut?.Invoke(query, timeout.Message);
            throw timeout;
        }
        catch (OperationCanceledException)
        {
            // The reply may still arrive; the next exchange must not mistake it for its own.
            _resyncPending = true;
            throw;
        }
    }

    private async ValueTask<string> ReadReplyAsync(CancellationToken cancellationToken) =>
        await _replyTimeout.ExecuteAsync(
            async ct => await _transport.ReadLineAsync(ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    private async ValueTask<bool> TryResynchroniseAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ResynchroniseAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (DeviceTimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// Drops whatever is buffered, then asks <c>*OPC?</c> and skips lines until its <c>1</c> arrives: replies come
    /// in order, so everything before that <c>1</c> belongs to an exchange that was already given up.
    /// </summary>
    private async Task ResynchroniseAsync(CancellationToken cancellationToken)
    {
        _resyncPending = true;
        _transport.DiscardInput();
        try
        {
            await _transport.WriteLineAsync(OperationCompleteQuery, cancellationToken).ConfigureAwait(false);
            for (var skipped = 0; skipped < MaxStaleLinesDuringResync; skipped++)
            {
                var line = await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
                if (line.Trim() == "1")
                {
                    // A late "1" from the abandoned query could have been taken for ours; drop anything already queued.
                    _transport.DiscardInput();
                    _resyncPending = false;
                    return;
                }
            }
            throw new DeviceException(DeviceName,
                $"resynchronisation failed: {MaxStaleLinesDuringResync} lines arrived on {Endpoint} without the reply \"1\" to *OPC?");
        }
        catch (TimeoutRejectedException e)
        {
            throw new DeviceTimeoutException(DeviceName,
                $"no reply to \"{OperationCompleteQuery}\" from {Endpoint} within {Seconds(_options.ReplyTimeout)} s while resynchronising", e);
        }
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    private static void ValidateMessage(string message, bool expectQuery)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(message);
        if (message.AsSpan().IndexOfAny('\n', '\r') >= 0)
            throw new ArgumentException($"an SCPI message must be one line: \"{message.ReplaceLineEndings(" ")}\"", nameof(message));
        // Each query unit of a line produces one reply line; the count must match what the caller will read,
        // or a reply would be left behind to be taken for the next query's.
        var queries = message.Split(';')
            .Select(unit => unit.Trim())
            .Count(unit => unit.Length > 0 && unit.Split([' ', '\t'], 2)[0].EndsWith('?'));
        if (expectQuery && queries != 1)
            throw new ArgumentException(
                $"\"{message}\" must contain exactly one query (a header ending in '?') to be asked with a query method; it has {queries}",
                nameof(message));
        if (!expectQuery && queries != 0)
            throw new ArgumentException($"\"{message}\" contains a query: use QueryAsync so its reply is read", nameof(message));
    }
}

using System.Globalization;
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
/// <remarks>
/// A reply is believed only when it provably belongs to its query: at most one query is outstanding, the line has the
/// form the query promises (<see cref="ScpiReplyForm"/>), and no other line (but a blank one or the same reply
/// repeated) came with it. Anything else — a noise line before or after a reply, a late reply to an abandoned query,
/// a line that arrived between exchanges — is doubt: the input is discarded and the link resynchronised with
/// <c>*OPC?</c> before the next query, exactly as after a time-out, so that one stray line can never shift every later
/// reply by one query.
/// </remarks>
public sealed class ScpiClient : IAsyncDisposable
{
    private const string SystemErrorQuery = ":SYST:ERR?";
    private const string OperationCompleteQuery = "*OPC?";

    /// <summary>How many stale lines a resynchronisation may skip before the link is considered garbage.</summary>
    private const int MaxStaleLinesDuringResync = 32;

    /// <summary>How many times a resynchronisation asks <c>*OPC?</c> before the instrument counts as silent.</summary>
    private const int ResynchronisationAttempts = 2;

    private readonly IScpiTransport _transport;
    private readonly ScpiClientOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ResiliencePipeline _replyTimeout;
    private readonly ResiliencePipeline _queryRetry;
    private readonly ResiliencePipeline _breaker;
    private bool _resyncPending;

    /// <summary>The last reply believed: the same line arriving again is a duplicate, not a sign of being out of step.</summary>
    private string? _lastReply;

    /// <summary>The query <see cref="_lastReply"/> answered: the same line as the answer to another query may be that reply sent twice.</summary>
    private string? _lastQuery;

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
        if (_options.ResyncSettle < TimeSpan.Zero) throw new ArgumentException("ResyncSettle cannot be negative", nameof(options));

        _replyTimeout = new ResiliencePipelineBuilder { TimeProvider = _options.ResilienceTimeProvider }
            .AddTimeout(_options.ReplyTimeout)
            .Build();

        _queryRetry = _options.QueryRetries == 0
            ? ResiliencePipeline.Empty
            : new ResiliencePipelineBuilder { TimeProvider = _options.ResilienceTimeProvider }
                .AddRetry(new RetryStrategyOptions
                {
                    // A silent instrument or a reply that could not be proved its own is worth asking again (the link
                    // has been resynchronised meanwhile); a refusal is not transient.
                    ShouldHandle = new PredicateBuilder().Handle<DeviceTimeoutException>().Handle<ScpiOutOfStepException>(),
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

    /// <summary>
    /// Raised when a line was not believed (wrong form, an unexpected extra line, a line between exchanges) and the link
    /// is resynchronised: the query and what was seen. For the journal; handlers must be quick.
    /// </summary>
    public event Action<string, string>? OutOfStep;

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
    public Task<string> QueryAsync(string query, CancellationToken cancellationToken = default) =>
        QueryAsync(query, ScpiReplyForms.ForQuery(query), cancellationToken);

    /// <summary>
    /// As <see cref="QueryAsync(string, CancellationToken)"/>, believing only a reply of <paramref name="form"/>: a line of
    /// another form, or one followed by an unexpected line, is doubted and the query asked again after resynchronising;
    /// a doubt that persists through the retries is a <see cref="ScpiOutOfStepException"/> quoting the line.
    /// </summary>
    public async Task<string> QueryAsync(string query, ScpiReplyForm form, CancellationToken cancellationToken = default)
    {
        ValidateMessage(query, expectQuery: true);
        return await WithGateAsync(
            ct => _queryRetry.ExecuteAsync(
                async ct2 => await GuardedAsync(query, ct3 => QueryCoreAsync(query, form, ct3), ct2).ConfigureAwait(false), ct),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A query asked exactly once, for queries with side effects (reading the error queue pops it).</summary>
    public async Task<string> QueryOnceAsync(string query, CancellationToken cancellationToken = default)
    {
        ValidateMessage(query, expectQuery: true);
        return await WithGateAsync(ct => GuardedAsync(query, ct2 => QueryCoreAsync(query, ScpiReplyForms.ForQuery(query), ct2), ct), cancellationToken)
            .ConfigureAwait(false);
    }

    public async Task<double> QueryNumberAsync(string query, CancellationToken cancellationToken = default) =>
        ScpiNumber.Parse(await QueryAsync(query, ScpiReplyForm.Number, cancellationToken).ConfigureAwait(false), query, DeviceName);

    public async Task<bool> QueryBooleanAsync(string query, CancellationToken cancellationToken = default) =>
        ScpiNumber.ParseBoolean(await QueryAsync(query, ScpiReplyForm.Boolean, cancellationToken).ConfigureAwait(false), query, DeviceName);

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
        var match = ScpiReplyForms.ErrorEntry().Match(reply);
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

    /// <summary>
    /// Pops the error queue until it is empty. Reading it cannot be repeated (each read pops an entry), so a doubted
    /// read is not simply asked again: every error entry among the lines seen around it (the doubted line, those the
    /// resynchronisation skipped) is kept, so that no refusal of a command can be lost to a noise line.
    /// </summary>
    private async ValueTask<IReadOnlyList<ScpiError>> DrainErrorsCoreAsync(CancellationToken cancellationToken)
    {
        var errors = new List<ScpiError>();
        var doubts = 0;
        for (var read = 0; read < _options.MaxErrorQueueReads; read++)
        {
            string reply;
            try
            {
                reply = await GuardedAsync(SystemErrorQuery, ct => QueryCoreAsync(SystemErrorQuery, ScpiReplyForm.ErrorEntry, ct), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (ScpiOutOfStepException doubt) when (doubts++ < Math.Max(1, _options.QueryRetries))
            {
                var seen = doubt.Lines.Concat(await ResynchroniseAsync(cancellationToken).ConfigureAwait(false));
                errors.AddRange(seen.Where(line => ScpiReplyForm.ErrorEntry.Accepts(line)).Select(line => ParseError(line, DeviceName)).Where(e => e.IsError));
                continue;
            }
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
        // A reopen while recovering from a known link loss is that recovery's own; only an unexplained one is news.
        var (reconnections, knownLost) = (_transport.Reconnections, _linkLost);
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
        finally
        {
            if (!knownLost) NoteSilentReopen(message, reconnections);
        }
    }

    /// <summary>
    /// The link failed between exchanges and the transport reopened it on the way out of <paramref name="message"/>: no
    /// exchange saw it fail, but replies and error entries of the old link are gone, so the next exchange recovers first
    /// (resynchronise, empty the error queue), and the journal hears of it.
    /// </summary>
    private void NoteSilentReopen(string message, int reconnectionsBefore)
    {
        if (_transport.Reconnections == reconnectionsBefore || _linkLost) return;
        _linkLost = true;
        _resyncPending = true;
        OutOfStep?.Invoke(message, $"the link to {Endpoint} was lost and reopened by \"{message}\"; the next exchange resynchronises and empties the error queue first");
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
            var entry = ParseError(await QueryCoreAsync(SystemErrorQuery, ScpiReplyForm.ErrorEntry, cancellationToken).ConfigureAwait(false), DeviceName);
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

    private async ValueTask<string> QueryCoreAsync(string query, ScpiReplyForm form, CancellationToken cancellationToken)
    {
        // Only exchanges that read need a clean input; a bare command (an emergency output-off included) goes
        // out at once even while the instrument is silent.
        if (!_resyncPending) NoteLinesBetweenExchanges(query);
        if (_resyncPending) await ResynchroniseAsync(cancellationToken).ConfigureAwait(false);
        await WriteCoreAsync(query, cancellationToken).ConfigureAwait(false);
        try
        {
            var reply = await ReadAnswerAsync(cancellationToken).ConfigureAwait(false);
            if (!form.Accepts(reply)) throw Doubt(query, [reply], $"expected {form.Describe()}");
            var seen = new List<string> { reply };
            while (_transport.TryReadReceivedLine(out var extra))
            {
                seen.Add(extra);
                // A blank line or the same reply repeated says nothing new; any other line means this reply may not be ours.
                if (extra.Trim().Length == 0 || extra == reply) continue;
                throw Doubt(query, seen, $"an unexpected line \"{extra}\" came with it");
            }
            // A duplicate that trickled in after the previous reply was believed (a slow serial line) is read as this
            // query's reply, word for word that previous one; the real reply follows. Asked again after resynchronising,
            // a reply that really is the same is believed (the resynchronisation forgets the last reply).
            if (reply == _lastReply && query != _lastQuery)
                throw Doubt(query, seen, $"it repeats word for word the reply to \"{_lastQuery}\" and may be that reply sent twice");
            (_lastReply, _lastQuery) = (reply, query);
            return reply;
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

    /// <summary>The first non-blank line, all within one reply time-out (blank lines are tolerated, not counted as replies).</summary>
    private async ValueTask<string> ReadAnswerAsync(CancellationToken cancellationToken) =>
        await _replyTimeout.ExecuteAsync(async ct =>
        {
            for (var blank = 0; ; blank++)
            {
                var line = await _transport.ReadLineAsync(ct).ConfigureAwait(false);
                if (line.Trim().Length > 0 || blank >= MaxStaleLinesDuringResync) return line;
            }
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// No query is outstanding between exchanges, so any line received meanwhile was not asked for. A repeat of the last
    /// reply or a blank line is dropped; anything else (noise, a reply arriving after the one believed) means the link may
    /// be out of step, and it is resynchronised before the next query.
    /// </summary>
    private void NoteLinesBetweenExchanges(string nextQuery)
    {
        var stray = new List<string>();
        while (_transport.TryReadReceivedLine(out var line))
            if (line.Trim().Length > 0 && line != _lastReply) stray.Add(line);
        if (stray.Count == 0) return;
        _resyncPending = true;
        OutOfStep?.Invoke(nextQuery,
            $"{stray.Count} unasked line(s) arrived between exchanges (first \"{stray[0]}\"); resynchronising before \"{nextQuery}\"");
    }

    /// <summary>Not believing <paramref name="lines"/>: the link is resynchronised before the next exchange, and the journal hears why.</summary>
    private ScpiOutOfStepException Doubt(string query, IReadOnlyList<string> lines, string reason)
    {
        _resyncPending = true;
        var doubt = new ScpiOutOfStepException(DeviceName, query, lines[0], reason) { Lines = lines };
        OutOfStep?.Invoke(query, doubt.Message);
        return doubt;
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
    /// in order, so everything before that <c>1</c> belongs to an exchange that was already given up. Returns the lines
    /// it dropped, for a caller that must not lose what they said (an error-queue entry).
    /// </summary>
    private async Task<IReadOnlyList<string>> ResynchroniseAsync(CancellationToken cancellationToken)
    {
        _resyncPending = true;
        var dropped = new List<string>();
        DropReceived(dropped);
        // A noisy line can garble the "1" itself: one more *OPC? is asked before the link is given up as silent.
        var asked = 0;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _transport.WriteLineAsync(OperationCompleteQuery, cancellationToken).ConfigureAwait(false);
                asked++;
                for (var skipped = 0; skipped < MaxStaleLinesDuringResync; skipped++)
                {
                    var line = await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
                    if (line.Trim() == "1")
                    {
                        // With more than one *OPC? asked, this "1" may answer an earlier one: the others' are awaited, so
                        // that no "1" is left to pass for the next query's reply; then the line must fall quiet.
                        await AwaitOutstandingCompletionsAsync(asked - 1, dropped, cancellationToken).ConfigureAwait(false);
                        await SettleAsync(dropped, cancellationToken).ConfigureAwait(false);
                        _resyncPending = false;
                        (_lastReply, _lastQuery) = (null, null);
                        return dropped;
                    }
                    dropped.Add(line);
                }
                throw new DeviceException(DeviceName,
                    $"resynchronisation failed: {MaxStaleLinesDuringResync} lines arrived on {Endpoint} without the reply \"1\" to *OPC?");
            }
            catch (TimeoutRejectedException e) when (attempt >= ResynchronisationAttempts)
            {
                throw new DeviceTimeoutException(DeviceName,
                    $"no reply to \"{OperationCompleteQuery}\" from {Endpoint} within {Seconds(_options.ReplyTimeout)} s while resynchronising " +
                    $"({attempt} attempts)", e);
            }
            catch (TimeoutRejectedException)
            {
                DropReceived(dropped);
            }
        }
    }

    /// <summary>
    /// Reads until <paramref name="count"/> more <c>1</c>s have come (replies are never lost by a peer that keeps the
    /// contract; a link that garbled one is waited for one reply time-out, then believed to have lost it).
    /// </summary>
    private async Task AwaitOutstandingCompletionsAsync(int count, List<string> dropped, CancellationToken cancellationToken)
    {
        for (var lines = 0; count > 0 && lines < MaxStaleLinesDuringResync; lines++)
        {
            string line;
            try
            {
                line = await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutRejectedException)
            {
                return;
            }
            if (line.Trim() == "1") count--;
            else dropped.Add(line);
        }
    }

    /// <summary>Drops every line that arrives until none has for <see cref="ScpiClientOptions.ResyncSettle"/>.</summary>
    private async Task SettleAsync(List<string> dropped, CancellationToken cancellationToken)
    {
        DropReceived(dropped);
        if (_options.ResyncSettle <= TimeSpan.Zero) return;
        for (var lines = 0; lines < MaxStaleLinesDuringResync; lines++)
        {
            using var quiet = new CancellationTokenSource(_options.ResyncSettle, _options.ResilienceTimeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(quiet.Token, cancellationToken);
            try
            {
                dropped.Add(await _transport.ReadLineAsync(linked.Token).ConfigureAwait(false));
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }
        DropReceived(dropped);
    }

    private void DropReceived(List<string> dropped)
    {
        while (_transport.TryReadReceivedLine(out var line)) dropped.Add(line);
        _transport.DiscardInput();
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

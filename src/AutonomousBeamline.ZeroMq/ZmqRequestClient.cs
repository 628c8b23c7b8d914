using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NetMQ;
using NetMQ.Sockets;
using Polly;
using Polly.Retry;

namespace AutonomousBeamline.ZeroMq;

public sealed record ZmqRequestClientOptions
{
    /// <summary>Real (wall-clock) time to wait for one reply before the socket is dropped and the request resent.</summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(2.5);

    /// <summary>How many times a request is resent after a time-out or a discarded reply (0 = one attempt only).</summary>
    public int Retries { get; init; } = 3;

    /// <summary>Prefix of the request ids; a random suffix keeps ids of different clients apart.</summary>
    public string IdPrefix { get; init; } = "c";

    /// <summary>
    /// Applied to every socket the client opens, before it connects (a fresh one after each silent attempt): CURVE keys,
    /// for one. Runs on the socket thread; an exception from it fails the request that needed the socket.
    /// </summary>
    public Action<SocketOptions>? ConfigureSocket { get; init; }
}

/// <summary>
/// JSON request/reply over a ZeroMQ DEALER socket (with the empty delimiter frame, FACILITY-ICD §2) and the Lazy
/// Pirate pattern: on a time-out the socket is closed, reopened and the request resent with the same id, a bounded
/// number of times. What a reply means is the <see cref="IReplyInterpreter{TReply}"/>'s business.
/// </summary>
/// <remarks>
/// DEALER rather than REQ, because peers differ from ours: a late reply to an earlier request, a duplicated reply, a
/// reply of several frames or one that is not JSON is discarded (and announced) while the client goes on waiting for
/// its own, where a REQ socket would have to give up its attempt or, on a multipart reply, end up in a state in which it
/// cannot send at all. NetMQ sockets are not thread-safe, so every socket operation happens on one dedicated thread;
/// callers hand requests over through a queue and get their reply through a task. A retried request keeps its id, so a
/// server that remembers recent ids can answer a repeat without doing the work twice. Every wait is wall-clock time: a
/// reply comes over a wire, whatever clock the experiment runs on.
/// </remarks>
public class ZmqRequestClient<TReply> : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan ReceiveSlice = TimeSpan.FromMilliseconds(50);

    private readonly string _endpoint;
    private readonly IReplyInterpreter<TReply> _interpreter;
    private readonly ZmqRequestClientOptions _options;
    private readonly ResiliencePipeline<Attempt> _resend;
    private readonly BlockingCollection<PendingRequest> _queue = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Thread _thread;
    private readonly string _idStem;
    private DealerSocket? _socket;
    private long _nextId;
    private long _discardedReplies;
    private long _resends;
    private int _disposed;

    public ZmqRequestClient(string endpoint, IReplyInterpreter<TReply> interpreter, ZmqRequestClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        ArgumentNullException.ThrowIfNull(interpreter);
        _options = options ?? new ZmqRequestClientOptions();
        // NetMQ waits in whole milliseconds and never returns from a sub-millisecond wait.
        if (_options.ReplyTimeout < TimeSpan.FromMilliseconds(1))
            throw new ArgumentOutOfRangeException(nameof(options), "ReplyTimeout must be at least 1 ms");
        if (_options.Retries < 0) throw new ArgumentOutOfRangeException(nameof(options), "Retries cannot be negative");
        _endpoint = endpoint;
        _interpreter = interpreter;
        _resend = ResendPipeline(_options.Retries);
        _idStem = $"{_options.IdPrefix}{Random.Shared.Next(0x10000, 0xFFFFF):x}-";
        _thread = new Thread(Run) { IsBackground = true, Name = $"zmq-req {endpoint}" };
        _thread.Start();
    }

    public string Endpoint => _endpoint;

    /// <summary>Replies thrown away: their id did not match the request, they had several frames, or (where the interpreter says so) were not JSON objects.</summary>
    public long DiscardedReplies => Interlocked.Read(ref _discardedReplies);

    /// <summary>Requests sent again after a time-out or a discarded reply.</summary>
    public long Resends => Interlocked.Read(ref _resends);

    /// <summary>
    /// Raised (on the socket thread) before a request is sent again: the command, the request id, the attempt about
    /// to be made, and why. Handlers must be quick.
    /// </summary>
    public event Action<string, string, int, string>? Resending;

    /// <summary>
    /// Raised (on the socket thread) when a reply is discarded while a request waits: the command waiting, its id, and
    /// what was wrong with the reply (another id, several frames, not JSON). Handlers must be quick.
    /// </summary>
    public event Action<string, string, string>? ReplyDiscarded;

    /// <summary>A fresh request id, for callers that must know it before the request goes out.</summary>
    public string NewRequestId() => _idStem + Interlocked.Increment(ref _nextId).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Sends <paramref name="cmd"/> with <paramref name="fields"/> and returns what the interpreter reads from the reply;
    /// fails with what it makes of an error reply, a malformed reply or no reply at all.
    /// </summary>
    public Task<TReply> RequestAsync(string cmd, JsonObject? fields = null, CancellationToken cancellationToken = default) =>
        RequestAsync(NewRequestId(), cmd, fields, cancellationToken);

    /// <summary>The same with an id from <see cref="NewRequestId"/> (for a request that must carry its own id in a field).</summary>
    public Task<TReply> RequestAsync(string id, string cmd, JsonObject? fields, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentException.ThrowIfNullOrEmpty(cmd);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var request = new JsonObject { ["id"] = id, ["cmd"] = cmd };
        if (fields is not null)
        {
            foreach (var (key, value) in fields)
            {
                if (key is "id" or "cmd") throw new ArgumentException($"field '{key}' is set by the client", nameof(fields));
                request[key] = value?.DeepClone();
            }
        }
        var pending = new PendingRequest(new ZmqRequest(id, cmd), request.ToJsonString());
        if (cancellationToken.CanBeCanceled)
            pending.Registration = cancellationToken.Register(() => pending.Completion.TrySetCanceled(cancellationToken));
        try
        {
            _queue.Add(pending);
        }
        catch (InvalidOperationException)
        {
            throw new ObjectDisposedException(nameof(ZmqRequestClient<TReply>));
        }
        return pending.Completion.Task;
    }

    /// <summary>
    /// Lazy Pirate as a retry: an attempt that went unanswered within the time-out is made again at once (no back-off: the
    /// time-out already waited); an answered or abandoned one is final.
    /// </summary>
    /// <remarks>
    /// The pipeline runs synchronously on the socket thread and never waits itself (no delay), so every attempt uses
    /// the socket from the thread that owns it, and the only clock involved is the wall-clock reply time-out in
    /// <see cref="SendAndWait"/>. An exception (a socket that cannot be opened) is not retried.
    /// </remarks>
    private ResiliencePipeline<Attempt> ResendPipeline(int retries) =>
        retries == 0
            ? ResiliencePipeline<Attempt>.Empty
            : new ResiliencePipelineBuilder<Attempt>()
                .AddRetry(new RetryStrategyOptions<Attempt>
                {
                    ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result.End is AttemptEnd.Silent),
                    MaxRetryAttempts = retries,
                    Delay = TimeSpan.Zero,
                    BackoffType = DelayBackoffType.Constant,
                    UseJitter = false,
                    OnRetry = args =>
                    {
                        // AttemptNumber counts from 0 for the first attempt, so the one about to be made is this + 2.
                        Announce(args.Outcome.Result, args.AttemptNumber + 2);
                        return default;
                    },
                })
                .Build();

    private void Announce(Attempt last, int attempt)
    {
        Interlocked.Increment(ref _resends);
        var cmd = last.Pending.Request.Cmd;
        var discarded = last.Pending.Discarded > 0 ? $" ({last.Pending.Discarded} replies not for it discarded so far)" : "";
        var why = $"no reply to '{cmd}' within {Seconds(_options.ReplyTimeout)} s{discarded}; socket reopened, resending";
        Resending?.Invoke(cmd, last.Pending.Request.Id, attempt, why);
    }

    private void Run()
    {
        try
        {
            foreach (var pending in _queue.GetConsumingEnumerable(_shutdown.Token))
            {
                // A request cancelled while it waited in the queue never goes out.
                if (!pending.Completion.Task.IsCompleted) Serve(pending);
                pending.Registration.Dispose();
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
        }
        finally
        {
            DropSocket();
            while (_queue.TryTake(out var left))
                left.Completion.TrySetException(new ObjectDisposedException(nameof(ZmqRequestClient<TReply>)));
        }
    }

    /// <summary>Runs one request to its end, completing its task whatever happens.</summary>
    private void Serve(PendingRequest pending)
    {
        Attempt last;
        try
        {
            last = _resend.Execute(() => SendAndWait(pending));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A socket that cannot be opened (a malformed endpoint, keys NetMQ refuses) or a failing Resending handler
            // ends this request, not the socket thread and every request after it.
            DropSocket();
            pending.Completion.TrySetException(ex);
            return;
        }
        switch (last.End)
        {
            case AttemptEnd.Silent:
                pending.Completion.TrySetException(_interpreter.NoReply(pending.Request, GaveUp(pending)));
                break;
            case AttemptEnd.Abandoned:
                // The DEALER can send again at once; a reply that still comes for the abandoned request is discarded by its id.
                if (_shutdown.IsCancellationRequested)
                    pending.Completion.TrySetException(new ObjectDisposedException(nameof(ZmqRequestClient<TReply>)));
                break;
        }
    }

    private string GaveUp(PendingRequest pending)
    {
        var discarded = pending.Discarded > 0 ? $" ({pending.Discarded} replies not for it were discarded)" : "";
        return $"no reply to '{pending.Request.Cmd}' (id {pending.Request.Id}) from {_endpoint} after {_options.Retries + 1} " +
               $"attempt(s) of {Seconds(_options.ReplyTimeout)} s{discarded}";
    }

    /// <summary>
    /// One Lazy Pirate attempt: send the request (empty delimiter, then the JSON frame) and wait one reply time-out for
    /// its reply, discarding whatever else arrives meanwhile.
    /// </summary>
    private Attempt SendAndWait(PendingRequest pending)
    {
        var socket = _socket ??= Open();
        // A send that cannot go out within the time-out is as silent as a reply that never comes.
        if (!socket.TrySendFrameEmpty(_options.ReplyTimeout, more: true) || !socket.TrySendFrame(_options.ReplyTimeout, pending.Json))
            return Silent(pending);
        var deadline = DateTime.UtcNow + _options.ReplyTimeout;
        var message = new NetMQMessage();
        while (true)
        {
            if (pending.Completion.Task.IsCompleted || _shutdown.IsCancellationRequested) return new(pending, AttemptEnd.Abandoned);
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return Silent(pending);
            // NetMQ blocks indefinitely on a sub-millisecond time-out, so waits are whole milliseconds.
            var slice = TimeSpan.FromMilliseconds(Math.Clamp(Math.Ceiling(left.TotalMilliseconds), 1, ReceiveSlice.TotalMilliseconds));
            if (!socket.TryReceiveMultipartMessage(slice, ref message)) continue;
            var frames = message.Select(f => f).ToList();
            message = new NetMQMessage();
            if (Take(pending, frames) is { } answered) return answered;
        }
    }

    private Attempt Silent(PendingRequest pending)
    {
        // Lazy Pirate: the reply may never come on this connection; the next attempt starts over on a new one.
        DropSocket();
        return new(pending, AttemptEnd.Silent);
    }

    /// <summary>
    /// What a message that arrived means for the request waiting on the socket: its answer, or null when it was discarded
    /// (the attempt goes on waiting).
    /// </summary>
    private Attempt? Take(PendingRequest pending, IReadOnlyList<NetMQFrame> frames)
    {
        // The empty delimiter, then exactly one JSON frame (a peer that leaves the delimiter out is tolerated).
        var body = frames.Count > 0 && frames[0].MessageSize == 0 ? frames.Skip(1).ToList() : frames.ToList();
        if (body.Count != 1)
            return Discard(pending, $"a reply of {body.Count} frames (the ICD allows one JSON frame)");
        var text = body[0].ConvertToString(System.Text.Encoding.UTF8);
        if (ParseObject(text, out var id, out var problem) is not { } reply)
        {
            if (_interpreter.Unreadable(pending.Request, problem) is not { } failure) return Discard(pending, $"a reply that is {problem}");
            pending.Completion.TrySetException(failure);
            return new(pending, AttemptEnd.Answered);
        }
        // A late or duplicated reply to an earlier request (or to nobody's): not this one's; keep waiting for ours.
        if (id != pending.Request.Id) return Discard(pending, $"a reply for request '{id ?? "(no id)"}'");
        return Answer(pending, reply, text);
    }

    private Attempt Answer(PendingRequest pending, JsonObject body, string text)
    {
        try
        {
            if (ZmqReply.Read(body, out var malformed) is { } reply)
                pending.Completion.TrySetResult(_interpreter.Read(pending.Request, reply));
            else
                pending.Completion.TrySetException(_interpreter.Malformed(pending.Request, malformed, text));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // How an interpreter fails a request on an error reply.
            pending.Completion.TrySetException(ex);
        }
        return new(pending, AttemptEnd.Answered);
    }

    /// <summary>The reply as a JSON object with its id (null when it has no string id), or null and what is wrong with it.</summary>
    private static JsonObject? ParseObject(string text, out string? id, out string problem)
    {
        id = null;
        problem = "not a JSON object";
        try
        {
            var body = JsonNode.Parse(text) as JsonObject;
            if (body?["id"] is JsonValue idValue) idValue.TryGetValue(out id);
            return body;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
        {
            // Not JSON, or JSON that System.Text.Json refuses to index (duplicate keys).
            problem = $"not JSON: {ex.Message}";
            return null;
        }
    }

    private Attempt? Discard(PendingRequest pending, string what)
    {
        Interlocked.Increment(ref _discardedReplies);
        pending.Discarded++;
        ReplyDiscarded?.Invoke(pending.Request.Cmd, pending.Request.Id, $"{what} arrived while '{pending.Request.Cmd}' waited; discarded");
        return null;
    }

    private DealerSocket Open()
    {
        var socket = new DealerSocket();
        try
        {
            socket.Options.Linger = TimeSpan.Zero;
            _options.ConfigureSocket?.Invoke(socket.Options);
            socket.Connect(_endpoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void DropSocket()
    {
        _socket?.Dispose();
        _socket = null;
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString(CultureInfo.InvariantCulture);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _queue.CompleteAdding();
        _shutdown.Cancel();
        _thread.Join();
        _queue.Dispose();
        _shutdown.Dispose();
        GC.SuppressFinalize(this);
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>How one attempt ended: answered (the request is done), silent, or abandoned by the caller.</summary>
    private enum AttemptEnd { Answered, Silent, Abandoned }

    /// <summary>An attempt's end with its request, so that the retry's callback can name the request it resends.</summary>
    private readonly record struct Attempt(PendingRequest Pending, AttemptEnd End);

    private sealed class PendingRequest(ZmqRequest request, string json)
    {
        public ZmqRequest Request { get; } = request;
        public string Json { get; } = json;

        /// <summary>Replies discarded while this request waited (socket thread only).</summary>
        public int Discarded { get; set; }

        public CancellationTokenRegistration Registration { get; set; }
        public TaskCompletionSource<TReply> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

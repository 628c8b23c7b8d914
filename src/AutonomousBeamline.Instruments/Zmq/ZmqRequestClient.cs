using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AutonomousBeamline.Core.Devices;
using NetMQ;
using NetMQ.Sockets;

namespace AutonomousBeamline.Instruments.Zmq;

public sealed record ZmqRequestClientOptions
{
    /// <summary>Real (wall-clock) time to wait for one reply before the socket is dropped and the request resent.</summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(2.5);

    /// <summary>How many times a request is resent after a time-out or a mismatched reply (0 = one attempt only).</summary>
    public int Retries { get; init; } = 3;

    /// <summary>Prefix of the request ids; a random suffix keeps ids of different clients apart.</summary>
    public string IdPrefix { get; init; } = "c";
}

/// <summary>
/// JSON request/reply over a ZeroMQ REQ socket (FACILITY-ICD §2 transport) with the Lazy Pirate
/// pattern: on a time-out the socket is closed, reopened and the request resent, a bounded number of times.
/// </summary>
/// <remarks>
/// NetMQ sockets are not thread-safe, so every socket operation happens on one dedicated thread;
/// callers hand requests over through a queue and get their reply through a task.
/// A retried request keeps its id, so a server that remembers recent ids can answer a repeat without
/// doing the work twice.
/// </remarks>
public sealed class ZmqRequestClient : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan ReceiveSlice = TimeSpan.FromMilliseconds(50);

    private readonly string _endpoint;
    private readonly string _device;
    private readonly ZmqRequestClientOptions _options;
    private readonly BlockingCollection<PendingRequest> _queue = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Thread _thread;
    private readonly string _idStem;
    private long _nextId;
    private long _discardedReplies;
    private long _resends;
    private int _disposed;

    public ZmqRequestClient(string endpoint, string device, ZmqRequestClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        ArgumentException.ThrowIfNullOrWhiteSpace(device);
        _options = options ?? new ZmqRequestClientOptions();
        // NetMQ waits in whole milliseconds and never returns from a sub-millisecond wait.
        if (_options.ReplyTimeout < TimeSpan.FromMilliseconds(1))
            throw new ArgumentOutOfRangeException(nameof(options), "ReplyTimeout must be at least 1 ms");
        if (_options.Retries < 0) throw new ArgumentOutOfRangeException(nameof(options), "Retries cannot be negative");
        _endpoint = endpoint;
        _device = device;
        _idStem = $"{_options.IdPrefix}{Random.Shared.Next(0x10000, 0xFFFFF):x}-";
        _thread = new Thread(Run) { IsBackground = true, Name = $"zmq-req {device}" };
        _thread.Start();
    }

    public string Endpoint => _endpoint;

    /// <summary>Replies thrown away because their id did not match the request (or were not JSON objects).</summary>
    public long DiscardedReplies => Interlocked.Read(ref _discardedReplies);

    /// <summary>Requests sent again after a time-out or a discarded reply.</summary>
    public long Resends => Interlocked.Read(ref _resends);

    /// <summary>
    /// Raised (on the socket thread) before a request is sent again after a silent time-out: the command, the
    /// request id, the attempt about to be made, and why. Handlers must be quick.
    /// </summary>
    public event Action<string, string, int, string>? Resending;

    /// <summary>A fresh request id, for callers that must know it before the request goes out.</summary>
    public string NewRequestId() => _idStem + Interlocked.Increment(ref _nextId).ToString(CultureInfo.InvariantCulture);

    /// <summary>Sends <paramref name="cmd"/> with <paramref name="fields"/> and returns the successful reply.</summary>
    /// <exception cref="FacilityErrorException">The server answered <c>"ok": false</c>.</exception>
    /// <exception cref="DeviceTimeoutException">No matching reply after every retry.</exception>
    /// <exception cref="DeviceException">The reply was not valid ICD JSON.</exception>
    public Task<JsonObject> RequestAsync(string cmd, JsonObject? fields = null, CancellationToken cancellationToken = default) =>
        RequestAsync(NewRequestId(), cmd, fields, cancellationToken);

    public Task<JsonObject> RequestAsync(string id, string cmd, JsonObject? fields, CancellationToken cancellationToken = default)
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
        var pending = new PendingRequest(id, cmd, request.ToJsonString());
        if (cancellationToken.CanBeCanceled)
            pending.Registration = cancellationToken.Register(() => pending.Completion.TrySetCanceled(cancellationToken));
        try
        {
            _queue.Add(pending);
        }
        catch (InvalidOperationException)
        {
            throw new ObjectDisposedException(nameof(ZmqRequestClient));
        }
        return pending.Completion.Task;
    }

    private void Run()
    {
        RequestSocket? socket = null;
        try
        {
            foreach (var pending in _queue.GetConsumingEnumerable(_shutdown.Token))
            {
                if (pending.Completion.Task.IsCompleted)
                {
                    pending.Registration.Dispose();
                    continue;
                }
                socket ??= Open();
                var socketIsClean = Serve(ref socket, pending);
                if (!socketIsClean && socket is not null)
                {
                    // A REQ socket that still waits for a reply cannot send again: drop it (Lazy Pirate).
                    socket.Dispose();
                    socket = null;
                }
                pending.Registration.Dispose();
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
        }
        finally
        {
            socket?.Dispose();
            while (_queue.TryTake(out var left))
                left.Completion.TrySetException(new ObjectDisposedException(nameof(ZmqRequestClient)));
        }
    }

    private RequestSocket Open()
    {
        var socket = new RequestSocket();
        socket.Options.Linger = TimeSpan.Zero;
        socket.Connect(_endpoint);
        return socket;
    }

    /// <summary>Runs one request to its end. Returns whether the socket may be reused (it is not waiting for a reply).</summary>
    private bool Serve(ref RequestSocket socket, PendingRequest pending)
    {
        var attempts = _options.Retries + 1;
        var discardedHere = 0;
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            if (attempt > 1)
            {
                Interlocked.Increment(ref _resends);
                Resending?.Invoke(pending.Cmd, pending.Id, attempt,
                    $"no reply to '{pending.Cmd}' within {_options.ReplyTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s; socket reopened, resending");
            }
            if (!socket.TrySendFrame(_options.ReplyTimeout, pending.Json))
            {
                pending.Completion.TrySetException(new DeviceTimeoutException(_device,
                    $"could not send '{pending.Cmd}' (id {pending.Id}) to {_endpoint}"));
                return false;
            }
            var deadline = DateTime.UtcNow + _options.ReplyTimeout;
            string? reply = null;
            while (reply is null)
            {
                if (pending.Completion.Task.IsCompleted) return false;
                if (_shutdown.IsCancellationRequested)
                {
                    pending.Completion.TrySetException(new ObjectDisposedException(nameof(ZmqRequestClient)));
                    return false;
                }
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) break;
                // NetMQ blocks indefinitely on a sub-millisecond time-out, so waits are whole milliseconds.
                var slice = TimeSpan.FromMilliseconds(Math.Clamp(Math.Ceiling(left.TotalMilliseconds), 1, ReceiveSlice.TotalMilliseconds));
                socket.TryReceiveFrameString(slice, out reply);
            }
            if (reply is null)
            {
                // Lazy Pirate: the reply may never come on this connection; start over on a new one.
                socket.Dispose();
                socket = Open();
                continue;
            }
            var outcome = Interpret(pending, reply);
            if (outcome is null)
            {
                // The socket is ready to send again, so the same request simply goes out once more.
                Interlocked.Increment(ref _discardedReplies);
                discardedHere++;
                continue;
            }
            outcome();
            return true;
        }
        var why = discardedHere > 0 ? $" ({discardedHere} replies with a wrong id were discarded)" : "";
        pending.Completion.TrySetException(new DeviceTimeoutException(_device,
            $"no reply to '{pending.Cmd}' (id {pending.Id}) from {_endpoint} after {attempts} attempt(s) of {_options.ReplyTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s{why}"));
        return false;
    }

    /// <summary>Null when the reply is to be discarded; otherwise the action that completes the request.</summary>
    private Action? Interpret(PendingRequest pending, string reply)
    {
        JsonObject? obj;
        string? id = null;
        try
        {
            obj = JsonNode.Parse(reply) as JsonObject;
            if (obj?["id"] is JsonValue idValue) idValue.TryGetValue(out id);
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
        {
            // Not JSON, or JSON that System.Text.Json refuses to index (duplicate keys): nobody's reply.
            obj = null;
        }
        if (obj is null || id != pending.Id) return null;

        if (!obj.TryGetPropertyValue("ok", out var okNode) || okNode is not JsonValue okValue || !okValue.TryGetValue<bool>(out var ok))
            return () => pending.Completion.TrySetException(new DeviceException(_device,
                $"reply to '{pending.Cmd}' has no boolean \"ok\": {Shorten(reply)}"));
        if (ok) return () => pending.Completion.TrySetResult(obj);

        if (obj["error"] is not JsonObject error ||
            error["code"] is not JsonValue codeValue || !codeValue.TryGetValue<string>(out var code))
            return () => pending.Completion.TrySetException(new DeviceException(_device,
                $"error reply to '{pending.Cmd}' has no \"error\": {{\"code\"}}: {Shorten(reply)}"));
        var message = error["message"] is JsonValue m && m.TryGetValue<string>(out var text) ? text : "";
        return () => pending.Completion.TrySetException(
            new FacilityErrorException(_device, FacilityErrorCodes.FromWire(code), code, message));
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _queue.CompleteAdding();
        _shutdown.Cancel();
        _thread.Join();
        _queue.Dispose();
        _shutdown.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed class PendingRequest(string id, string cmd, string json)
    {
        public string Id { get; } = id;
        public string Cmd { get; } = cmd;
        public string Json { get; } = json;
        public CancellationTokenRegistration Registration { get; set; }
        public TaskCompletionSource<JsonObject> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Simulators.Physics;
using NetMQ;
using NetMQ.Sockets;

namespace AutonomousBeamline.Simulators.Zmq;

/// <summary>A request the server refuses with an ICD error code.</summary>
public sealed class RequestRefusedException(FacilityErrorCode code, string message) : Exception(message)
{
    public FacilityErrorCode Code { get; } = code;
}

/// <summary>
/// The request/reply half of FACILITY-ICD §2/§3 on a ROUTER socket, so REQ clients and DEALER clients
/// (with or without the empty delimiter frame) are all served. All socket work runs on one poller thread.
/// </summary>
/// <remarks>
/// Replies to non-idempotent commands are remembered by request id and payload: a Lazy Pirate client that
/// resends after a lost reply gets the same answer instead of a second move or a second frame.
/// Brokered, the port is a ROUTER front of NetMQ's <see cref="Proxy"/> whose DEALER back the server's own DEALER worker
/// connects to over TCP, as a facility that puts its servers behind a broker has it: every request and reply passes an
/// extra hop, and the worker, seeing the broker's envelope as a ROUTER would, keeps every habit of its manner.
/// </remarks>
public abstract class JsonRequestServer : IDisposable
{
    private const int RememberedReplies = 64;

    // The socket requests are served on: the bound ROUTER, or the worker's DEALER behind the broker.
    private readonly NetMQSocket _router;
    private readonly RouterSocket? _front;
    private readonly DealerSocket? _back;
    // Slow replies wait here, on the poller thread, instead of blocking it; one timer serves them all.
    private readonly NetMQTimer _lateReplyTimer = new(TimeSpan.FromMilliseconds(1)) { Enable = false };
    private readonly PriorityQueue<NetMQMessage, DateTime> _lateReplies = new();
    private readonly Dictionary<string, string> _replayable = new(StringComparer.Ordinal);
    private readonly Queue<string> _replayOrder = new();
    private int _dropNextReplies;
    private int _delayNextReplies;
    private long _replyDelayTicks;
    private long _requests;
    private long _droppedReplies;
    private bool _started;
    private bool _disposed;

    /// <param name="brokered">Serve behind a ROUTER→DEALER broker rather than on a ROUTER bound to the port.</param>
    protected JsonRequestServer(string host, int port, bool brokered = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        if (port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(port), port, "not a TCP port");
        Host = host;
        Brokered = brokered;
        if (!brokered)
        {
            var router = new RouterSocket();
            _router = router;
            Port = BindOrDispose(router, host, port, [router]);
            Poller = new NetMQPoller { _router, _lateReplyTimer };
        }
        else
        {
            _front = new RouterSocket();
            _back = new DealerSocket();
            var worker = new DealerSocket();
            _router = worker;
            NetMQSocket[] all = [_front, _back, worker];
            Port = BindOrDispose(_front, host, port, all);
            var backPort = BindOrDispose(_back, host, 0, all);
            worker.Options.Linger = TimeSpan.Zero;
            worker.Connect($"tcp://{host}:{backPort}");
            Poller = new NetMQPoller { _front, _back, worker, _lateReplyTimer };
            new Proxy(_front, _back, null, Poller).Start();
        }
        _router.ReceiveReady += OnReceiveReady;
        _lateReplyTimer.Elapsed += SendLateReplies;
    }

    /// <summary>Whether requests pass a broker before the server (see the remarks).</summary>
    public bool Brokered { get; }

    private static int BindOrDispose(NetMQSocket socket, string host, int port, NetMQSocket[] all)
    {
        socket.Options.Linger = TimeSpan.Zero;
        try
        {
            return Bind(socket, host, port);
        }
        catch
        {
            foreach (var s in all) s.Dispose();
            throw;
        }
    }

    public string Host { get; }

    /// <summary>The control port actually bound (a random one when 0 was asked for).</summary>
    public int Port { get; }

    public string Endpoint => $"tcp://{Host}:{Port}";

    public long RequestsHandled => Interlocked.Read(ref _requests);

    /// <summary>How replies go on the wire (extra fields, late, twice, a stale one first); our own habit unless set before <see cref="Start"/>.</summary>
    public ZmqWireManner Manner { get; init; } = ZmqWireManner.Native;

    public long DroppedReplies => Interlocked.Read(ref _droppedReplies);

    /// <summary>Runs the poller thread that serves requests. Idempotent.</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_started) return;
        _started = true;
        Poller.RunAsync();
    }

    /// <summary>Fault switch: handle the next <paramref name="count"/> requests but send no reply.</summary>
    public void DropNextReplies(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Interlocked.Exchange(ref _dropNextReplies, count);
    }

    /// <summary>Fault switch: answer the next <paramref name="count"/> requests only after <paramref name="delay"/> of real time (a slow peer).</summary>
    /// <remarks>The poller keeps serving meanwhile; the late reply goes out on a poller timer.</remarks>
    public void DelayNextReplies(int count, TimeSpan delay)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (delay <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(delay), "the delay must be positive");
        Interlocked.Exchange(ref _replyDelayTicks, delay.Ticks);
        Interlocked.Exchange(ref _delayNextReplies, count);
    }

    protected NetMQPoller Poller { get; }

    /// <summary>Takes one unit from a fault-switch counter; false when it is used up.</summary>
    protected static bool TakeOne(ref int counter)
    {
        while (true)
        {
            var left = Volatile.Read(ref counter);
            if (left <= 0) return false;
            if (Interlocked.CompareExchange(ref counter, left - 1, left) == left) return true;
        }
    }

    protected static int Bind(NetMQSocket socket, string host, int port)
    {
        if (port == 0) return socket.BindRandomPort($"tcp://{host}");
        socket.Bind($"tcp://{host}:{port}");
        return port;
    }

    /// <summary>Handles one request on the poller thread and returns the reply's fields besides "id" and "ok".</summary>
    /// <exception cref="RequestRefusedException">Answered as an ICD error with its code.</exception>
    protected abstract JsonObject Handle(string cmd, JsonObject request);

    /// <summary>Whether a command changes state, so that a resend of it must be answered from memory.</summary>
    protected virtual bool IsReplayable(string cmd) => false;

    private void OnReceiveReady(object? sender, NetMQSocketEventArgs e)
    {
        var message = new NetMQMessage();
        while (e.Socket.TryReceiveMultipartMessage(TimeSpan.Zero, ref message))
        {
            ServeOne(message);
            message = new NetMQMessage();
        }
    }

    private void SendLateReplies(object? sender, NetMQTimerEventArgs e)
    {
        while (_lateReplies.TryPeek(out var response, out var due) && due <= DateTime.UtcNow)
        {
            _lateReplies.Dequeue();
            _router.TrySendMultipartMessage(TimeSpan.FromSeconds(1), response);
        }
        ArmLateReplyTimer();
    }

    private void ArmLateReplyTimer()
    {
        if (!_lateReplies.TryPeek(out _, out var next))
        {
            _lateReplyTimer.Enable = false;
            return;
        }
        // NetMQ timers count whole milliseconds; rounding up never sends a reply early.
        var wait = Math.Max(1, (int)Math.Ceiling((next - DateTime.UtcNow).TotalMilliseconds));
        _lateReplyTimer.Interval = wait;
        _lateReplyTimer.Enable = true;
    }

    private void ServeOne(NetMQMessage message)
    {
        if (message.FrameCount < 2) return;
        // The envelope is everything up to the empty delimiter (REQ, DEALER with delimiter) or just the identity.
        var frames = message.ToList();
        var delimiter = frames.FindIndex(1, f => f.MessageSize == 0);
        var envelopeLength = delimiter >= 0 ? delimiter + 1 : 1;
        var body = frames.Skip(envelopeLength).ToList();
        Interlocked.Increment(ref _requests);

        string reply;
        if (body.Count != 1)
            reply = Error(null, FacilityErrorCode.BadRequest, $"expected one JSON frame, got {body.Count}");
        else
            reply = Answer(body[0].ConvertToString(Encoding.UTF8));

        if (TakeOne(ref _dropNextReplies))
        {
            Interlocked.Increment(ref _droppedReplies);
            return;
        }

        var envelope = frames.Take(envelopeLength).Select(f => f.ToByteArray()).ToList();
        if (Manner.ExtraFields) reply = WithExtraFields(reply);
        // A peer that differs from ours: the reply to the previous request first (the same client only), then this one.
        if (_previous is { } previous && previous.Envelope.SequenceEqual(envelope, ByteArrays) && Manner.Chance(Manner.StaleFirst))
            _router.TrySendMultipartMessage(TimeSpan.FromSeconds(1), Reply(previous.Envelope, previous.Reply));
        _previous = (envelope, reply);
        var response = Reply(envelope, reply);
        if (TakeOne(ref _delayNextReplies))
        {
            var due = DateTime.UtcNow + TimeSpan.FromTicks(Interlocked.Read(ref _replyDelayTicks));
            _lateReplies.Enqueue(response, due);
            ArmLateReplyTimer();
            return;
        }
        if (Manner.Chance(Manner.Delayed))
        {
            _lateReplies.Enqueue(response, DateTime.UtcNow + Manner.Delay());
            ArmLateReplyTimer();
            return;
        }
        _router.TrySendMultipartMessage(TimeSpan.FromSeconds(1), response);
        if (Manner.Chance(Manner.Duplicate)) _router.TrySendMultipartMessage(TimeSpan.FromSeconds(1), Reply(envelope, reply));
    }

    private (List<byte[]> Envelope, string Reply)? _previous;

    private static readonly EqualityComparer<byte[]> ByteArrays =
        EqualityComparer<byte[]>.Create((a, b) => a is not null && b is not null && a.AsSpan().SequenceEqual(b), a => a.Length);

    private static NetMQMessage Reply(IEnumerable<byte[]> envelope, string reply)
    {
        var response = new NetMQMessage();
        foreach (var frame in envelope) response.Append(frame);
        response.Append(reply, Encoding.UTF8);
        return response;
    }

    /// <summary>A gateway's own fields beside the ICD's, which a client must ignore.</summary>
    private static string WithExtraFields(string reply)
    {
        if (JsonNode.Parse(reply) is not JsonObject obj) return reply;
        obj["gateway"] = "foreign-sim/2.1";
        obj["server_time"] = DateTime.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        return obj.ToJsonString();
    }

    private string Answer(string text)
    {
        JsonNode? parsed;
        JsonNode? id;
        try
        {
            parsed = JsonNode.Parse(text);
            id = (parsed as JsonObject)?["id"];
        }
        catch (JsonException ex)
        {
            return Error(null, FacilityErrorCode.BadRequest, $"not valid JSON: {ex.Message}");
        }
        catch (ArgumentException ex)
        {
            return Error(null, FacilityErrorCode.BadRequest, $"unusable JSON object: {ex.Message}");
        }
        if (parsed is not JsonObject request)
            return Error(null, FacilityErrorCode.BadRequest, "the request must be a JSON object");
        if (id is not JsonValue idValue || !idValue.TryGetValue<string>(out var idText))
            return Error(id, FacilityErrorCode.BadRequest, "\"id\" must be a string");
        if (request["cmd"] is not JsonValue cmdValue || !cmdValue.TryGetValue<string>(out var cmd))
            return Error(id, FacilityErrorCode.BadRequest, "\"cmd\" must be a string");

        var replayKey = idText + "\n" + text;
        var replayable = IsReplayable(cmd);
        if (replayable && _replayable.TryGetValue(replayKey, out var remembered)) return remembered;

        string reply;
        try
        {
            var fields = Handle(cmd, request);
            var obj = new JsonObject { ["id"] = idText, ["ok"] = true };
            foreach (var (key, value) in fields.ToList())
            {
                fields.Remove(key);
                obj[key] = value;
            }
            reply = obj.ToJsonString();
        }
        catch (RequestRefusedException ex)
        {
            reply = Error(id, ex.Code, ex.Message);
        }
        catch (StageRefusedException ex)
        {
            reply = Error(id, ex.Code, ex.Message);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            reply = Error(id, FacilityErrorCode.Fault, $"internal error: {ex.Message}");
        }

        if (replayable)
        {
            _replayable[replayKey] = reply;
            _replayOrder.Enqueue(replayKey);
            if (_replayOrder.Count > RememberedReplies) _replayable.Remove(_replayOrder.Dequeue());
        }
        return reply;
    }

    private static string Error(JsonNode? id, FacilityErrorCode code, string message) =>
        new JsonObject
        {
            ["id"] = id?.DeepClone(),
            ["ok"] = false,
            ["error"] = new JsonObject { ["code"] = code.ToWire(), ["message"] = message },
        }.ToJsonString();

    // Field readers for Handle: a missing or mistyped field is the client's fault, so BAD_REQUEST names it.

    protected static string RequireString(JsonObject request, string field) =>
        request[field] is JsonValue v && v.TryGetValue<string>(out var s)
            ? s
            : throw new RequestRefusedException(FacilityErrorCode.BadRequest, $"\"{field}\" must be a string");

    protected static double RequireNumber(JsonObject request, string field) =>
        ReadNumber(request[field], $"\"{field}\"");

    protected static double ReadNumber(JsonNode? node, string what)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var d) && double.IsFinite(d))
            return d;
        throw new RequestRefusedException(FacilityErrorCode.BadRequest, $"{what} must be a finite number");
    }

    protected static JsonObject RequireObject(JsonObject request, string field) =>
        request[field] as JsonObject ?? throw new RequestRefusedException(FacilityErrorCode.BadRequest, $"\"{field}\" must be an object");

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_started) Poller.Stop();
        Poller.Dispose();
        _router.Dispose();
        _front?.Dispose();
        _back?.Dispose();
        DisposeSockets();
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the derived class's own sockets; the poller has stopped when this runs.</summary>
    protected virtual void DisposeSockets()
    {
    }
}

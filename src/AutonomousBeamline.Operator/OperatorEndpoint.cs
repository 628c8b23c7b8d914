using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AutonomousBeamline.Control.Operator;
using NetMQ;
using NetMQ.Sockets;

namespace AutonomousBeamline.Operator;

public sealed record OperatorEndpointOptions
{
    /// <summary>The controller's default command port; the status stream uses the next one.</summary>
    public const int DefaultPort = 5560;

    public const string LoopbackHost = "127.0.0.1";

    /// <summary>Address to bind. Anything but a loopback address requires <see cref="Curve"/>.</summary>
    public string Host { get; init; } = LoopbackHost;

    /// <summary>Request/reply port; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>Status publisher port; 0 picks a free one (tests).</summary>
    public int StatusPort { get; init; } = DefaultPort + 1;

    /// <summary>Wall-clock period of the status stream when nothing changes.</summary>
    public TimeSpan StatusPeriod { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the snapshot is compared with the last one published, so changes go out at once.</summary>
    public TimeSpan ChangeCheckInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>CURVE keys; required to bind beyond loopback, allowed on loopback too.</summary>
    public OperatorServerCurve? Curve { get; init; }

    /// <summary>The run this endpoint serves: commands carrying another run id are refused. Null: the controller's snapshot says.</summary>
    public string? RunId { get; init; }

    /// <summary>The endpoint's clock for the replay window (tests move it).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}

/// <summary>
/// The controller's operator endpoint (docs/console.md): JSON request/reply on a ROUTER socket for commands and
/// queries, and a PUB socket streaming the snapshot on topic "status". Both sockets and the status timer live on
/// one poller thread. Bad requests are answered with an error naming the problem and never reach
/// <see cref="IExperimentOperations"/>; nothing a client sends can stop the endpoint or the run.
/// </summary>
public sealed class OperatorEndpoint : IDisposable
{
    private const int RememberedReplies = 64;
    private const long MaxRequestBytes = 64 * 1024;

    private readonly IExperimentOperations _ops;
    private readonly OperatorEndpointOptions _options;
    private readonly NetMQCertificate? _serverCertificate;
    private readonly List<byte[]> _allowedClients = [];
    private readonly Dictionary<string, string> _replayable = new(StringComparer.Ordinal);
    private readonly Queue<string> _replayOrder = new();
    private readonly Dictionary<string, string> _clientNames = new(StringComparer.Ordinal);
    private readonly ReplayGuard _nonces = new(OperatorRequestProof.Window);
    private string? _runId;
    private RouterSocket? _router;
    private PublisherSocket? _publisher;
    private NetMQTimer? _timer;
    private NetMQPoller? _poller;
    private string? _lastPublishedState;
    private DateTime _lastPublishedAt;
    private bool _publishWanted;
    private long _requests;
    private long _published;
    private bool _disposed;

    /// <exception cref="ArgumentException">Options that cannot work (bad port, period, malformed key).</exception>
    /// <exception cref="InvalidOperationException">A non-loopback host without CURVE keys.</exception>
    public OperatorEndpoint(IExperimentOperations ops, OperatorEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(ops);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Host, nameof(options.Host));
        if (options.Port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(options), options.Port, "Port is not a TCP port");
        if (options.StatusPort is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(options), options.StatusPort, "StatusPort is not a TCP port");
        if (options.Port != 0 && options.Port == options.StatusPort) throw new ArgumentException("Port and StatusPort must differ", nameof(options));
        if (options.StatusPeriod <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), "StatusPeriod must be positive");
        if (options.ChangeCheckInterval < TimeSpan.FromMilliseconds(1)) throw new ArgumentOutOfRangeException(nameof(options), "ChangeCheckInterval must be at least 1 ms");
        if (!IsLoopback(options.Host) && options.Curve is null)
            throw new InvalidOperationException(
                $"refusing to bind the operator endpoint to '{options.Host}': beyond loopback it needs CURVE keys " +
                "(a server secret key and the allowed consoles' public keys)");
        if (options.Curve is { } curve)
        {
            _serverCertificate = OperatorCurveKeys.Certificate(curve.ServerSecretKey, "operator endpoint's server secret key");
            if (curve.AllowedClientPublicKeys is null || curve.AllowedClientPublicKeys.Count == 0)
                throw new ArgumentException("CURVE needs at least one allowed client public key", nameof(options));
            foreach (var key in curve.AllowedClientPublicKeys)
            {
                _allowedClients.Add(OperatorCurveKeys.PublicKeyBytes(key, $"allowed client key '{key}'"));
                var name = curve.ClientNames?.GetValueOrDefault(key) ?? $"console {key[..8]}";
                if (RequestIdentity.Problem(name) is { } problem) throw new ArgumentException($"the name of client key '{key}' {problem}", nameof(options));
                _clientNames[key] = name;
            }
        }
        _ops = ops;
        _options = options;
    }

    /// <summary>Whether a host string names the loopback interface; "*", "0.0.0.0" and names other than localhost do not.</summary>
    public static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ||
        (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    /// <summary>The request/reply port actually bound (after <see cref="Start"/>).</summary>
    public int Port { get; private set; }

    /// <summary>The status publisher port actually bound (after <see cref="Start"/>).</summary>
    public int StatusPort { get; private set; }

    public string Endpoint => $"tcp://{ConnectHost}:{Port}";

    public string StatusEndpoint => $"tcp://{ConnectHost}:{StatusPort}";

    /// <summary>The server's public key (Z85) that consoles need, or null without CURVE.</summary>
    public string? ServerPublicKey => _serverCertificate?.PublicKeyZ85;

    public long RequestsServed => Interlocked.Read(ref _requests);

    public long StatusMessagesPublished => Interlocked.Read(ref _published);

    // A wildcard bind is reachable on loopback too, which is the one address that surely works from here.
    private string ConnectHost => _options.Host is "*" or "0.0.0.0" ? OperatorEndpointOptions.LoopbackHost : _options.Host;

    /// <summary>Binds both sockets and starts the poller thread.</summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    /// <exception cref="NetMQException">A port could not be bound (in use, address not local).</exception>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_poller is not null) throw new InvalidOperationException("the operator endpoint is already started");
        var router = new RouterSocket();
        var publisher = new PublisherSocket();
        try
        {
            foreach (NetMQSocket socket in new NetMQSocket[] { router, publisher })
            {
                socket.Options.Linger = TimeSpan.Zero;
                if (_options.Host.Contains(':')) socket.Options.IPv4Only = false;
                if (_serverCertificate is not null)
                {
                    socket.Options.CurveServer = true;
                    socket.Options.CurveCertificate = _serverCertificate;
                }
            }
            router.Options.MaxMsgSize = MaxRequestBytes;
            // A console that stops reading must not grow the controller's memory: drop status for it instead.
            publisher.Options.SendHighWatermark = 16;
            Port = Bind(router, _options.Port);
            StatusPort = Bind(publisher, _options.StatusPort);
        }
        catch
        {
            router.Dispose();
            publisher.Dispose();
            throw;
        }
        _router = router;
        _publisher = publisher;
        _router.ReceiveReady += OnRequest;
        _timer = new NetMQTimer(_options.ChangeCheckInterval);
        _timer.Elapsed += (_, _) => PublishIfDue();
        _poller = new NetMQPoller { _router, _publisher, _timer };
        _publishWanted = true;
        _poller.RunAsync("operator-endpoint");
    }

    private int Bind(NetMQSocket socket, int port)
    {
        var host = _options.Host.Contains(':') && !_options.Host.StartsWith('[') ? $"[{_options.Host}]" : _options.Host;
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) host = OperatorEndpointOptions.LoopbackHost;
        if (port == 0) return socket.BindRandomPort($"tcp://{host}");
        socket.Bind($"tcp://{host}:{port.ToString(CultureInfo.InvariantCulture)}");
        return port;
    }

    /// <summary>Asks for a status message at the next tick even if nothing changed (thread-safe).</summary>
    public void PublishSoon() => Volatile.Write(ref _publishWanted, true);

    private void OnRequest(object? sender, NetMQSocketEventArgs e)
    {
        var message = new NetMQMessage();
        while (e.Socket.TryReceiveMultipartMessage(TimeSpan.Zero, ref message))
        {
            ServeOne(message);
            message = new NetMQMessage();
        }
    }

    private void ServeOne(NetMQMessage message)
    {
        if (message.FrameCount < 2) return;
        // REQ peers put an empty delimiter after their identity; DEALER peers may leave it out.
        var frames = message.ToList();
        var delimiter = frames.FindIndex(1, f => f.MessageSize == 0);
        var envelopeLength = delimiter >= 0 ? delimiter + 1 : 1;
        var body = frames.Skip(envelopeLength).ToList();
        Interlocked.Increment(ref _requests);

        string reply;
        try
        {
            reply = body.Count == 1
                ? Answer(body[0].ConvertToString(Encoding.UTF8))
                : OperatorProtocol.Error(null, OperatorErrorCodes.BadRequest, $"expected one JSON frame, got {body.Count}");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            reply = OperatorProtocol.Error(null, OperatorErrorCodes.Internal, $"the endpoint failed on this request: {ex.Message}");
        }

        var response = new NetMQMessage();
        foreach (var frame in frames.Take(envelopeLength)) response.Append(frame.ToByteArray());
        response.Append(reply, Encoding.UTF8);
        _router!.TrySendMultipartMessage(TimeSpan.FromSeconds(1), response);
    }

    /// <summary>Duplicate keys are refused by the parser (which of two values would count?); requests are shallow.</summary>
    private static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false, MaxDepth = 8 };

    /// <summary>The fields a request may have (docs/console.md); anything else is refused rather than ignored.</summary>
    private static readonly string[] RequestFields = ["id", "cmd", "args", "user", "host", "run_id", "ts", "nonce", "client_key", "auth"];

    private string Answer(string text)
    {
        JsonObject? request;
        try
        {
            request = JsonNode.Parse(text, documentOptions: StrictJson) as JsonObject;
        }
        catch (JsonException ex)
        {
            return OperatorProtocol.Error(null, OperatorErrorCodes.BadRequest, $"not valid JSON: {ex.Message}");
        }
        if (request is null) return OperatorProtocol.Error(null, OperatorErrorCodes.BadRequest, "the request must be a JSON object");
        if (!TryString(request, "id", out var id) || id.Length == 0)
            return OperatorProtocol.Error(null, OperatorErrorCodes.BadRequest, "\"id\" must be a non-empty string");
        if (request.Select(p => p.Key).FirstOrDefault(k => Array.IndexOf(RequestFields, k) < 0) is { } unknown)
            return OperatorProtocol.Error(id, OperatorErrorCodes.BadRequest, $"unknown field \"{RequestIdentity.Shown(unknown)}\" (a request has {string.Join(", ", RequestFields)})");
        if (!TryString(request, "cmd", out var cmd))
            return OperatorProtocol.Error(id, OperatorErrorCodes.BadRequest, "\"cmd\" must be a string");

        // A Lazy Pirate client resends after a lost reply (from a fresh socket); the same request is answered from
        // memory, never applied twice. Only requests that passed every check below are remembered.
        var replayKey = id + "\n" + text;
        if (_replayable.TryGetValue(replayKey, out var remembered)) return remembered;
        OperatorIdentity? keyHolder = null;
        if (_serverCertificate is not null && Unauthorized(request, out keyHolder) is { } why)
            return OperatorProtocol.Error(id, OperatorErrorCodes.Unauthorized, why);

        switch (cmd)
        {
            case WireCommands.Queries.Describe:
                return OperatorProtocol.Success(id, Describe());
            case WireCommands.Queries.Snapshot:
                try
                {
                    return OperatorProtocol.Success(id, new JsonObject { ["snapshot"] = OperatorProtocol.SnapshotNode(_ops.Snapshot()) });
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    return OperatorProtocol.Error(id, OperatorErrorCodes.Internal, $"snapshot: the controller failed: {ex.Message}");
                }
        }

        var reply = ApplyCommand(id, cmd, request, keyHolder);
        _replayable[replayKey] = reply;
        _replayOrder.Enqueue(replayKey);
        if (_replayOrder.Count > RememberedReplies) _replayable.Remove(_replayOrder.Dequeue());
        return reply;
    }

    /// <summary>The run this endpoint serves: as configured, else as the controller's snapshot says (asked again until it answers).</summary>
    private string? ServedRunId()
    {
        if (_runId is not null) return _runId;
        try { return _runId = _options.RunId ?? _ops.Snapshot().RunId; }
        catch (Exception ex) when (ex is not OutOfMemoryException) { return null; }
    }

    /// <param name="keyHolder">With CURVE, whom the proven key belongs to: the identity journalled, whatever "user" says.</param>
    private string ApplyCommand(string id, string cmd, JsonObject request, OperatorIdentity? keyHolder)
    {
        var by = keyHolder;
        if (by is null)
        {
            if (!TryIdentityField(request, "user", out var user, out var userProblem))
                return OperatorProtocol.Error(id, OperatorErrorCodes.BadRequest, userProblem);
            if (!TryIdentityField(request, "host", out var host, out var hostProblem))
                return OperatorProtocol.Error(id, OperatorErrorCodes.BadRequest, hostProblem);
            by = new OperatorIdentity(user, host);
        }
        if (!TryString(request, "run_id", out var runId) || runId.Length == 0)
            return OperatorProtocol.Error(id, OperatorErrorCodes.BadRequest, "\"run_id\" is required: the run the command is meant for (describe names it)");
        var served = ServedRunId();
        if (served is null) return OperatorProtocol.Error(id, OperatorErrorCodes.Internal, "the controller cannot say which run it serves; try again");
        if (runId != served)
            return OperatorProtocol.Error(id, OperatorErrorCodes.Refused,
                $"this controller runs {served}, not {RequestIdentity.Shown(runId)}: the command was meant for another run and is not applied");
        JsonObject? args = null;
        if (request.TryGetPropertyValue("args", out var argsNode) && argsNode is not null)
        {
            args = argsNode as JsonObject;
            if (args is null) return OperatorProtocol.Error(id, OperatorErrorCodes.BadRequest, "\"args\" must be an object");
        }

        var parsed = WireCommands.FromWire(cmd, args, by);
        if (!parsed.Ok) return OperatorProtocol.Error(id, parsed.ErrorCode!, parsed.Error!);

        CommandOutcome outcome;
        try
        {
            outcome = _ops.Apply(parsed.Command!);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return OperatorProtocol.Error(id, OperatorErrorCodes.Internal, $"{cmd}: the controller failed: {ex.Message}");
        }
        _publishWanted = true;
        return outcome.Accepted
            ? OperatorProtocol.Success(id, outcome.Message)
            : OperatorProtocol.Error(id, OperatorErrorCodes.Refused, outcome.Message);
    }

    private JsonObject Describe() => new()
    {
        ["status_port"] = StatusPort,
        ["status_topic"] = OperatorProtocol.StatusTopic,
        ["status_period_s"] = _options.StatusPeriod.TotalSeconds,
        ["auth"] = _serverCertificate is null ? "none" : "curve",
        ["run_id"] = ServedRunId(),
        ["commands"] = new JsonArray(WireCommands.CommandNames.Select(n => (JsonNode)JsonValue.Create(n)!).ToArray()),
    };

    /// <summary>
    /// Why the request does not prove an allowed key for itself, now, once; or null, with the key's holder. The order
    /// matters: the proof is checked before the nonce is spent, so a forgery cannot use up a real console's nonces.
    /// </summary>
    private string? Unauthorized(JsonObject request, out OperatorIdentity? keyHolder)
    {
        keyHolder = null;
        if (!TryString(request, "client_key", out var clientKeyText)) return "this endpoint needs \"client_key\" and \"auth\" (CURVE)";
        if (!TryString(request, "auth", out var auth)) return "\"auth\" must be a string";
        byte[] clientKey;
        try
        {
            clientKey = OperatorCurveKeys.PublicKeyBytes(clientKeyText, "client key");
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
        var allowed = _allowedClients.FindIndex(k => k.AsSpan().SequenceEqual(clientKey));
        if (allowed < 0) return "this client key is not allowed";
        if (!OperatorCurveKeys.Verify(OperatorRequestProof.Canonical(request), auth, clientKey, _serverCertificate!.SecretKey!))
            return "\"auth\" does not prove the client key for this request (it covers the command, its arguments, the id, the run id, the time and the nonce)";
        var now = _options.Clock.GetUtcNow();
        if (OperatorRequestProof.TimeProblem(TryString(request, "ts", out var ts) ? ts : null, now) is { } late) return late;
        if (_nonces.Accept(TryString(request, "nonce", out var nonce) ? nonce : null, now) is { } replayed) return replayed;
        var key = _options.Curve!.AllowedClientPublicKeys[allowed];
        keyHolder = new OperatorIdentity(_clientNames[key], "key " + key[..8]);
        return null;
    }

    private static bool TryString(JsonObject request, string field, out string value)
    {
        if (request[field] is JsonValue node && node.GetValueKind() == JsonValueKind.String && node.TryGetValue<string>(out var text))
        {
            value = text;
            return true;
        }
        value = "";
        return false;
    }

    // Identity ends up in the journal's audit trail, so it must be short, printable text.
    private static bool TryIdentityField(JsonObject request, string field, out string value, out string problem)
    {
        problem = "";
        if (!TryString(request, field, out value) || value.Trim().Length == 0)
        {
            problem = $"\"{field}\" must be a non-empty string (who sent the command, for the audit trail)";
            return false;
        }
        if (RequestIdentity.Problem(value) is { } why)
        {
            problem = $"\"{field}\" {why}";
            return false;
        }
        value = value.Trim();
        return true;
    }

    private void PublishIfDue()
    {
        ExperimentSnapshot snapshot;
        try
        {
            snapshot = _ops.Snapshot();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A snapshot that cannot be taken now is tried again at the next tick; the stream just skips a beat.
            System.Diagnostics.Debug.WriteLine($"operator endpoint: snapshot failed: {ex.Message}");
            return;
        }
        var state = OperatorProtocol.SerializeSnapshot(snapshot with { Time = default });
        var now = DateTime.UtcNow;
        var due = _publishWanted || state != _lastPublishedState || now - _lastPublishedAt >= _options.StatusPeriod;
        if (!due) return;
        var json = OperatorProtocol.SerializeSnapshot(snapshot);
        if (_publisher!.SendMoreFrame(OperatorProtocol.StatusTopic).TrySendFrame(TimeSpan.Zero, json))
            Interlocked.Increment(ref _published);
        _publishWanted = false;
        _lastPublishedState = state;
        _lastPublishedAt = now;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_poller is not null)
        {
            _poller.Stop();
            _poller.Dispose();
        }
        _router?.Dispose();
        _publisher?.Dispose();
    }
}

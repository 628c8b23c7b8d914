using System.Globalization;
using System.Text.Json.Nodes;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.ZeroMq;
using NetMQ;

namespace AutonomousBeamline.Operator;

public sealed record OperatorClientOptions
{
    /// <summary>Real (wall-clock) time to wait for a reply before the socket is dropped and the request resent.</summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How many times a request is resent after a time-out or a reply to another request (0 = one attempt only).</summary>
    public int Retries { get; init; } = 2;

    /// <summary>CURVE keys when the endpoint requires them.</summary>
    public OperatorClientCurve? Curve { get; init; }

    /// <summary>
    /// The run the console means to steer. Every command carries it and a controller running another run refuses the
    /// command. Null: learnt from the endpoint's <c>describe</c> before the first command.
    /// </summary>
    public string? RunId { get; init; }
}

/// <summary>An endpoint's answer to one request.</summary>
/// <param name="Ok">Whether the request succeeded (a command applied, a query answered).</param>
/// <param name="Message">The success message, or the error's message.</param>
/// <param name="ErrorCode">One of <see cref="OperatorErrorCodes"/> when not ok.</param>
/// <param name="Body">The whole reply, for queries with more fields.</param>
public sealed record OperatorReply(bool Ok, string Message, string? ErrorCode, JsonObject Body);

/// <summary>The endpoint did not answer in time, after every retry.</summary>
public sealed class OperatorEndpointUnreachableException(string message) : TimeoutException(message);

/// <summary>The endpoint answered with something that is not an operator reply.</summary>
public sealed class OperatorProtocolException(string message) : Exception(message);

/// <summary>
/// A console's side of the operator endpoint: JSON requests over the shared Lazy Pirate client (a real wall-clock
/// time-out, then a fresh socket and a resend with the same id, which the endpoint answers from memory).
/// Requests are serialised on the client's socket thread; the client is safe to share between threads.
/// </summary>
public sealed class OperatorClient : IDisposable
{
    private readonly OperatorIdentity _identity;
    private readonly OperatorClientOptions _options;
    private readonly NetMQCertificate? _clientCertificate;
    private readonly byte[]? _serverPublicKey;
    private readonly ZmqRequestClient<OperatorReply> _requests;

    public OperatorClient(string endpoint, OperatorIdentity identity, OperatorClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        ArgumentNullException.ThrowIfNull(identity);
        _options = options ?? new OperatorClientOptions();
        if (_options.Curve is { } curve)
        {
            _clientCertificate = OperatorCurveKeys.Certificate(curve.ClientSecretKey, "console's secret key");
            _serverPublicKey = OperatorCurveKeys.PublicKeyBytes(curve.ServerPublicKey, "endpoint's public key");
        }
        _identity = identity;
        RunId = _options.RunId;
        _requests = new ZmqRequestClient<OperatorReply>(endpoint, new OperatorReplies(), new ZmqRequestClientOptions
        {
            ReplyTimeout = _options.ReplyTimeout,
            Retries = _options.Retries,
            IdPrefix = "op",
            ConfigureSocket = _clientCertificate is null ? null : UseCurve,
        });
    }

    public string Endpoint => _requests.Endpoint;

    public OperatorIdentity Identity => _identity;

    /// <summary>The run this client's commands are for (see <see cref="OperatorClientOptions.RunId"/>).</summary>
    public string? RunId { get; private set; }

    /// <summary>The run the endpoint serves, from its <c>describe</c>.</summary>
    /// <exception cref="OperatorProtocolException">The endpoint did not say.</exception>
    public async Task<string> EndpointRunIdAsync(CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(WireCommands.Queries.Describe, null, cancellationToken).ConfigureAwait(false);
        if (!reply.Ok) throw new OperatorProtocolException($"describe refused: {reply.ErrorCode}: {reply.Message}");
        return RunIdOf(reply);
    }

    private static string RunIdOf(OperatorReply describe) =>
        describe.Body["run_id"] is JsonValue v && v.TryGetValue<string>(out var runId) && runId.Length > 0
            ? runId
            : throw new OperatorProtocolException("the describe reply names no run (\"run_id\"); is this a beamline controller of this version?");

    /// <summary>The user and host of this process, as the audit trail records them.</summary>
    public static OperatorIdentity LocalIdentity() =>
        new(string.IsNullOrWhiteSpace(Environment.UserName) ? "unknown" : Environment.UserName,
            string.IsNullOrWhiteSpace(Environment.MachineName) ? "unknown" : Environment.MachineName);

    /// <summary>Sends a command; a refusal is a reply with <c>Ok = false</c>, not an exception.</summary>
    /// <exception cref="OperatorEndpointUnreachableException">No reply after every retry.</exception>
    public async Task<OperatorReply> SendAsync(OperatorCommand command, CancellationToken cancellationToken = default)
    {
        var wire = WireCommands.ToWire(command);
        if (RunId is null)
        {
            // An endpoint that will not describe itself (a key it does not allow) answers the command the same way.
            var described = await RequestAsync(WireCommands.Queries.Describe, null, cancellationToken).ConfigureAwait(false);
            if (!described.Ok) return described;
            RunId = RunIdOf(described);
        }
        return await RequestAsync(wire.Cmd, wire.Args, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The experiment's state now.</summary>
    /// <exception cref="OperatorProtocolException">The reply carried no readable snapshot.</exception>
    public async Task<ExperimentSnapshot> SnapshotAsync(CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(WireCommands.Queries.Snapshot, null, cancellationToken).ConfigureAwait(false);
        if (!reply.Ok) throw new OperatorProtocolException($"snapshot refused: {reply.ErrorCode}: {reply.Message}");
        if (reply.Body["snapshot"] is not JsonObject snapshot) throw new OperatorProtocolException("the snapshot reply has no \"snapshot\" object");
        try
        {
            return OperatorProtocol.DeserializeSnapshot(snapshot.ToJsonString());
        }
        catch (FormatException ex)
        {
            throw new OperatorProtocolException(ex.Message);
        }
    }

    /// <summary>The status stream's port and what the endpoint offers.</summary>
    public async Task<int> StatusPortAsync(CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(WireCommands.Queries.Describe, null, cancellationToken).ConfigureAwait(false);
        if (!reply.Ok) throw new OperatorProtocolException($"describe refused: {reply.ErrorCode}: {reply.Message}");
        if (reply.Body["status_port"] is JsonValue v && v.TryGetValue<int>(out var port) && port is > 0 and <= 65535) return port;
        throw new OperatorProtocolException("the describe reply has no valid \"status_port\"");
    }

    /// <summary>The status endpoint on the same host as the command endpoint.</summary>
    public async Task<string> StatusEndpointAsync(CancellationToken cancellationToken = default)
    {
        var port = await StatusPortAsync(cancellationToken).ConfigureAwait(false);
        return WithPort(Endpoint, port);
    }

    /// <summary>Replaces the port of a tcp:// endpoint.</summary>
    public static string WithPort(string endpoint, int port)
    {
        var colon = endpoint.LastIndexOf(':');
        if (!endpoint.StartsWith("tcp://", StringComparison.Ordinal) || colon <= "tcp://".Length)
            throw new ArgumentException($"'{endpoint}' is not a tcp://HOST:PORT endpoint", nameof(endpoint));
        return endpoint[..colon] + ":" + port.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Sends any request: <paramref name="cmd"/> with <paramref name="args"/> (may be null).</summary>
    /// <exception cref="OperatorEndpointUnreachableException">No reply after every retry.</exception>
    /// <exception cref="OperatorProtocolException">The endpoint answered with something that is not an operator reply.</exception>
    public Task<OperatorReply> RequestAsync(string cmd, JsonObject? args, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(cmd);
        // The id is chosen first because, with CURVE, the request proves the client key over it and the rest.
        var id = _requests.NewRequestId();
        var fields = new JsonObject
        {
            // As the endpoint will read them, so that both sides canonicalise the same numbers.
            ["args"] = JsonNode.Parse((args ?? new JsonObject()).ToJsonString()),
            ["user"] = _identity.User,
            ["host"] = _identity.Host,
            ["ts"] = OperatorRequestProof.Timestamp(DateTimeOffset.UtcNow),
            ["nonce"] = OperatorRequestProof.NewNonce(),
        };
        if (RunId is not null) fields["run_id"] = RunId;
        if (_clientCertificate is not null)
        {
            var whole = (JsonObject)fields.DeepClone();
            (whole["id"], whole["cmd"]) = (id, cmd);
            fields["client_key"] = _clientCertificate.PublicKeyZ85;
            fields["auth"] = OperatorCurveKeys.Prove(OperatorRequestProof.Canonical(whole), _clientCertificate, _serverPublicKey!);
        }
        return _requests.RequestAsync(id, cmd, fields, cancellationToken);
    }

    private void UseCurve(SocketOptions socket)
    {
        socket.CurveServerKey = _serverPublicKey!;
        socket.CurveCertificate = _clientCertificate!;
    }

    /// <summary>A subscription to the endpoint's status stream with this client's keys.</summary>
    public OperatorStatusSubscriber Subscribe(string statusEndpoint) =>
        new(statusEndpoint, _options.Curve);

    public void Dispose() => _requests.Dispose();

    /// <summary>
    /// Operator replies: an error reply is an answer like any other (a refusal has a reason to show), while anything
    /// that is not an operator reply at all means the console is talking to something else.
    /// </summary>
    private sealed class OperatorReplies : IReplyInterpreter<OperatorReply>
    {
        public OperatorReply Read(ZmqRequest request, ZmqReply reply) =>
            reply.Error is { } error
                ? new OperatorReply(false, error.Message, error.Code, reply.Body)
                : new OperatorReply(true, reply.Message, null, reply.Body);

        public Exception Malformed(ZmqRequest request, string problem, string text) => new OperatorProtocolException($"the reply {problem}");

        public Exception? Unreadable(ZmqRequest request, string problem) => new OperatorProtocolException($"the reply is {problem}");

        public Exception NoReply(ZmqRequest request, string message) => new OperatorEndpointUnreachableException(message);
    }
}

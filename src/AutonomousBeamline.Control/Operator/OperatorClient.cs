using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NetMQ;
using NetMQ.Sockets;

namespace AutonomousBeamline.Control.Operator;

public sealed record OperatorClientOptions
{
    /// <summary>Real (wall-clock) time to wait for a reply before the socket is dropped and the request resent.</summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How many times a request is resent after a time-out (0 = one attempt only).</summary>
    public int Retries { get; init; } = 2;

    /// <summary>CURVE keys when the endpoint requires them.</summary>
    public OperatorClientCurve? Curve { get; init; }
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
/// A console's side of the operator endpoint: JSON requests over REQ with the Lazy Pirate pattern (a real
/// wall-clock time-out, then a fresh socket and a resend with the same id, which the endpoint answers from memory).
/// Requests are serialised; the client is safe to share between threads.
/// </summary>
public sealed class OperatorClient : IDisposable
{
    private readonly string _endpoint;
    private readonly OperatorIdentity _identity;
    private readonly OperatorClientOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly NetMQCertificate? _clientCertificate;
    private readonly byte[]? _serverPublicKey;
    private readonly string _idStem = "op" + Random.Shared.Next(0x10000, 0xFFFFF).ToString("x", CultureInfo.InvariantCulture) + "-";
    private RequestSocket? _socket;
    private long _nextId;
    private bool _disposed;

    public OperatorClient(string endpoint, OperatorIdentity identity, OperatorClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        ArgumentNullException.ThrowIfNull(identity);
        _options = options ?? new OperatorClientOptions();
        if (_options.ReplyTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), "ReplyTimeout must be positive");
        if (_options.Retries < 0) throw new ArgumentOutOfRangeException(nameof(options), "Retries cannot be negative");
        if (_options.Curve is { } curve)
        {
            _clientCertificate = OperatorCurveKeys.Certificate(curve.ClientSecretKey, "console's secret key");
            _serverPublicKey = OperatorCurveKeys.PublicKeyBytes(curve.ServerPublicKey, "endpoint's public key");
        }
        _endpoint = endpoint;
        _identity = identity;
    }

    public string Endpoint => _endpoint;

    public OperatorIdentity Identity => _identity;

    /// <summary>The user and host of this process, as the audit trail records them.</summary>
    public static OperatorIdentity LocalIdentity() =>
        new(string.IsNullOrWhiteSpace(Environment.UserName) ? "unknown" : Environment.UserName,
            string.IsNullOrWhiteSpace(Environment.MachineName) ? "unknown" : Environment.MachineName);

    /// <summary>Sends a command; a refusal is a reply with <c>Ok = false</c>, not an exception.</summary>
    /// <exception cref="OperatorEndpointUnreachableException">No reply after every retry.</exception>
    public Task<OperatorReply> SendAsync(OperatorCommand command, CancellationToken cancellationToken = default)
    {
        var wire = OperatorCommandParser.ToWire(command);
        return RequestAsync(wire.Cmd, wire.Args, cancellationToken);
    }

    /// <summary>Parses a console line (e.g. "goto 3 4") as sent by this client's identity and sends it.</summary>
    /// <exception cref="ArgumentException">The line is malformed, or is not a controller command (help, status, quit); nothing is sent.</exception>
    public Task<OperatorReply> SendLineAsync(string line, CancellationToken cancellationToken = default)
    {
        var parsed = OperatorCommandParser.ParseLine(line, _identity);
        return parsed.Kind switch
        {
            ConsoleLineKind.Command => SendAsync(parsed.Command!, cancellationToken),
            ConsoleLineKind.Error => throw new ArgumentException(parsed.Error, nameof(line)),
            _ => throw new ArgumentException($"'{line}' is not a command for the controller ({parsed.Kind})", nameof(line)),
        };
    }

    /// <summary>The experiment's state now.</summary>
    /// <exception cref="OperatorProtocolException">The reply carried no readable snapshot.</exception>
    public async Task<ExperimentSnapshot> SnapshotAsync(CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(OperatorCommandParser.Queries.Snapshot, null, cancellationToken).ConfigureAwait(false);
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
        var reply = await RequestAsync(OperatorCommandParser.Queries.Describe, null, cancellationToken).ConfigureAwait(false);
        if (!reply.Ok) throw new OperatorProtocolException($"describe refused: {reply.ErrorCode}: {reply.Message}");
        if (reply.Body["status_port"] is JsonValue v && v.TryGetValue<int>(out var port) && port is > 0 and <= 65535) return port;
        throw new OperatorProtocolException("the describe reply has no valid \"status_port\"");
    }

    /// <summary>The status endpoint on the same host as the command endpoint.</summary>
    public async Task<string> StatusEndpointAsync(CancellationToken cancellationToken = default)
    {
        var port = await StatusPortAsync(cancellationToken).ConfigureAwait(false);
        return WithPort(_endpoint, port);
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
    public async Task<OperatorReply> RequestAsync(string cmd, JsonObject? args, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(cmd);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var id = _idStem + Interlocked.Increment(ref _nextId).ToString(CultureInfo.InvariantCulture);
        var request = new JsonObject
        {
            ["id"] = id,
            ["cmd"] = cmd,
            ["args"] = args?.DeepClone() ?? new JsonObject(),
            ["user"] = _identity.User,
            ["host"] = _identity.Host,
        };
        if (_clientCertificate is not null)
        {
            request["client_key"] = _clientCertificate.PublicKeyZ85;
            request["auth"] = OperatorCurveKeys.Prove(id, _clientCertificate, _serverPublicKey!);
        }
        var json = request.ToJsonString();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Socket calls block for at most one time-out slice; off the caller's thread so a UI stays live.
            return await Task.Run(() => Exchange(id, cmd, json, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private OperatorReply Exchange(string id, string cmd, string json, CancellationToken cancellationToken)
    {
        var attempts = _options.Retries + 1;
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            _socket ??= Open();
            if (!_socket.TrySendFrame(_options.ReplyTimeout, json))
            {
                Drop();
                continue;
            }
            var deadline = DateTime.UtcNow + _options.ReplyTimeout;
            while (true)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    // The REQ socket is waiting for a reply that may still come: only a new socket can send again.
                    Drop();
                    cancellationToken.ThrowIfCancellationRequested();
                }
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) break;
                var slice = TimeSpan.FromMilliseconds(Math.Clamp(Math.Ceiling(left.TotalMilliseconds), 1, 50));
                if (!_socket.TryReceiveFrameString(slice, out var text)) continue;
                var reply = Interpret(id, text);
                if (reply is not null) return reply;
                // A reply to an earlier, abandoned request: the socket may send again, so resend.
                break;
            }
            Drop();
        }
        throw new OperatorEndpointUnreachableException(
            $"no reply to '{cmd}' from {_endpoint} after {attempts} attempt(s) of {_options.ReplyTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
    }

    private static OperatorReply? Interpret(string id, string text)
    {
        JsonObject? reply;
        try
        {
            reply = JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException ex)
        {
            throw new OperatorProtocolException($"the reply is not JSON: {ex.Message}");
        }
        if (reply is null) throw new OperatorProtocolException("the reply is not a JSON object");
        var replyId = reply["id"] is JsonValue idValue && idValue.TryGetValue<string>(out var s) ? s : null;
        if (replyId != id)
        {
            // The endpoint answers malformed requests with a null id; ours are well formed, so it is stale.
            return null;
        }
        if (reply["ok"] is not JsonValue okValue || !okValue.TryGetValue<bool>(out var ok))
            throw new OperatorProtocolException("the reply has no boolean \"ok\"");
        if (ok)
        {
            var message = reply["message"] is JsonValue m && m.TryGetValue<string>(out var text2) ? text2 : "";
            return new OperatorReply(true, message, null, reply);
        }
        if (reply["error"] is not JsonObject error || error["code"] is not JsonValue codeValue || !codeValue.TryGetValue<string>(out var code))
            throw new OperatorProtocolException("the error reply has no \"error\": {\"code\"}");
        var errorMessage = error["message"] is JsonValue em && em.TryGetValue<string>(out var e) ? e : "";
        return new OperatorReply(false, errorMessage, code, reply);
    }

    private RequestSocket Open()
    {
        var socket = new RequestSocket();
        socket.Options.Linger = TimeSpan.Zero;
        if (_clientCertificate is not null)
        {
            socket.Options.CurveServerKey = _serverPublicKey!;
            socket.Options.CurveCertificate = _clientCertificate;
        }
        socket.Connect(_endpoint);
        return socket;
    }

    private void Drop()
    {
        _socket?.Dispose();
        _socket = null;
    }

    /// <summary>A subscription to the endpoint's status stream with this client's keys.</summary>
    public OperatorStatusSubscriber Subscribe(string statusEndpoint) =>
        new(statusEndpoint, _options.Curve);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _gate.Wait();
        try
        {
            Drop();
        }
        finally
        {
            _gate.Release();
            _gate.Dispose();
        }
    }
}

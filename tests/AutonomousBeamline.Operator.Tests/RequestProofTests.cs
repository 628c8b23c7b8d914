using System.Text.Json.Nodes;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Core.Time;
using Moq;
using NetMQ;
using NetMQ.Sockets;

namespace AutonomousBeamline.Operator.Tests;

/// <summary>
/// Commands that cannot be forged: the CURVE proof covers the whole request and its moment, each request is applied
/// once whichever connection it comes from, and the journal names the key's holder, not what the request claims.
/// </summary>
public sealed class RequestProofTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly Mock<IExperimentOperations> _ops = new();
    private readonly List<OperatorCommand> _applied = [];
    private readonly VirtualTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly (string Public, string Secret) _server = OperatorCurveKeys.NewKeyPair();
    private readonly (string Public, string Secret) _alice = OperatorCurveKeys.NewKeyPair();
    private readonly OperatorEndpoint _endpoint;
    private readonly List<IDisposable> _sockets = [];

    public RequestProofTests()
    {
        _ops.Setup(o => o.Snapshot()).Returns(() => SampleSnapshots.Running());
        _ops.Setup(o => o.Apply(It.IsAny<OperatorCommand>())).Returns((OperatorCommand c) =>
        {
            lock (_applied) _applied.Add(c);
            return CommandOutcome.Applied("done");
        });
        _endpoint = new OperatorEndpoint(_ops.Object, new OperatorEndpointOptions
        {
            Port = 0, StatusPort = 0, Clock = _clock,
            Curve = new OperatorServerCurve(_server.Secret, [_alice.Public], new Dictionary<string, string> { [_alice.Public] = "alice" }),
        });
        _endpoint.Start();
    }

    public void Dispose()
    {
        foreach (var socket in _sockets) socket.Dispose();
        _endpoint.Dispose();
    }

    /// <summary>A request as Alice's console makes it, proven with her key.</summary>
    private JsonObject Proven(string id, string cmd, JsonObject? args = null, DateTimeOffset? at = null, string user = "alice", string runId = "run-42")
    {
        var request = new JsonObject
        {
            ["id"] = id, ["cmd"] = cmd, ["args"] = args ?? new JsonObject(), ["user"] = user, ["host"] = "ws1", ["run_id"] = runId,
            ["ts"] = OperatorRequestProof.Timestamp(at ?? _clock.GetUtcNow()), ["nonce"] = OperatorRequestProof.NewNonce(),
            ["client_key"] = _alice.Public,
        };
        request["auth"] = OperatorCurveKeys.Prove(OperatorRequestProof.Canonical(request), OperatorCurveKeys.Certificate(_alice.Secret, "alice"),
            OperatorCurveKeys.PublicKeyBytes(_server.Public, "server"));
        return request;
    }

    /// <summary>A fresh CURVE connection (anyone who knows the server's public key can open one), as its own key.</summary>
    private RequestSocket Connection()
    {
        var socket = new RequestSocket();
        _sockets.Add(socket);
        socket.Options.Linger = TimeSpan.Zero;
        socket.Options.CurveServerKey = NetMQCertificate.FromPublicKey(_server.Public).PublicKey;
        socket.Options.CurveCertificate = new NetMQCertificate();
        socket.Connect(_endpoint.Endpoint);
        return socket;
    }

    private static JsonObject Exchange(RequestSocket socket, string text)
    {
        Assert.True(socket.TrySendFrame(Patience, text));
        Assert.True(socket.TryReceiveFrameString(Patience, out var reply));
        return JsonNode.Parse(reply!)!.AsObject();
    }

    private static string? ErrorOf(JsonObject reply) => reply["ok"]!.GetValue<bool>() ? null : reply["error"]!["message"]!.GetValue<string>();

    private int Applied<T>() { lock (_applied) return _applied.OfType<T>().Count(); }

    [Fact]
    public void A_captured_halt_replayed_from_another_connection_is_never_applied_twice()
    {
        var halt = Proven("h1", "halt").ToJsonString();
        Assert.Null(ErrorOf(Exchange(Connection(), halt)));

        // The same bytes from another connection (an attacker who captured them): the remembered answer, no effect.
        var attacker = Connection();
        Assert.Null(ErrorOf(Exchange(attacker, halt)));
        Assert.Equal(1, Applied<HaltCommand>());

        // Once the endpoint has forgotten that reply, the nonce still has been seen: refused outright.
        var alice = Connection();
        for (var i = 0; i < 70; i++) Assert.Null(ErrorOf(Exchange(alice, Proven($"p{i}", "pause").ToJsonString())));
        Assert.Contains("already accepted once", ErrorOf(Exchange(attacker, halt)));
        Assert.Equal(1, Applied<HaltCommand>());
    }

    [Theory]
    [InlineData("cmd", "halt")]
    [InlineData("id", "other-id")]
    [InlineData("run_id", "another-run")]
    [InlineData("user", "attacker")]
    [InlineData("nonce", "AAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("args", """{"x_mm": 9, "y_mm": 9}""")]
    public void Changing_any_part_of_a_proven_request_breaks_its_proof(string field, string value)
    {
        var request = Proven("g1", "goto", new JsonObject { ["x_mm"] = 1.0, ["y_mm"] = 2.0 });
        request[field] = field == "args" ? JsonNode.Parse(value) : value;
        var error = ErrorOf(Exchange(Connection(), request.ToJsonString()));
        Assert.Contains("does not prove the client key for this request", error);
        lock (_applied) Assert.Empty(_applied);
    }

    [Fact]
    public void A_proven_request_outside_the_replay_window_is_refused()
    {
        var old = Proven("o1", "halt", at: _clock.GetUtcNow() - TimeSpan.FromMinutes(2));
        Assert.Contains("at most 60 s", ErrorOf(Exchange(Connection(), old.ToJsonString())));
        var future = Proven("o2", "halt", at: _clock.GetUtcNow() + TimeSpan.FromMinutes(5));
        Assert.Contains("at most 60 s", ErrorOf(Exchange(Connection(), future.ToJsonString())));
        Assert.Equal(0, Applied<HaltCommand>());

        // Captured now, replayed after the window: refused by its time even once the nonce is long forgotten.
        var halt = Proven("o3", "halt").ToJsonString();
        _clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Contains("at most 60 s", ErrorOf(Exchange(Connection(), halt)));
    }

    [Fact]
    public void The_identity_journalled_is_the_keys_configured_name_whatever_the_request_claims()
    {
        Assert.Null(ErrorOf(Exchange(Connection(), Proven("i1", "pause", user: "attacker@elsewhere").ToJsonString())));
        OperatorCommand command;
        lock (_applied) command = Assert.Single(_applied);
        Assert.Equal("alice", command.By.User);
        Assert.Equal("key " + _alice.Public[..8], command.By.Host);
    }

    [Fact]
    public void A_proven_command_for_another_run_is_refused()
    {
        var error = ErrorOf(Exchange(Connection(), Proven("r1", "halt", runId: "20261201-other-run").ToJsonString()));
        Assert.Contains("this controller runs run-42, not 20261201-other-run", error);
        Assert.Equal(0, Applied<HaltCommand>());
    }

    [Fact]
    public async Task The_console_client_proves_its_requests_and_learns_the_run_it_steers()
    {
        using var client = new OperatorClient(_endpoint.Endpoint, new OperatorIdentity("whoever", "wherever"), new OperatorClientOptions
        {
            Curve = new OperatorClientCurve(_server.Public, _alice.Secret),
        });
        var reply = await client.SendAsync(new GotoRoiCommand(1.5, 2.5) { By = client.Identity });
        Assert.True(reply.Ok, reply.Message);
        Assert.Equal("run-42", client.RunId);
        lock (_applied) Assert.Equal("alice", Assert.Single(_applied).By.User);
    }

    /// <summary>
    /// Seeded mutations of proven requests, byte by byte: whatever arrives, the endpoint answers, and no request is
    /// applied more often than Alice proved one, or under any name but hers.
    /// </summary>
    [Fact]
    public void Mutated_proven_requests_never_apply_more_than_was_proven()
    {
        var random = new Random(1212);
        var connection = Connection();
        var proven = 0;
        for (var i = 0; i < 300; i++)
        {
            var original = Proven($"f{i}", random.Next(2) == 0 ? "pause" : "budget",
                new JsonObject { ["frames"] = random.Next(1, 500) }).ToJsonString();
            var bytes = System.Text.Encoding.UTF8.GetBytes(original).ToList();
            var mutate = i % 5 != 0;
            if (mutate)
                for (var m = random.Next(1, 3); m > 0; m--)
                {
                    var at = random.Next(bytes.Count);
                    if (random.Next(2) == 0) bytes[at] = (byte)random.Next(32, 127);
                    else bytes.RemoveAt(at);
                }
            else proven++;
            var text = System.Text.Encoding.UTF8.GetString(bytes.ToArray());
            connection.SendFrame(text);
            Assert.True(connection.TryReceiveFrameString(Patience, out var reply), $"no reply to {i}");
            Assert.NotNull(JsonNode.Parse(reply!)!["ok"]);
            // Replaying the untouched ones too: they must not count twice.
            if (!mutate) Assert.NotNull(Exchange(Connection(), original)["ok"]);
        }
        lock (_applied)
        {
            Assert.InRange(_applied.Count, 1, proven * 2);
            Assert.All(_applied, c => Assert.Equal("alice", c.By.User));
            // Every applied request is one Alice made (its arguments intact), applied once.
            Assert.True(_applied.Count <= 300);
        }
    }
}

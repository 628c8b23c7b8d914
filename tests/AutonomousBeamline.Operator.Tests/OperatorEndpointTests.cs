using System.Text.Json.Nodes;
using AutonomousBeamline.Control.Operator;
using Moq;
using NetMQ;
using NetMQ.Sockets;

namespace AutonomousBeamline.Operator.Tests;

public sealed class OperatorEndpointTests : IDisposable
{
    private static readonly OperatorIdentity Ada = new("ada", "beamline-ws1");
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly Mock<IExperimentOperations> _ops = new(MockBehavior.Strict);
    private readonly List<IDisposable> _disposables = [];

    public OperatorEndpointTests()
    {
        _ops.Setup(o => o.Snapshot()).Returns(() => SampleSnapshots.Running());
    }

    public void Dispose()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--) _disposables[i].Dispose();
    }

    private T Own<T>(T disposable) where T : IDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }

    private static OperatorEndpointOptions RandomPorts(OperatorServerCurve? curve = null) => new()
    {
        Port = 0,
        StatusPort = 0,
        StatusPeriod = TimeSpan.FromMilliseconds(200),
        ChangeCheckInterval = TimeSpan.FromMilliseconds(20),
        Curve = curve,
    };

    private OperatorEndpoint StartEndpoint(OperatorServerCurve? curve = null)
    {
        var endpoint = Own(new OperatorEndpoint(_ops.Object, RandomPorts(curve)));
        endpoint.Start();
        return endpoint;
    }

    private OperatorClient Client(OperatorEndpoint endpoint, OperatorClientCurve? curve = null, int retries = 2, double timeoutS = 3) =>
        Own(new OperatorClient(endpoint.Endpoint, Ada, new OperatorClientOptions
        {
            ReplyTimeout = TimeSpan.FromSeconds(timeoutS), Retries = retries, Curve = curve,
        }));

    [Fact]
    public async Task An_accepted_command_reaches_the_controller_with_who_sent_it()
    {
        _ops.Setup(o => o.Apply(It.IsAny<OperatorCommand>())).Returns(CommandOutcome.Applied("will measure at (3, 4) next"));
        var endpoint = StartEndpoint();
        var client = Client(endpoint);

        var reply = await client.SendAsync(new GotoRoiCommand(3, 4) { By = Ada });

        Assert.True(reply.Ok);
        Assert.Equal("will measure at (3, 4) next", reply.Message);
        _ops.Verify(o => o.Apply(new GotoRoiCommand(3, 4) { By = Ada }), Times.Once);
    }

    [Fact]
    public async Task A_refused_command_comes_back_with_the_controllers_reason()
    {
        _ops.Setup(o => o.Apply(It.IsAny<SetCRateCommand>())).Returns(CommandOutcome.Refused("C-rate 5 is outside the envelope (max 2)"));
        var endpoint = StartEndpoint();
        var client = Client(endpoint);

        var reply = await client.SendAsync(new SetCRateCommand(5) { By = Ada });

        Assert.False(reply.Ok);
        Assert.Equal(OperatorErrorCodes.Refused, reply.ErrorCode);
        Assert.Equal("C-rate 5 is outside the envelope (max 2)", reply.Message);
    }

    [Fact]
    public async Task Malformed_requests_are_answered_with_what_was_wrong_and_never_reach_the_controller()
    {
        _ops.Setup(o => o.Apply(It.IsAny<PauseCommand>())).Returns(CommandOutcome.Applied("pausing"));
        var endpoint = StartEndpoint();
        using var raw = new RequestSocket();
        raw.Options.Linger = TimeSpan.Zero;
        raw.Connect(endpoint.Endpoint);

        string Exchange(string text)
        {
            Assert.True(raw.TrySendFrame(Patience, text));
            Assert.True(raw.TryReceiveFrameString(Patience, out var reply), $"no reply to {text}");
            return reply!;
        }

        var cases = new (string Request, string Code, string Says)[]
        {
            ("this is not json", OperatorErrorCodes.BadRequest, "not valid JSON"),
            ("[1, 2]", OperatorErrorCodes.BadRequest, "must be a JSON object"),
            ("""{"cmd": "pause", "user": "ada", "host": "h"}""", OperatorErrorCodes.BadRequest, "\"id\" must be a non-empty string"),
            ("""{"id": "1", "user": "ada", "host": "h"}""", OperatorErrorCodes.BadRequest, "\"cmd\" must be a string"),
            ("""{"id": "2", "cmd": "pause", "host": "h"}""", OperatorErrorCodes.BadRequest, "\"user\" must be a non-empty string"),
            ("""{"id": "3", "cmd": "pause", "user": "ada"}""", OperatorErrorCodes.BadRequest, "\"host\" must be a non-empty string"),
            ("""{"id": "4", "cmd": "pause", "user": "ada\u0007", "host": "h"}""", OperatorErrorCodes.BadRequest, "printable"),
            ("""{"id": "5", "cmd": "pause", "args": [1], "user": "ada", "host": "h", "run_id": "run-42"}""", OperatorErrorCodes.BadRequest, "\"args\" must be an object"),
            ("""{"id": "6", "cmd": "teleport", "user": "ada", "host": "h", "run_id": "run-42"}""", OperatorErrorCodes.UnknownCommand, "unknown command"),
            ("""{"id": "7", "cmd": "goto", "args": {"x_mm": "far"}, "user": "ada", "host": "h", "run_id": "run-42"}""", OperatorErrorCodes.BadRequest, "\"x_mm\" must be a finite number"),
            ("""{"id": "8", "cmd": "energy", "args": {"start_ev": 7200, "stop_ev": 7100, "step_ev": 1}, "user": "ada", "host": "h", "run_id": "run-42"}""", OperatorErrorCodes.BadRequest, "must be above START"),
            ("""{"id": "10", "cmd": "pause", "user": "ada", "host": "h"}""", OperatorErrorCodes.BadRequest, "\"run_id\" is required"),
            ("""{"id": "11", "cmd": "halt", "user": "ada", "host": "h", "run_id": "someone-elses-run"}""", OperatorErrorCodes.Refused, "this controller runs run-42, not someone-elses-run"),
            ("""{"id": "12", "cmd": "pause", "user": "ada", "user": "eve", "host": "h", "run_id": "run-42"}""", OperatorErrorCodes.BadRequest, "not valid JSON"),
            ("""{"id": "13", "cmd": "pause", "user": "ada", "host": "h", "run_id": "run-42", "priority": "high"}""", OperatorErrorCodes.BadRequest, "unknown field \"priority\""),
            ("""{"id": "14", "cmd": "pause", "user": "ad\u202Ea", "host": "h", "run_id": "run-42"}""", OperatorErrorCodes.BadRequest, "control or format character ('ad\\u202Ea')"),
            ("""{"id": "15", "cmd": "pause", "user": "ada", "host": "h\u200B", "run_id": "run-42"}""", OperatorErrorCodes.BadRequest, "control or format character"),
            ("""{"id": "16", "cmd": "goto", "args": {"x_mm": 1, "x_mm": 2, "y_mm": 3}, "user": "ada", "host": "h", "run_id": "run-42"}""", OperatorErrorCodes.BadRequest, "not valid JSON"),
        };
        foreach (var (request, code, says) in cases)
        {
            var reply = JsonNode.Parse(Exchange(request))!.AsObject();
            Assert.False(reply["ok"]!.GetValue<bool>(), request);
            Assert.Equal(code, reply["error"]!["code"]!.GetValue<string>());
            Assert.Contains(says, reply["error"]!["message"]!.GetValue<string>());
        }
        _ops.Verify(o => o.Apply(It.IsAny<OperatorCommand>()), Times.Never);

        // The endpoint still serves, on the same connection and on a fresh one.
        var ok = JsonNode.Parse(Exchange("""{"id": "9", "cmd": "pause", "user": "ada", "host": "h", "run_id": "run-42"}"""))!.AsObject();
        Assert.True(ok["ok"]!.GetValue<bool>());
        Assert.Equal("9", ok["id"]!.GetValue<string>());
        var client = Client(endpoint);
        Assert.True((await client.SendAsync(new PauseCommand { By = Ada })).Ok);
        _ops.Verify(o => o.Apply(It.IsAny<PauseCommand>()), Times.Exactly(2));
    }

    [Fact]
    public async Task A_multipart_request_is_refused_and_the_endpoint_goes_on()
    {
        var endpoint = StartEndpoint();
        using var dealer = new DealerSocket();
        dealer.Options.Linger = TimeSpan.Zero;
        dealer.Connect(endpoint.Endpoint);
        dealer.SendMoreFrameEmpty().SendMoreFrame("{}").SendFrame("{}");
        var reply = new NetMQMessage();
        Assert.True(dealer.TryReceiveMultipartMessage(Patience, ref reply));
        Assert.Contains("expected one JSON frame, got 2", reply.Last.ConvertToString());

        Assert.Equal("run-42", (await Client(endpoint).SnapshotAsync()).RunId);
    }

    [Fact]
    public async Task A_controller_that_throws_is_reported_and_the_endpoint_goes_on()
    {
        _ops.Setup(o => o.Apply(It.IsAny<VetoCommand>())).Throws(new InvalidOperationException("journal is closed"));
        _ops.Setup(o => o.Apply(It.IsAny<ResumeCommand>())).Returns(CommandOutcome.Applied("resuming"));
        var endpoint = StartEndpoint();
        var client = Client(endpoint);

        var veto = await client.SendAsync(new VetoCommand { By = Ada });
        Assert.False(veto.Ok);
        Assert.Equal(OperatorErrorCodes.Internal, veto.ErrorCode);
        Assert.Contains("journal is closed", veto.Message);

        Assert.True((await client.SendAsync(new ResumeCommand { By = Ada })).Ok);
    }

    [Fact]
    public void A_resent_request_is_answered_from_memory_not_applied_twice()
    {
        _ops.Setup(o => o.Apply(It.IsAny<SetBudgetCommand>())).Returns(CommandOutcome.Applied("budget now 300 frames"));
        var endpoint = StartEndpoint();
        var request = """{"id": "again", "cmd": "budget", "args": {"frames": 300}, "user": "ada", "host": "h", "run_id": "run-42"}""";
        var replies = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            // A fresh socket each time, as a Lazy Pirate client does after a lost reply.
            using var raw = new RequestSocket();
            raw.Options.Linger = TimeSpan.Zero;
            raw.Connect(endpoint.Endpoint);
            Assert.True(raw.TrySendFrame(Patience, request));
            Assert.True(raw.TryReceiveFrameString(Patience, out var reply));
            replies.Add(reply!);
        }
        Assert.Equal(replies[0], replies[1]);
        _ops.Verify(o => o.Apply(It.IsAny<SetBudgetCommand>()), Times.Once);
    }

    [Fact]
    public async Task A_console_that_just_attached_gets_the_snapshot_at_once()
    {
        var endpoint = StartEndpoint();
        var snapshot = await Client(endpoint).SnapshotAsync();

        Assert.Equal(
            OperatorProtocol.SerializeSnapshot(SampleSnapshots.Running()),
            OperatorProtocol.SerializeSnapshot(snapshot));
        Assert.True(double.IsNaN(snapshot.Uncertainty!.Spread[5]));
        Assert.Equal("largest spread near the phase front", snapshot.RecentDecisions[0].Reason);
    }

    [Fact]
    public void The_snapshot_travels_in_snake_case()
    {
        var json = JsonNode.Parse(OperatorProtocol.SerializeSnapshot(SampleSnapshots.Running()))!.AsObject();
        Assert.Equal(199.7, json["beam_current_ma"]!.GetValue<double>());
        Assert.Equal(3.412, json["cell"]!["voltage_v"]!.GetValue<double>());
        Assert.Equal("c_rate", json["locked_knobs"]![0]!.GetValue<string>());
        Assert.Equal(4.5, json["recent_decisions"]![0]!["values"]!["x_mm"]!.GetValue<double>());
        // What the map's spread is of, and its unit: a console shows "spread … °", not a fraction.
        Assert.Equal("peak position of NMC811", json["uncertainty"]!["quantity"]!.GetValue<string>());
        Assert.Equal("degree", json["uncertainty"]!["unit"]!.GetValue<string>());
    }

    [Fact]
    public void A_snapshot_from_a_controller_that_does_not_name_the_maps_quantity_still_reads()
    {
        var json = JsonNode.Parse(OperatorProtocol.SerializeSnapshot(SampleSnapshots.Running()))!.AsObject();
        var grid = json["uncertainty"]!.AsObject();
        grid.Remove("quantity");
        grid.Remove("unit");

        var snapshot = OperatorProtocol.DeserializeSnapshot(json.ToJsonString());

        Assert.Null(snapshot.Uncertainty!.Quantity);
        Assert.Null(snapshot.Uncertainty.Unit);
        Assert.Equal(0.5, snapshot.Uncertainty.Spread[4]);
    }

    [Fact]
    public async Task The_status_stream_publishes_the_snapshot_and_its_changes()
    {
        var state = "Measuring";
        _ops.Setup(o => o.Snapshot()).Returns(() => SampleSnapshots.Running(Volatile.Read(ref state)));
        _ops.Setup(o => o.Apply(It.IsAny<PauseCommand>())).Returns(() =>
        {
            Volatile.Write(ref state, "Paused");
            return CommandOutcome.Applied("pausing");
        });
        var endpoint = StartEndpoint();
        var client = Client(endpoint);
        var statusEndpoint = await client.StatusEndpointAsync();
        Assert.Equal(endpoint.StatusEndpoint, statusEndpoint);
        var subscriber = Own(client.Subscribe(statusEndpoint));

        await WaitFor(() => subscriber.Latest?.State == "Measuring", "the first status message");
        Assert.Equal("run-42", subscriber.Latest!.RunId);

        Assert.True((await client.SendAsync(new PauseCommand { By = Ada })).Ok);
        await WaitFor(() => subscriber.Latest?.State == "Paused", "the change to Paused");
        Assert.Equal(0, subscriber.Rejected);
    }

    [Fact]
    public async Task A_failed_snapshot_request_is_answered_with_its_id_and_the_reason()
    {
        _ops.Setup(o => o.Snapshot()).Throws(new InvalidOperationException("controller is shutting down"));
        var endpoint = StartEndpoint();
        var reply = await Client(endpoint).RequestAsync("snapshot", null);
        Assert.False(reply.Ok);
        Assert.Equal(OperatorErrorCodes.Internal, reply.ErrorCode);
        Assert.Contains("controller is shutting down", reply.Message);
    }

    [Fact]
    public async Task A_snapshot_that_cannot_be_taken_skips_a_beat_but_keeps_the_endpoint_alive()
    {
        var calls = 0;
        _ops.Setup(o => o.Snapshot()).Returns(() =>
            Interlocked.Increment(ref calls) < 3 ? throw new InvalidOperationException("busy") : SampleSnapshots.Running());
        var endpoint = StartEndpoint();
        using var subscriber = new OperatorStatusSubscriber(endpoint.StatusEndpoint);
        await WaitFor(() => subscriber.Latest is not null, "a status message after failed snapshots");
        Assert.True(Volatile.Read(ref calls) >= 3);
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("*")]
    [InlineData("192.168.1.20")]
    [InlineData("beamline-control.example.org")]
    public void Binding_beyond_loopback_without_curve_is_refused(string host)
    {
        var ex = Assert.Throws<InvalidOperationException>(() =>
            new OperatorEndpoint(_ops.Object, new OperatorEndpointOptions { Host = host, Port = 0, StatusPort = 0 }));
        Assert.Contains("CURVE", ex.Message);
        Assert.Contains(host, ex.Message);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.0.0.5", true)]
    [InlineData("localhost", true)]
    [InlineData("::1", true)]
    [InlineData("[::1]", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("*", false)]
    [InlineData("10.0.0.1", false)]
    public void Loopback_is_recognised(string host, bool loopback) =>
        Assert.Equal(loopback, OperatorEndpoint.IsLoopback(host));

    [Fact]
    public void Beyond_loopback_with_curve_keys_is_allowed_and_bad_keys_are_named()
    {
        var (_, serverSecret) = OperatorCurveKeys.NewKeyPair();
        var (clientPublic, _) = OperatorCurveKeys.NewKeyPair();
        using var endpoint = new OperatorEndpoint(_ops.Object,
            new OperatorEndpointOptions { Host = "0.0.0.0", Curve = new OperatorServerCurve(serverSecret, [clientPublic]) });
        Assert.Equal(OperatorCurveKeys.PublicKeyOf(serverSecret), endpoint.ServerPublicKey);

        var badKey = Assert.Throws<ArgumentException>(() => new OperatorEndpoint(_ops.Object,
            new OperatorEndpointOptions { Host = "0.0.0.0", Curve = new OperatorServerCurve("short", [clientPublic]) }));
        Assert.Contains("server secret key", badKey.Message);
        var noClients = Assert.Throws<ArgumentException>(() => new OperatorEndpoint(_ops.Object,
            new OperatorEndpointOptions { Host = "0.0.0.0", Curve = new OperatorServerCurve(serverSecret, []) }));
        Assert.Contains("allowed client public key", noClients.Message);
    }

    [Fact]
    public async Task With_curve_only_allowed_consoles_are_served()
    {
        _ops.Setup(o => o.Apply(It.IsAny<HaltCommand>())).Returns(CommandOutcome.Applied("halting"));
        var (serverPublic, serverSecret) = OperatorCurveKeys.NewKeyPair();
        var (allowedPublic, allowedSecret) = OperatorCurveKeys.NewKeyPair();
        var (_, strangerSecret) = OperatorCurveKeys.NewKeyPair();
        var endpoint = StartEndpoint(new OperatorServerCurve(serverSecret, [allowedPublic]));

        var allowed = Client(endpoint, new OperatorClientCurve(serverPublic, allowedSecret));
        Assert.True((await allowed.SendAsync(new HaltCommand { By = Ada })).Ok);
        var statusEndpoint = await allowed.StatusEndpointAsync();
        var subscriber = Own(allowed.Subscribe(statusEndpoint));
        await WaitFor(() => subscriber.Latest is not null, "status over CURVE");

        var stranger = Client(endpoint, new OperatorClientCurve(serverPublic, strangerSecret));
        var refused = await stranger.SendAsync(new HaltCommand { By = Ada });
        Assert.False(refused.Ok);
        Assert.Equal(OperatorErrorCodes.Unauthorized, refused.ErrorCode);
        Assert.Contains("not allowed", refused.Message);

        // A plain-text peer never completes the CURVE handshake, so it gets no answer at all.
        var plain = Client(endpoint, retries: 0, timeoutS: 0.5);
        await Assert.ThrowsAsync<OperatorEndpointUnreachableException>(() => plain.SendAsync(new HaltCommand { By = Ada }));

        _ops.Verify(o => o.Apply(It.IsAny<HaltCommand>()), Times.Once);
    }

    [Fact]
    public async Task A_forged_proof_of_an_allowed_key_is_refused()
    {
        var (serverPublic, serverSecret) = OperatorCurveKeys.NewKeyPair();
        var (allowedPublic, _) = OperatorCurveKeys.NewKeyPair();
        var (_, strangerSecret) = OperatorCurveKeys.NewKeyPair();
        var endpoint = StartEndpoint(new OperatorServerCurve(serverSecret, [allowedPublic]));
        var stranger = Client(endpoint, new OperatorClientCurve(serverPublic, strangerSecret));

        // The stranger claims the allowed public key but signs with its own secret key.
        var reply = await stranger.RequestAsync("snapshot", null);
        Assert.False(reply.Ok);
        using var raw = new RequestSocket();
        raw.Options.Linger = TimeSpan.Zero;
        raw.Options.CurveServerKey = NetMQCertificate.FromPublicKey(serverPublic).PublicKey;
        raw.Options.CurveCertificate = NetMQCertificate.CreateFromSecretKey(strangerSecret);
        raw.Connect(endpoint.Endpoint);
        var forged = new JsonObject
        {
            ["id"] = "f1", ["cmd"] = "snapshot", ["user"] = "eve", ["host"] = "x",
            ["client_key"] = allowedPublic, ["auth"] = Convert.ToBase64String(new byte[24 + 2 + 16]),
        };
        Assert.True(raw.TrySendFrame(Patience, forged.ToJsonString()));
        Assert.True(raw.TryReceiveFrameString(Patience, out var text));
        var error = JsonNode.Parse(text!)!["error"]!;
        Assert.Equal(OperatorErrorCodes.Unauthorized, error["code"]!.GetValue<string>());
        Assert.Contains("does not prove", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_client_gives_up_after_its_retries_when_nobody_answers()
    {
        using var silent = new RouterSocket();
        var port = silent.BindRandomPort("tcp://127.0.0.1");
        using var client = new OperatorClient($"tcp://127.0.0.1:{port}", Ada,
            new OperatorClientOptions { ReplyTimeout = TimeSpan.FromMilliseconds(200), Retries = 1 });
        var ex = await Assert.ThrowsAsync<OperatorEndpointUnreachableException>(() => client.SnapshotAsync());
        Assert.Contains("after 2 attempt(s)", ex.Message);
    }

    [Fact]
    public void An_endpoint_starts_once()
    {
        var endpoint = StartEndpoint();
        Assert.Throws<InvalidOperationException>(endpoint.Start);
        Assert.NotEqual(endpoint.Port, endpoint.StatusPort);
    }

    private static async Task WaitFor(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }
}

public sealed class OperatorEndpointFuzzTests
{
    private const string JsonishCharacters = "{}[]\":,-.0123456789eE \\u";

    [Fact]
    public void Random_and_mutated_requests_all_get_an_answer_and_only_sane_commands_get_through()
    {
        var reached = new System.Collections.Concurrent.ConcurrentQueue<OperatorCommand>();
        var ops = new Mock<IExperimentOperations>();
        ops.Setup(o => o.Snapshot()).Returns(() => SampleSnapshots.Running());
        ops.Setup(o => o.Apply(It.IsAny<OperatorCommand>())).Returns((OperatorCommand c) =>
        {
            reached.Enqueue(c);
            return CommandOutcome.Refused("fuzz");
        });
        using var endpoint = new OperatorEndpoint(ops.Object, new OperatorEndpointOptions { Port = 0, StatusPort = 0 });
        endpoint.Start();
        using var dealer = new DealerSocket();
        dealer.Options.Linger = TimeSpan.Zero;
        dealer.Connect(endpoint.Endpoint);

        var valid = new[]
        {
            """{"id":"a","cmd":"goto","args":{"x_mm":1.5,"y_mm":2},"user":"ada","host":"h","run_id":"run-42"}""",
            """{"id":"b","cmd":"energy","args":{"start_ev":7100,"stop_ev":7200,"step_ev":1},"user":"ada","host":"h","run_id":"run-42"}""",
            """{"id":"c","cmd":"budget","args":{"frames":10,"beam_time_s":60},"user":"ada","host":"h","run_id":"run-42"}""",
            """{"id":"d","cmd":"lock","args":{"knob":"roi"},"user":"ada","host":"h","run_id":"run-42"}""",
            """{"id":"e","cmd":"snapshot"}""",
        };
        var random = new Random(424242);
        const int requests = 400;
        for (var i = 0; i < requests; i++)
        {
            byte[] payload;
            if (i % 4 == 0)
            {
                payload = new byte[random.Next(0, 300)];
                random.NextBytes(payload);
            }
            else
            {
                var bytes = System.Text.Encoding.UTF8.GetBytes(valid[random.Next(valid.Length)]).ToList();
                for (var m = random.Next(1, 4); m > 0 && bytes.Count > 0; m--)
                {
                    var at = random.Next(bytes.Count);
                    switch (random.Next(3))
                    {
                        case 0: bytes.RemoveAt(at); break;
                        case 1: bytes.Insert(at, (byte)JsonishCharacters[random.Next(JsonishCharacters.Length)]); break;
                        default: bytes[at] = (byte)random.Next(32, 127); break;
                    }
                }
                payload = bytes.ToArray();
            }
            dealer.SendMoreFrameEmpty().SendFrame(payload);
            var reply = new NetMQMessage();
            Assert.True(dealer.TryReceiveMultipartMessage(TimeSpan.FromSeconds(10), ref reply), $"no reply to request {i}");
            var json = JsonNode.Parse(reply.Last.ConvertToString())!.AsObject();
            Assert.NotNull(json["ok"]);
        }

        // Some mutations stay valid (a changed letter in a name); they must reach the controller, or the check below is empty.
        Assert.NotEmpty(reached);
        foreach (var command in reached) CommandSanity.AssertSane(command, command.ToString());
        // Still serving after all that.
        dealer.SendMoreFrameEmpty().SendFrame(valid[0].Replace("\"a\"", "\"last\""));
        var last = new NetMQMessage();
        Assert.True(dealer.TryReceiveMultipartMessage(TimeSpan.FromSeconds(10), ref last));
        Assert.Equal("fuzz", JsonNode.Parse(last.Last.ConvertToString())!["error"]!["message"]!.GetValue<string>());
        Assert.Equal(requests + 1, endpoint.RequestsServed);
    }
}

using System.Text;
using System.Text.Json.Nodes;
using AutonomousBeamline.ZeroMq;
using NetMQ;
using NetMQ.Sockets;

namespace AutonomousBeamline.ZeroMq.Tests;

/// <summary>
/// Our DEALER client against peers shaped unlike our simulators, over real TCP, as FACILITY-ICD §2 allows: a gateway that
/// binds REP and so answers strictly one request at a time, and a server behind a ROUTER→DEALER broker (NetMQ's
/// <see cref="Proxy"/>) whose workers answer from REP or DEALER sockets, so every reply passes an extra hop.
/// </summary>
public sealed class PeerShapeTests
{
    private static readonly ZmqRequestClientOptions Fast = new() { ReplyTimeout = TimeSpan.FromSeconds(1), Retries = 2 };

    /// <summary>
    /// A slow peer answers only once the client has given up on the first attempt and resent: late by construction rather
    /// than by a guess at the machine's speed, so the resend still has a whole time-out of its own.
    /// </summary>
    private static void AnswerAfterTheResend(Func<ZmqRequestClient?> client, long resends)
    {
        if (!SpinWait.SpinUntil(() => client() is { } c && c.Resends >= resends, TimeSpan.FromSeconds(30)))
            throw new TimeoutException($"the client never resent (waited for {resends} resends)");
    }

    private static string Ok(JsonObject request, int n) => $"{{\"id\":\"{request["id"]}\",\"ok\":true,\"n\":{n}}}";

    [Fact]
    public async Task A_REP_gateway_is_served_in_strict_alternation()
    {
        using var gateway = new Peer(new ResponseSocket(), bind: true, (socket, request, n) => Reply(socket, Ok(request, n)));
        using var client = new ZmqRequestClient(gateway.Endpoint, "motion", Fast);

        for (var i = 1; i <= 5; i++)
            Assert.Equal(i, (await client.RequestAsync("status"))["n"]!.GetValue<int>());

        Assert.Equal(5, gateway.Received.Count);
        Assert.Equal(0, client.Resends);
        Assert.Equal(0, client.DiscardedReplies);
    }

    [Fact]
    public async Task A_REP_gateway_that_answers_after_the_time_out_gets_the_request_again_on_a_new_connection()
    {
        // REP cannot answer twice, but it can answer late: the first answer goes to the connection the client closed.
        ZmqRequestClient? shared = null;
        using var gateway = new Peer(new ResponseSocket(), bind: true, (socket, request, n) =>
        {
            if (n == 1) AnswerAfterTheResend(() => Volatile.Read(ref shared), 1); // a slow gateway, not the test waiting
            Reply(socket, Ok(request, n));
        });
        using var client = new ZmqRequestClient(gateway.Endpoint, "motion", Fast);
        Volatile.Write(ref shared, client);

        var reply = await client.RequestAsync("move");

        // Answered by a resend (on a loaded machine the sleeping gateway may make a second resend late too).
        var answeredBy = reply["n"]!.GetValue<int>();
        Assert.True(answeredBy >= 2, $"answered by the gateway's reply {answeredBy}, before any resend");
        Assert.Equal(answeredBy - 1, client.Resends);
        var ids = gateway.Received.Select(r => JsonNode.Parse(r)!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(answeredBy, ids.Count);
        Assert.All(ids, id => Assert.Equal(ids[0], id)); // Lazy Pirate resends with the same id, so the gateway can tell a repeat
        // The gateway is still in step: the next request is answered at once.
        Assert.Equal(answeredBy + 1, (await client.RequestAsync("status"))["n"]!.GetValue<int>());
    }

    [Fact]
    public async Task Behind_a_broker_a_REP_worker_answers_over_the_extra_hop_and_an_unanswered_request_is_resent_on_a_reopened_socket()
    {
        using var broker = new Broker();
        using var worker = new Peer(new ResponseSocket(), bind: false, (socket, request, n) =>
        {
            // The first request gets a reply meant for someone else (a worker that mixed its replies up): the client
            // discards it, hears nothing for itself within the time-out, reopens its socket and resends.
            if (n == 1) { Reply(socket, "{\"id\":\"someone-elses\",\"ok\":true}"); return; }
            Reply(socket, Ok(request, n));
        }, broker.BackendEndpoint);
        using var client = new ZmqRequestClient(broker.FrontendEndpoint, "motion", Fast);

        var first = await client.RequestAsync("status");
        var second = await client.RequestAsync("status");

        Assert.Equal(2, first["n"]!.GetValue<int>());
        Assert.Equal(3, second["n"]!.GetValue<int>());
        Assert.Equal(1, client.Resends);
        Assert.Equal(1, client.DiscardedReplies);
    }

    [Fact]
    public async Task Behind_a_broker_a_DEALER_worker_may_answer_late_twice_and_out_of_turn_and_each_reply_finds_its_request()
    {
        using var broker = new Broker();
        // A DEALER worker sees the broker's envelope (the client's identity, the empty delimiter) and must send it back.
        List<NetMQFrame>? previousEnvelope = null;
        string? previousReply = null;
        ZmqRequestClient? shared = null;
        using var worker = new Peer(new DealerSocket(), bind: false, (socket, request, n, envelope) =>
        {
            var reply = Ok(request, n);
            switch (n)
            {
                case 2:
                    // The reply to the previous request again, before this one's: a stale duplicate.
                    Send(socket, previousEnvelope!, previousReply!);
                    Send(socket, envelope, reply);
                    break;
                case 3:
                    // This one's reply twice: the second copy must not answer request 4.
                    Send(socket, envelope, reply);
                    Send(socket, envelope, reply);
                    break;
                case 4:
                    // Too late for the first attempt: the client has reopened and resent (request 5, same id) by then.
                    AnswerAfterTheResend(() => Volatile.Read(ref shared), 1);
                    Send(socket, envelope, reply);
                    break;
                default:
                    Send(socket, envelope, reply);
                    break;
            }
            (previousEnvelope, previousReply) = (envelope, reply);
        }, broker.BackendEndpoint);
        using var client = new ZmqRequestClient(broker.FrontendEndpoint, "detector", Fast);
        Volatile.Write(ref shared, client);

        var answers = new List<int>();
        for (var i = 0; i < 5; i++) answers.Add((await client.RequestAsync("status"))["n"]!.GetValue<int>());

        // Request 4's first attempt went unanswered in time; a resend (the worker's 5th, or a later one when the sleeping
        // worker made the resend late too, as on a loaded machine) answered it, and request 5 was answered in its turn.
        Assert.Equal([1, 2, 3], answers.Take(3));
        var answeredBy = answers[3];
        Assert.True(answeredBy >= 5, $"request 4 answered by the worker's reply {answeredBy}, before any resend");
        Assert.Equal(answeredBy + 1, answers[4]);
        Assert.Equal(answeredBy - 4, client.Resends);
        // The stale reply and the duplicate were discarded; the late reply went to the closed socket.
        Assert.True(client.DiscardedReplies >= 2, $"{client.DiscardedReplies} replies discarded");
        var ids = worker.Received.Select(r => JsonNode.Parse(r)!["id"]!.GetValue<string>()).ToList();
        Assert.All(ids.Skip(3).Take(answeredBy - 3), id => Assert.Equal(ids[3], id));
    }

    private static void Reply(NetMQSocket socket, string json) => socket.SendFrame(json);

    private static void Send(NetMQSocket socket, List<NetMQFrame> envelope, string json)
    {
        var message = new NetMQMessage(envelope);
        message.Append(json);
        socket.SendMultipartMessage(message);
    }

    /// <summary>A ROUTER front bound for clients and a DEALER back bound for workers, joined by NetMQ's proxy on a poller.</summary>
    private sealed class Broker : IDisposable
    {
        private readonly RouterSocket _frontend = new();
        private readonly DealerSocket _backend = new();
        private readonly NetMQPoller _poller;

        public Broker()
        {
            _frontend.Options.Linger = _backend.Options.Linger = TimeSpan.Zero;
            FrontendEndpoint = $"tcp://127.0.0.1:{_frontend.BindRandomPort("tcp://127.0.0.1")}";
            BackendEndpoint = $"tcp://127.0.0.1:{_backend.BindRandomPort("tcp://127.0.0.1")}";
            _poller = new NetMQPoller { _frontend, _backend };
            new Proxy(_frontend, _backend, null, _poller).Start();
            _poller.RunAsync();
        }

        public string FrontendEndpoint { get; }
        public string BackendEndpoint { get; }

        public void Dispose()
        {
            _poller.Stop();
            _poller.Dispose();
            _frontend.Dispose();
            _backend.Dispose();
        }
    }

    /// <summary>
    /// A peer on its own thread (NetMQ sockets are not thread-safe): it reads each request and lets the script answer it on
    /// the same socket. A REP socket hides the envelope; a DEALER worker gets it to send back.
    /// </summary>
    private sealed class Peer : IDisposable
    {
        private readonly NetMQSocket _socket;
        private readonly Action<NetMQSocket, JsonObject, int, List<NetMQFrame>> _script;
        private readonly CancellationTokenSource _stop = new();
        private readonly List<string> _received = new();
        private readonly Thread _thread;
        private readonly ManualResetEventSlim _ready = new();

        public Peer(NetMQSocket socket, bool bind, Action<NetMQSocket, JsonObject, int> script, string? connectTo = null)
            : this(socket, bind, (s, request, n, _) => script(s, request, n), connectTo)
        {
        }

        public Peer(NetMQSocket socket, bool bind, Action<NetMQSocket, JsonObject, int, List<NetMQFrame>> script, string? connectTo = null)
        {
            (_socket, _script) = (socket, script);
            _socket.Options.Linger = TimeSpan.Zero;
            if (bind) Endpoint = $"tcp://127.0.0.1:{_socket.BindRandomPort("tcp://127.0.0.1")}";
            else _socket.Connect(connectTo ?? throw new ArgumentNullException(nameof(connectTo)));
            _thread = new Thread(Run) { IsBackground = true, Name = "peer" };
            _thread.Start();
        }

        public string Endpoint { get; } = "";

        public IReadOnlyList<string> Received
        {
            get { lock (_received) return _received.ToList(); }
        }

        private void Run()
        {
            var n = 0;
            while (!_stop.IsCancellationRequested)
            {
                NetMQMessage? message = null;
                if (!_socket.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(20), ref message) || message is null) continue;
                var frames = message.ToList();
                var text = frames[^1].ConvertToString(Encoding.UTF8);
                lock (_received) _received.Add(text);
                _script(_socket, (JsonObject)JsonNode.Parse(text)!, ++n, frames[..^1]);
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _thread.Join();
            _socket.Dispose();
        }
    }
}

using System.Text;
using System.Text.Json.Nodes;
using AutonomousBeamline.Simulators.Motion;
using AutonomousBeamline.Simulators.Physics;
using Microsoft.Extensions.Time.Testing;
using NetMQ;
using NetMQ.Sockets;

namespace AutonomousBeamline.Simulators.Tests.Motion;

/// <summary>Talks to the server with raw sockets, as an independent peer would, and checks the ICD JSON exactly.</summary>
public sealed class MotionServerTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 21, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly MotionStage _stage;
    private readonly MotionServer _server;
    private readonly RequestSocket _req;

    public MotionServerTests()
    {
        _stage = new MotionStage(_time,
            [new StageAxis("sample_x", "mm", 0, 20, 2.0), new StageAxis("sample_y", "mm", -5, 5, 1.0)],
            200, [new BeamDump(Start.AddHours(1), TimeSpan.FromMinutes(5))], TimeSpan.Zero);
        _server = new MotionServer(_stage, _time);
        _server.Start();
        _req = new RequestSocket();
        _req.Options.Linger = TimeSpan.Zero;
        _req.Connect(_server.Endpoint);
    }

    private JsonObject Ask(string json)
    {
        _req.SendFrame(json);
        Assert.True(_req.TryReceiveFrameString(TimeSpan.FromSeconds(5), out var reply), "no reply");
        return JsonNode.Parse(reply!)!.AsObject();
    }

    private static void AssertError(JsonObject reply, string code, string? id)
    {
        Assert.Equal(id, reply["id"]?.GetValue<string>());
        Assert.False(reply["ok"]!.GetValue<bool>());
        Assert.Equal(code, reply["error"]!["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(reply["error"]!["message"]!.GetValue<string>()));
    }

    [Fact]
    public void Binds_a_random_loopback_port()
    {
        Assert.InRange(_server.Port, 1, 65535);
        Assert.Equal($"tcp://127.0.0.1:{_server.Port}", _server.Endpoint);
    }

    [Fact]
    public void Describe_lists_the_axes_and_the_shutter()
    {
        var reply = Ask("""{"id":"a1","cmd":"describe"}""");

        Assert.Equal("a1", reply["id"]!.GetValue<string>());
        Assert.True(reply["ok"]!.GetValue<bool>());
        Assert.True(reply["shutter"]!.GetValue<bool>());
        var axes = reply["axes"]!.AsArray();
        Assert.Equal(2, axes.Count);
        var x = axes[0]!.AsObject();
        Assert.Equal(["name", "unit", "min", "max", "speed"], x.Select(p => p.Key));
        Assert.Equal("sample_x", x["name"]!.GetValue<string>());
        Assert.Equal("mm", x["unit"]!.GetValue<string>());
        Assert.Equal(20.0, x["max"]!.GetValue<double>());
        Assert.Equal(2.0, x["speed"]!.GetValue<double>());
    }

    [Fact]
    public void Move_returns_moving_with_an_eta_and_status_follows_the_clock()
    {
        var move = Ask("""{"id":"m1","cmd":"move","targets":{"sample_x":4.0}}""");
        Assert.Equal("m1", move["id"]!.GetValue<string>());
        Assert.True(move["ok"]!.GetValue<bool>());
        Assert.Equal("moving", move["state"]!.GetValue<string>());
        Assert.Equal(2.0, move["eta_s"]!.GetValue<double>(), 9);

        _time.Advance(TimeSpan.FromSeconds(1));
        var during = Ask("""{"id":"s1","cmd":"status"}""");
        Assert.Equal("moving", during["state"]!.GetValue<string>());
        Assert.Equal(2.0, during["positions"]!["sample_x"]!.GetValue<double>(), 9);

        _time.Advance(TimeSpan.FromSeconds(1));
        var after = Ask("""{"id":"s2","cmd":"status"}""");
        Assert.Equal("idle", after["state"]!.GetValue<string>());
        Assert.Equal(4.0, after["positions"]!["sample_x"]!.GetValue<double>(), 9);
        Assert.Equal("closed", after["shutter"]!.GetValue<string>());
        Assert.Equal(200.0, after["beam_current_mA"]!.GetValue<double>());
    }

    [Fact]
    public void Status_reports_the_beam_dump()
    {
        _time.Advance(TimeSpan.FromHours(1.01));
        Assert.Equal(0.0, Ask("""{"id":"s","cmd":"status"}""")["beam_current_mA"]!.GetValue<double>());
    }

    [Fact]
    public void Shutter_opens_and_closes()
    {
        var open = Ask("""{"id":"sh","cmd":"shutter","state":"open"}""");
        Assert.Equal("open", open["shutter"]!.GetValue<string>());
        Assert.True(_stage.ShutterOpen);
        Assert.Equal("open", Ask("""{"id":"s","cmd":"status"}""")["shutter"]!.GetValue<string>());
        AssertError(Ask("""{"id":"sh2","cmd":"shutter","state":"ajar"}"""), "BAD_REQUEST", "sh2");
    }

    [Fact]
    public void Stop_halts_a_move()
    {
        Ask("""{"id":"m","cmd":"move","targets":{"sample_x":10}}""");
        _time.Advance(TimeSpan.FromSeconds(1));
        var stop = Ask("""{"id":"st","cmd":"stop"}""");
        Assert.Equal("idle", stop["state"]!.GetValue<string>());
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(2.0, Ask("""{"id":"s","cmd":"status"}""")["positions"]!["sample_x"]!.GetValue<double>(), 9);
    }

    [Theory]
    [InlineData("""{"id":"e1","cmd":"move","targets":{"sample_x":99}}""", "OUT_OF_RANGE", "e1")]
    [InlineData("""{"id":"e2","cmd":"move","targets":{"sample_z":1}}""", "UNKNOWN_AXIS", "e2")]
    [InlineData("""{"id":"e3","cmd":"move","targets":{"sample_x":"5"}}""", "BAD_REQUEST", "e3")]
    [InlineData("""{"id":"e4","cmd":"move"}""", "BAD_REQUEST", "e4")]
    [InlineData("""{"id":"e5","cmd":"dance"}""", "BAD_REQUEST", "e5")]
    [InlineData("""{"id":"e6"}""", "BAD_REQUEST", "e6")]
    [InlineData("""{"cmd":"status"}""", "BAD_REQUEST", null)]
    [InlineData("""not json""", "BAD_REQUEST", null)]
    [InlineData("""[1,2]""", "BAD_REQUEST", null)]
    [InlineData("""{"id":"a","id":"b","cmd":"status"}""", "BAD_REQUEST", null)]
    public void Bad_requests_get_the_ICD_error_codes(string request, string code, string? id)
    {
        AssertError(Ask(request), code, id);
    }

    [Fact]
    public void An_out_of_range_move_moves_nothing()
    {
        AssertError(Ask("""{"id":"e","cmd":"move","targets":{"sample_y":2,"sample_x":99}}"""), "OUT_OF_RANGE", "e");
        _time.Advance(TimeSpan.FromSeconds(10));
        var status = Ask("""{"id":"s","cmd":"status"}""");
        Assert.Equal(0.0, status["positions"]!["sample_y"]!.GetValue<double>());
    }

    [Fact]
    public void A_move_while_moving_is_busy_and_a_faulted_stage_says_fault()
    {
        Ask("""{"id":"m1","cmd":"move","targets":{"sample_x":10}}""");
        AssertError(Ask("""{"id":"m2","cmd":"move","targets":{"sample_x":1}}"""), "BUSY", "m2");

        _stage.InjectFault("limit switch");
        Assert.Equal("fault", Ask("""{"id":"s","cmd":"status"}""")["state"]!.GetValue<string>());
        AssertError(Ask("""{"id":"m3","cmd":"move","targets":{"sample_x":1}}"""), "FAULT", "m3");
    }

    [Fact]
    public void A_resent_move_with_the_same_id_is_answered_from_memory_not_refused_as_busy()
    {
        var first = Ask("""{"id":"m1","cmd":"move","targets":{"sample_x":10}}""");
        var again = Ask("""{"id":"m1","cmd":"move","targets":{"sample_x":10}}""");
        Assert.Equal(first.ToJsonString(), again.ToJsonString());
    }

    [Fact]
    public void Dropped_replies_are_dropped_and_later_ones_answered()
    {
        _server.DropNextReplies(1);
        _req.SendFrame("""{"id":"lost","cmd":"status"}""");
        Assert.False(_req.TryReceiveFrameString(TimeSpan.FromMilliseconds(300), out _));
        Assert.Equal(1, _server.DroppedReplies);

        using var fresh = new RequestSocket();
        fresh.Connect(_server.Endpoint);
        fresh.SendFrame("""{"id":"next","cmd":"status"}""");
        Assert.True(fresh.TryReceiveFrameString(TimeSpan.FromSeconds(5), out var reply));
        Assert.Equal("next", JsonNode.Parse(reply!)!["id"]!.GetValue<string>());
    }

    [Fact]
    public void A_dealer_with_an_empty_delimiter_is_served_too()
    {
        using var dealer = new DealerSocket();
        dealer.Options.Linger = TimeSpan.Zero;
        dealer.Connect(_server.Endpoint);
        var request = new NetMQMessage();
        request.AppendEmptyFrame();
        request.Append("""{"id":"d1","cmd":"status"}""", Encoding.UTF8);
        dealer.SendMultipartMessage(request);

        NetMQMessage? reply = null;
        Assert.True(dealer.TryReceiveMultipartMessage(TimeSpan.FromSeconds(5), ref reply));
        Assert.Equal(2, reply!.FrameCount);
        Assert.True(reply[0].IsEmpty);
        Assert.Equal("d1", JsonNode.Parse(reply[1].ConvertToString(Encoding.UTF8))!["id"]!.GetValue<string>());
    }

    public void Dispose()
    {
        _req.Dispose();
        _server.Dispose();
    }
}

public sealed class MotionServerSlowReplyTests
{
    [Fact]
    public void A_delayed_reply_comes_late_while_other_clients_are_still_served()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 21, 0, 0, TimeSpan.Zero));
        using var server = new MotionServer(new MotionStage(time, [new StageAxis("sample_x", "mm", 0, 1, 1)], 200), time);
        server.Start();
        using var slow = new RequestSocket(server.Endpoint);
        using var other = new RequestSocket(server.Endpoint);
        server.DelayNextReplies(1, TimeSpan.FromMilliseconds(600));

        slow.SendFrame("""{"id":"slow","cmd":"status"}""");
        Assert.False(slow.TryReceiveFrameString(TimeSpan.FromMilliseconds(150), out _));
        other.SendFrame("""{"id":"quick","cmd":"status"}""");
        Assert.True(other.TryReceiveFrameString(TimeSpan.FromSeconds(5), out var quick));
        Assert.True(slow.TryReceiveFrameString(TimeSpan.FromSeconds(5), out var late));

        Assert.Equal("quick", JsonNode.Parse(quick!)!["id"]!.GetValue<string>());
        Assert.Equal("slow", JsonNode.Parse(late!)!["id"]!.GetValue<string>());
    }
}

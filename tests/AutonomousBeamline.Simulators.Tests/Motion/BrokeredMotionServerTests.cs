using System.Text.Json.Nodes;
using AutonomousBeamline.Simulators.Motion;
using AutonomousBeamline.Simulators.Physics;
using Microsoft.Extensions.Time.Testing;
using NetMQ;
using NetMQ.Sockets;

namespace AutonomousBeamline.Simulators.Tests.Motion;

/// <summary>The motion server behind its ROUTER→DEALER broker (the foreign profile's shape), through raw sockets.</summary>
public sealed class BrokeredMotionServerTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 21, 0, 0, TimeSpan.Zero);
    private readonly MotionServer _server;

    public BrokeredMotionServerTests()
    {
        var stage = new MotionStage(new FakeTimeProvider(Start), [new StageAxis("sample_x", "mm", 0, 20, 2.0)], 200, [], TimeSpan.Zero);
        _server = new MotionServer(stage, new FakeTimeProvider(Start), new MotionServerOptions { Brokered = true });
        _server.Start();
    }

    public void Dispose() => _server.Dispose();

    [Fact]
    public void A_REQ_client_and_a_DEALER_client_are_both_answered_over_the_extra_hop()
    {
        Assert.True(_server.Brokered);
        using var req = new RequestSocket();
        req.Options.Linger = TimeSpan.Zero;
        req.Connect(_server.Endpoint);
        req.SendFrame("""{"id":"r1","cmd":"describe"}""");
        Assert.True(req.TryReceiveFrameString(TimeSpan.FromSeconds(5), out var reply), "no reply through the broker");
        Assert.Equal("r1", JsonNode.Parse(reply!)!["id"]!.GetValue<string>());

        using var dealer = new DealerSocket();
        dealer.Options.Linger = TimeSpan.Zero;
        dealer.Connect(_server.Endpoint);
        dealer.SendMoreFrameEmpty().SendFrame("""{"id":"d1","cmd":"status"}""");
        NetMQMessage? message = null;
        Assert.True(dealer.TryReceiveMultipartMessage(TimeSpan.FromSeconds(5), ref message), "no reply through the broker");
        Assert.Equal(2, message!.FrameCount); // the empty delimiter back, then the JSON
        Assert.True(message[0].IsEmpty);
        Assert.Equal("d1", JsonNode.Parse(message[1].ConvertToString())!["id"]!.GetValue<string>());
    }

    [Fact]
    public void A_delayed_reply_still_finds_its_client_behind_the_broker()
    {
        _server.DelayNextReplies(1, TimeSpan.FromMilliseconds(300));
        using var dealer = new DealerSocket();
        dealer.Options.Linger = TimeSpan.Zero;
        dealer.Connect(_server.Endpoint);
        dealer.SendMoreFrameEmpty().SendFrame("""{"id":"late","cmd":"status"}""");
        dealer.SendMoreFrameEmpty().SendFrame("""{"id":"next","cmd":"status"}""");
        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            NetMQMessage? message = null;
            Assert.True(dealer.TryReceiveMultipartMessage(TimeSpan.FromSeconds(5), ref message), "no reply through the broker");
            ids.Add(JsonNode.Parse(message!.Last.ConvertToString())!["id"]!.GetValue<string>());
        }
        // The late one overtaken by the next, as a slow gateway's would be.
        Assert.Equal(["next", "late"], ids);
    }
}

using System.Text.Json.Nodes;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Time;
using AutonomousBeamline.Instruments.Motion;
using AutonomousBeamline.Tests.Shared;
using AutonomousBeamline.ZeroMq;

namespace AutonomousBeamline.Instruments.Tests.Motion;

/// <summary>A motion server written from the ICD by someone else: extra fields, states we do not use, late duplicates.</summary>
public class ForeignMotionPeerTests
{
    private readonly VirtualTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 1, 0, 0, TimeSpan.Zero));

    private ZmqMotionClient Client(ScriptedRouterServer server) => new(server.Endpoint, _time, new ZmqMotionClientOptions
    {
        Transport = new ZmqRequestClientOptions { ReplyTimeout = TimeSpan.FromSeconds(2), Retries = 1 },
    });

    private static string Status(JsonObject request, string state, double beam, double x = 1) =>
        $$"""{"id":"{{request["id"]}}","ok":true,"state":"{{state}}","positions":{"sample_x":{{x}},"sample_y":2},"shutter":"closed","beam_current_mA":{{beam}},"server":"gw-2.1","uptime_s":12}""";

    [Fact]
    public async Task An_unknown_state_is_not_idle_and_extra_fields_are_ignored()
    {
        using var server = new ScriptedRouterServer((request, n) => request["cmd"]!.GetValue<string>() switch
        {
            "move" => [$$"""{"id":"{{request["id"]}}","ok":true,"state":"moving"}"""], // eta_s left out
            _ => [Status(request, n < 4 ? "settling" : "idle", 200, x: 3)],
        });
        await using var client = Client(server);
        using var actor = _time.JoinAsActor();

        var done = await client.MoveAsync(new Dictionary<string, double> { ["sample_x"] = 3 });

        Assert.Equal(MotionState.Idle, done.State);
        Assert.True(server.Received.Count >= 4, "the move polled until the stage said idle");
    }

    [Fact]
    public async Task A_negative_beam_current_is_a_device_error_not_a_beam_loss()
    {
        using var server = new ScriptedRouterServer((request, _) => [Status(request, "idle", -3)]);
        await using var client = Client(server);

        var e = await Assert.ThrowsAsync<DeviceException>(() => client.GetStatusAsync());
        Assert.Contains("impossible (negative) current", e.Message);
    }

    [Fact]
    public async Task A_late_duplicate_of_an_earlier_status_is_never_read_as_the_next_one()
    {
        var sent = new List<string>();
        using var server = new ScriptedRouterServer((request, n) =>
        {
            var reply = Status(request, "idle", 100 + n);
            lock (sent) sent.Add(reply);
            // From the second request on, the previous reply comes again first.
            return n == 1 ? [reply] : [sent[n - 2], reply];
        });
        await using var client = Client(server);

        for (var n = 1; n <= 4; n++) Assert.Equal(100 + n, (await client.GetStatusAsync()).BeamCurrentMa);
        Assert.Equal(3, client.Transport.DiscardedReplies);
    }
}

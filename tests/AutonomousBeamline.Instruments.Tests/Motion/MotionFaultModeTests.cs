using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Time;
using AutonomousBeamline.Instruments.Motion;
using AutonomousBeamline.ZeroMq;
using AutonomousBeamline.Simulators.Motion;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Instruments.Tests.Motion;

/// <summary>The motion client against a misbehaving motion server: slow, restarted, faulted.</summary>
public class MotionFaultModeTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 21, 0, 0, TimeSpan.Zero);

    private static MotionStage Stage(TimeProvider time) =>
        new(time, [new StageAxis("sample_x", "mm", 0, 20, 2.0)], 200, null, TimeSpan.Zero);

    [Fact]
    public async Task A_slow_reply_is_outwaited_by_a_resend()
    {
        var time = new VirtualTimeProvider(Start);
        using var server = new MotionServer(Stage(time), time);
        server.Start();
        server.DelayNextReplies(1, TimeSpan.FromSeconds(3));
        await using var client = new ZmqMotionClient(server.Endpoint, time, new ZmqMotionClientOptions
        {
            Transport = new ZmqRequestClientOptions { ReplyTimeout = TimeSpan.FromSeconds(1), Retries = 2 },
        });

        var status = await client.GetStatusAsync();

        Assert.Equal(MotionState.Idle, status.State);
        Assert.Equal(1, client.Transport.Resends);
    }

    [Fact]
    public async Task The_client_carries_on_after_the_server_restarts_on_the_same_port()
    {
        var time = new VirtualTimeProvider(Start);
        var stage = Stage(time);
        var first = new MotionServer(stage, time);
        first.Start();
        var port = first.Port;
        await using var client = new ZmqMotionClient(first.Endpoint, time, new ZmqMotionClientOptions
        {
            Transport = new ZmqRequestClientOptions { ReplyTimeout = TimeSpan.FromSeconds(1), Retries = 3 },
        });
        await client.SetShutterAsync(true);

        first.Dispose();
        using var second = await BindAgain(() => new MotionServer(stage, time, new MotionServerOptions { Port = port }));
        second.Start();
        var status = await client.GetStatusAsync();

        Assert.True(status.ShutterOpen);
        Assert.True(second.RequestsHandled >= 1);
    }

    /// <summary>A closed ZeroMQ socket releases its port asynchronously, so a restart retries the bind as a real server would.</summary>
    private static async Task<MotionServer> BindAgain(Func<MotionServer> create)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            try
            {
                return create();
            }
            catch (NetMQ.AddressAlreadyInUseException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }
    }

    [Fact]
    public async Task A_faulted_stage_refuses_moves_with_FAULT_and_reports_fault_in_status()
    {
        var time = new VirtualTimeProvider(Start);
        var stage = Stage(time);
        using var server = new MotionServer(stage, time);
        server.Start();
        await using var client = new ZmqMotionClient(server.Endpoint, time);
        stage.InjectFault("amplifier tripped");

        var ex = await Assert.ThrowsAsync<FacilityErrorException>(() =>
            client.MoveAsync(new Dictionary<string, double> { ["sample_x"] = 1 }));
        var status = await client.GetStatusAsync();

        Assert.Equal(FacilityErrorCode.Fault, ex.Code);
        Assert.Contains("amplifier tripped", ex.ServerMessage);
        Assert.Equal(MotionState.Fault, status.State);
    }
}

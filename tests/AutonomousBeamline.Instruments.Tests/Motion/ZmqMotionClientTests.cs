using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Time;
using AutonomousBeamline.Instruments.Motion;
using AutonomousBeamline.ZeroMq;
using AutonomousBeamline.Simulators.Motion;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Instruments.Tests.Motion;

/// <summary>The motion client against the project's motion server over loopback TCP, on a virtual clock.</summary>
public sealed class ZmqMotionClientTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 21, 0, 0, TimeSpan.Zero);
    private static readonly ZmqRequestClientOptions Transport = new() { ReplyTimeout = TimeSpan.FromSeconds(1), Retries = 2 };
    // No actor joins, so every sleep of the client advances virtual time at once.
    private readonly VirtualTimeProvider _time = new(Start);
    private readonly MotionStage _stage;
    private readonly MotionServer _server;

    public ZmqMotionClientTests()
    {
        _stage = new MotionStage(_time,
            [new StageAxis("sample_x", "mm", 0, 20, 2.0), new StageAxis("sample_y", "mm", -5, 5, 1.0)],
            200, null, TimeSpan.FromSeconds(0.3));
        _server = new MotionServer(_stage, _time);
        _server.Start();
    }

    private ZmqMotionClient Client(ZmqMotionClientOptions? options = null) =>
        new(_server.Endpoint, _time, (options ?? new ZmqMotionClientOptions()) with { Transport = Transport });

    [Fact]
    public async Task Describe_reads_the_axes()
    {
        await using var client = Client();

        var description = await client.DescribeAsync();

        Assert.True(description.HasShutter);
        Assert.Equal(new AxisDescription("sample_x", "mm", 0, 20, 2.0), description.Axes[0]);
        Assert.Equal("sample_y", description.Axes[1].Name);
    }

    [Fact]
    public async Task Move_waits_on_the_clock_until_idle_and_on_target()
    {
        await using var client = Client();

        var status = await client.MoveAsync(new Dictionary<string, double> { ["sample_x"] = 12.5, ["sample_y"] = 3 });

        Assert.Equal(MotionState.Idle, status.State);
        Assert.Equal(12.5, status.Positions["sample_x"], 9);
        Assert.Equal(3.0, status.Positions["sample_y"], 9);
        // 12.5 mm at 2 mm/s plus 0.3 s settle: the move took virtual, not real, time.
        Assert.True(_time.GetUtcNow() - Start >= TimeSpan.FromSeconds(6.55));
    }

    [Fact]
    public async Task A_target_beyond_the_soft_limits_is_refused_before_anything_is_sent()
    {
        await using var client = Client(new ZmqMotionClientOptions
        {
            SoftLimits = new Dictionary<string, AxisSoftLimit> { ["sample_x"] = new(2, 8) },
        });

        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            client.MoveAsync(new Dictionary<string, double> { ["sample_x"] = 9 }));

        Assert.Contains("sample_x", ex.Message);
        Assert.Equal(0, _server.RequestsHandled);
    }

    [Theory]
    [InlineData("sample_x", 50.0, FacilityErrorCode.OutOfRange)]
    [InlineData("sample_w", 1.0, FacilityErrorCode.UnknownAxis)]
    public async Task A_refused_move_throws_the_ICD_code(string axis, double target, FacilityErrorCode code)
    {
        await using var client = Client();

        var ex = await Assert.ThrowsAsync<FacilityErrorException>(() =>
            client.MoveAsync(new Dictionary<string, double> { [axis] = target }));

        Assert.Equal(code, ex.Code);
    }

    [Fact]
    public async Task A_move_during_a_move_is_busy()
    {
        await using var client = Client();
        _stage.StartMove(new Dictionary<string, double> { ["sample_x"] = 20 });

        var ex = await Assert.ThrowsAsync<FacilityErrorException>(() =>
            client.MoveAsync(new Dictionary<string, double> { ["sample_y"] = 1 }));

        Assert.Equal(FacilityErrorCode.Busy, ex.Code);
    }

    [Fact]
    public async Task A_stage_fault_during_the_move_throws()
    {
        // The stage reads "moving" at the first poll and "fault" at the second.
        var polls = 0;
        using var server = new ScriptedRouterServer((request, _) =>
        [
            request["cmd"]!.GetValue<string>() == "move"
                ? $$"""{"id":"{{request["id"]}}","ok":true,"state":"moving","eta_s":1.0}"""
                : $$"""{"id":"{{request["id"]}}","ok":true,"state":"{{(++polls == 1 ? "moving" : "fault")}}","positions":{"sample_x":2},"shutter":"open","beam_current_mA":200}""",
        ]);
        await using var client = new ZmqMotionClient(server.Endpoint, _time, new ZmqMotionClientOptions { Transport = Transport });

        var ex = await Assert.ThrowsAsync<DeviceException>(() =>
            client.MoveAsync(new Dictionary<string, double> { ["sample_x"] = 10 }));

        Assert.Contains("fault", ex.Message);
        Assert.Equal(2, polls);
    }

    [Fact]
    public async Task A_lost_move_reply_is_retried_and_the_move_still_completes_once()
    {
        await using var client = Client();
        _server.DropNextReplies(1);

        var status = await client.MoveAsync(new Dictionary<string, double> { ["sample_x"] = 4 });

        Assert.Equal(4.0, status.Positions["sample_x"], 9);
        Assert.Equal(1, client.Transport.Resends);
        Assert.Equal(1, _server.DroppedReplies);
    }

    [Fact]
    public async Task Shutter_and_status_round_trip()
    {
        await using var client = Client();

        await client.SetShutterAsync(true);
        var open = await client.GetStatusAsync();
        await client.SetShutterAsync(false);
        var closed = await client.GetStatusAsync();

        Assert.True(open.ShutterOpen);
        Assert.False(closed.ShutterOpen);
        Assert.Equal(200, open.BeamCurrentMa);
        Assert.Equal(MotionState.Idle, open.State);
    }

    [Fact]
    public async Task Stop_halts_the_stage()
    {
        await using var client = Client();
        _stage.StartMove(new Dictionary<string, double> { ["sample_x"] = 20 });

        await client.StopAsync();

        Assert.Equal(MotionState.Idle, (await client.GetStatusAsync()).State);
    }

    [Fact]
    public async Task A_move_that_never_completes_times_out_on_the_clock()
    {
        using var server = new ScriptedRouterServer((request, _) =>
        [
            request["cmd"]!.GetValue<string>() == "move"
                ? $$"""{"id":"{{request["id"]}}","ok":true,"state":"moving","eta_s":1.0}"""
                : $$"""{"id":"{{request["id"]}}","ok":true,"state":"moving","positions":{"sample_x":0.5},"shutter":"closed","beam_current_mA":200}""",
        ]);
        await using var client = new ZmqMotionClient(server.Endpoint, _time, new ZmqMotionClientOptions
        {
            Transport = Transport,
            PollInterval = TimeSpan.FromSeconds(1),
            MoveTimeoutFactor = 1,
            MoveTimeoutMargin = TimeSpan.FromSeconds(5),
        });

        var ex = await Assert.ThrowsAsync<DeviceTimeoutException>(() =>
            client.MoveAsync(new Dictionary<string, double> { ["sample_x"] = 4 }));

        Assert.Contains("sample_x", ex.Message);
        Assert.InRange(_time.GetUtcNow() - Start, TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(8));
    }

    [Fact]
    public async Task A_stage_idle_off_target_is_an_error_naming_the_axis()
    {
        using var server = new ScriptedRouterServer((request, _) =>
        [
            request["cmd"]!.GetValue<string>() == "move"
                ? $$"""{"id":"{{request["id"]}}","ok":true,"state":"moving","eta_s":0.5}"""
                : $$"""{"id":"{{request["id"]}}","ok":true,"state":"idle","positions":{"sample_x":3.9},"shutter":"closed","beam_current_mA":200}""",
        ]);
        await using var client = new ZmqMotionClient(server.Endpoint, _time, new ZmqMotionClientOptions { Transport = Transport });

        var ex = await Assert.ThrowsAsync<DeviceException>(() =>
            client.MoveAsync(new Dictionary<string, double> { ["sample_x"] = 4 }));

        Assert.Contains("'sample_x' reads 3.9", ex.Message);
    }

    [Fact]
    public async Task A_per_axis_tolerance_accepts_a_near_miss()
    {
        using var server = new ScriptedRouterServer((request, _) =>
        [
            request["cmd"]!.GetValue<string>() == "move"
                ? $$"""{"id":"{{request["id"]}}","ok":true,"state":"moving","eta_s":0.5}"""
                : $$"""{"id":"{{request["id"]}}","ok":true,"state":"idle","positions":{"sample_x":3.95},"shutter":"open","beam_current_mA":199.5}""",
        ]);
        await using var client = new ZmqMotionClient(server.Endpoint, _time, new ZmqMotionClientOptions
        {
            Transport = Transport,
            Tolerances = new Dictionary<string, double> { ["sample_x"] = 0.1 },
        });

        var status = await client.MoveAsync(new Dictionary<string, double> { ["sample_x"] = 4 });

        Assert.Equal(3.95, status.Positions["sample_x"]);
        Assert.True(status.ShutterOpen);
    }

    [Fact]
    public async Task A_malformed_status_names_the_field()
    {
        using var server = new ScriptedRouterServer((request, _) =>
            [$$"""{"id":"{{request["id"]}}","ok":true,"state":"idle","positions":{"sample_x":1},"shutter":"open"}"""]);
        await using var client = new ZmqMotionClient(server.Endpoint, _time, new ZmqMotionClientOptions { Transport = Transport });

        var ex = await Assert.ThrowsAsync<DeviceException>(() => client.GetStatusAsync());

        Assert.Contains("beam_current_mA", ex.Message);
    }

    [Theory]
    [InlineData("", null, null)]
    [InlineData(",\"interlock\":{\"ok\":true,\"reason\":\"\"}", true, "")]
    [InlineData(",\"interlock\":{\"ok\":false,\"reason\":\"hutch door open\"}", false, "hutch door open")]
    [InlineData(",\"interlock\":false", false, "interlock not ok")]
    [InlineData(",\"interlock\":{\"ok\":false}", false, "interlock not ok")]
    public async Task The_interlock_extension_is_read_when_the_server_reports_one(string field, bool? ok, string? reason)
    {
        using var server = new ScriptedRouterServer((request, _) =>
            [$$"""{"id":"{{request["id"]}}","ok":true,"state":"idle","positions":{"sample_x":1},"shutter":"closed","beam_current_mA":200{{field}}}"""]);
        await using var client = new ZmqMotionClient(server.Endpoint, _time, new ZmqMotionClientOptions { Transport = Transport });

        var status = await client.GetStatusAsync();

        Assert.Equal(ok, status.Interlock?.Ok);
        Assert.Equal(reason, status.Interlock?.Reason);
    }

    [Fact]
    public async Task An_interlock_that_cannot_be_read_is_not_taken_for_one_that_is_ok()
    {
        using var server = new ScriptedRouterServer((request, _) =>
            [$$"""{"id":"{{request["id"]}}","ok":true,"state":"idle","positions":{"sample_x":1},"shutter":"closed","beam_current_mA":200,"interlock":"green"}"""]);
        await using var client = new ZmqMotionClient(server.Endpoint, _time, new ZmqMotionClientOptions { Transport = Transport });

        var ex = await Assert.ThrowsAsync<DeviceException>(() => client.GetStatusAsync());
        Assert.Contains("\"interlock\"", ex.Message);
    }

    public ValueTask DisposeAsync()
    {
        _server.Dispose();
        return ValueTask.CompletedTask;
    }
}

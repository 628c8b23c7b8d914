using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using AutonomousBeamline.Simulators.Detector;
using AutonomousBeamline.Simulators.Physics;
using Microsoft.Extensions.Time.Testing;
using NetMQ;
using NetMQ.Sockets;

namespace AutonomousBeamline.Simulators.Tests.Detector;

/// <summary>The detector server through raw sockets, as an independent client would see it.</summary>
public sealed class DetectorServerTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 21, 3, 5, 123, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly MotionStage _stage;
    private readonly SampleTruth _truth;
    private readonly RecordingXrdRenderer _xrd = new();
    private readonly RecordingXasRenderer _xas = new();
    private readonly DetectorServer _server;
    private readonly RequestSocket _req;
    private readonly PullSocket _pull;

    public DetectorServerTests()
    {
        _stage = new MotionStage(_time,
            [new StageAxis("sample_x", "mm", 0, 20, 5, 12.5), new StageAxis("sample_y", "mm", -5, 5, 5, 3.0)],
            200, [new BeamDump(Start.AddHours(1), TimeSpan.FromMinutes(10))]);
        _truth = new SampleTruth(new FixedCell(0.5, 1.0), new ElectrodeField(7, 0, 20, -5, 5));
        _server = new DetectorServer(_stage, _truth, _xrd, _xas, _time);
        _server.Start();
        _req = new RequestSocket();
        _req.Options.Linger = TimeSpan.Zero;
        _req.Connect(_server.Endpoint);
        _pull = new PullSocket();
        _pull.Options.Linger = TimeSpan.Zero;
        _pull.Connect(_server.DataEndpoint);
    }

    private JsonObject Ask(string json)
    {
        _req.SendFrame(json);
        Assert.True(_req.TryReceiveFrameString(TimeSpan.FromSeconds(5), out var reply), "no reply");
        return JsonNode.Parse(reply!)!.AsObject();
    }

    private (JsonObject Header, List<byte[]> Parts) NextFrame()
    {
        NetMQMessage? message = null;
        Assert.True(_pull.TryReceiveMultipartMessage(TimeSpan.FromSeconds(5), ref message), "no frame");
        var parts = message!.Select(f => f.ToByteArray()).ToList();
        return (JsonNode.Parse(Encoding.UTF8.GetString(parts[0]))!.AsObject(), parts);
    }

    private static float[] Floats(byte[] bytes) =>
        Enumerable.Range(0, bytes.Length / 4).Select(i => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4))).ToArray();

    [Fact]
    public void Control_and_data_ports_are_distinct_random_loopback_ports()
    {
        Assert.NotEqual(_server.Port, _server.DataPort);
        Assert.StartsWith("tcp://127.0.0.1:", _server.DataEndpoint);
    }

    [Fact]
    public void Describe_gives_the_kinds_and_the_xrd_axis()
    {
        var reply = Ask("""{"id":"d1","cmd":"describe"}""");

        Assert.Equal("d1", reply["id"]!.GetValue<string>());
        Assert.True(reply["ok"]!.GetValue<bool>());
        Assert.Equal(["xrd", "xas"], reply["kinds"]!.AsArray().Select(k => k!.GetValue<string>()));
        var xrd = reply["xrd"]!.AsObject();
        Assert.Equal(64, xrd["n"]!.GetValue<int>());
        Assert.Equal("two_theta", xrd["x_name"]!.GetValue<string>());
        Assert.Equal("deg", xrd["x_unit"]!.GetValue<string>());
        Assert.Equal(5.0, xrd["x_start"]!.GetValue<double>());
        Assert.Equal(0.5, xrd["x_step"]!.GetValue<double>());
    }

    [Fact]
    public void An_xrd_frame_has_the_ICD_header_and_a_little_endian_payload()
    {
        _stage.SetShutter(true);
        var reply = Ask("""{"id":"c-42","cmd":"acquire","kind":"xrd","exposure_s":1.0}""");
        Assert.Equal("c-42", reply["id"]!.GetValue<string>());
        Assert.True(reply["ok"]!.GetValue<bool>());
        Assert.Equal(1, reply["frame"]!.GetValue<long>());

        var (header, parts) = NextFrame();

        Assert.Equal(2, parts.Count);
        Assert.Equal(
            ["htype", "frame", "request_id", "kind", "n", "dtype", "x", "x_name", "x_unit", "x_start", "x_step",
             "exposure_s", "t_start", "positions", "beam_current_mA"],
            header.Select(p => p.Key));
        Assert.Equal("pattern-1.0", header["htype"]!.GetValue<string>());
        Assert.Equal(1, header["frame"]!.GetValue<long>());
        Assert.Equal("c-42", header["request_id"]!.GetValue<string>());
        Assert.Equal("xrd", header["kind"]!.GetValue<string>());
        Assert.Equal(64, header["n"]!.GetValue<int>());
        Assert.Equal("<f4", header["dtype"]!.GetValue<string>());
        Assert.Equal("uniform", header["x"]!.GetValue<string>());
        Assert.Equal(1.0, header["exposure_s"]!.GetValue<double>());
        Assert.Equal("2026-11-24T21:03:05.123Z", header["t_start"]!.GetValue<string>());
        Assert.Equal(12.5, header["positions"]!["sample_x"]!.GetValue<double>());
        Assert.Equal(3.0, header["positions"]!["sample_y"]!.GetValue<double>());
        Assert.Equal(200.0, header["beam_current_mA"]!.GetValue<double>());

        var expectedFraction = _truth.FePO4FractionOverFootprint(12.5, 3.0, Start, 0.05);
        var call = Assert.Single(_xrd.Calls);
        Assert.Equal(expectedFraction, call.Fraction, 12);
        Assert.Equal(1.0, call.SignalScale);
        Assert.Equal(64 * 4, parts[1].Length);
        Assert.Equal(_xrd.Render(expectedFraction, 1.0, 1.0, new Random(0)), Floats(parts[1]));
    }

    [Fact]
    public void Frames_with_the_shutter_closed_or_during_a_beam_dump_carry_no_signal()
    {
        Ask("""{"id":"a","cmd":"acquire","kind":"xrd","exposure_s":1}""");
        _stage.SetShutter(true);
        _time.Advance(TimeSpan.FromHours(1.05));
        Ask("""{"id":"b","cmd":"acquire","kind":"xrd","exposure_s":1}""");
        _time.Advance(TimeSpan.FromHours(1));
        Ask("""{"id":"c","cmd":"acquire","kind":"xrd","exposure_s":1}""");

        Assert.Equal([0.0, 0.0, 1.0], _xrd.Calls.Select(c => c.SignalScale));
        Assert.Equal(200.0, NextFrame().Header["beam_current_mA"]!.GetValue<double>());
        Assert.Equal(0.0, NextFrame().Header["beam_current_mA"]!.GetValue<double>());
        Assert.Equal(3, NextFrame().Header["frame"]!.GetValue<long>());
    }

    [Fact]
    public void An_xas_scan_on_an_explicit_energy_list_sends_the_x_values()
    {
        var reply = Ask("""{"id":"x1","cmd":"acquire","kind":"xas","energies_eV":[7100,7110.5,7125],"dwell_s":0.5}""");
        Assert.True(reply["ok"]!.GetValue<bool>());

        var (header, parts) = NextFrame();

        Assert.Equal(3, parts.Count);
        Assert.Equal("xas", header["kind"]!.GetValue<string>());
        Assert.Equal("explicit", header["x"]!.GetValue<string>());
        Assert.Equal("energy", header["x_name"]!.GetValue<string>());
        Assert.Equal("eV", header["x_unit"]!.GetValue<string>());
        Assert.Equal(3, header["n"]!.GetValue<int>());
        Assert.Equal(1.5, header["exposure_s"]!.GetValue<double>());
        Assert.Equal([7100f, 7110.5f, 7125f], Floats(parts[2]));
        Assert.Equal(3, Floats(parts[1]).Length);
        Assert.Equal([7100, 7110.5, 7125], Assert.Single(_xas.Calls).Energies);
    }

    [Fact]
    public void An_xas_scan_over_a_range_is_uniform()
    {
        Ask("""{"id":"x2","cmd":"acquire","kind":"xas","range":{"start":7100,"stop":7120,"step":2.5},"dwell_s":0.1}""");

        var (header, parts) = NextFrame();

        Assert.Equal(2, parts.Count);
        Assert.Equal("uniform", header["x"]!.GetValue<string>());
        Assert.Equal(9, header["n"]!.GetValue<int>());
        Assert.Equal(7100.0, header["x_start"]!.GetValue<double>());
        Assert.Equal(2.5, header["x_step"]!.GetValue<double>());
        Assert.Equal(9 * 4, parts[1].Length);
    }

    [Theory]
    [InlineData("""{"id":"e1","cmd":"acquire","kind":"xrd"}""", "BAD_REQUEST")]
    [InlineData("""{"id":"e2","cmd":"acquire","kind":"xrd","exposure_s":-1}""", "BAD_REQUEST")]
    [InlineData("""{"id":"e3","cmd":"acquire","kind":"saxs","exposure_s":1}""", "BAD_REQUEST")]
    [InlineData("""{"id":"e4","cmd":"acquire","kind":"xas","dwell_s":1}""", "BAD_REQUEST")]
    [InlineData("""{"id":"e5","cmd":"acquire","kind":"xas","dwell_s":1,"energies_eV":[1],"range":{"start":1,"stop":2,"step":1}}""", "BAD_REQUEST")]
    [InlineData("""{"id":"e6","cmd":"acquire","kind":"xas","dwell_s":1,"energies_eV":[7100,"x"]}""", "BAD_REQUEST")]
    [InlineData("""{"id":"e7","cmd":"acquire","kind":"xas","dwell_s":1,"range":{"start":7200,"stop":7100,"step":1}}""", "BAD_REQUEST")]
    [InlineData("""{"id":"e8","cmd":"acquire","kind":"xrd","exposure_s":1e6}""", "OUT_OF_RANGE")]
    [InlineData("""{"id":"e10","cmd":"acquire","kind":"xas","dwell_s":1,"range":{"start":7100,"stop":7200,"step":1e-300}}""", "OUT_OF_RANGE")]
    [InlineData("""{"id":"e9","cmd":"snap"}""", "BAD_REQUEST")]
    public void Bad_acquisitions_are_refused_with_the_ICD_codes_and_push_nothing(string request, string code)
    {
        var reply = Ask(request);

        Assert.False(reply["ok"]!.GetValue<bool>());
        Assert.Equal(code, reply["error"]!["code"]!.GetValue<string>());
        Assert.Equal(JsonNode.Parse(request)!["id"]!.GetValue<string>(), reply["id"]!.GetValue<string>());
        Assert.Equal(0, _server.FramesSent);
    }

    [Fact]
    public void A_resent_acquire_gets_the_same_frame_number_and_no_second_frame()
    {
        var first = Ask("""{"id":"r1","cmd":"acquire","kind":"xrd","exposure_s":1}""");
        var again = Ask("""{"id":"r1","cmd":"acquire","kind":"xrd","exposure_s":1}""");
        var next = Ask("""{"id":"r2","cmd":"acquire","kind":"xrd","exposure_s":1}""");

        Assert.Equal(first.ToJsonString(), again.ToJsonString());
        Assert.Equal(2, next["frame"]!.GetValue<long>());
        Assert.Equal(2, _server.FramesSent);
    }

    [Fact]
    public void A_dropped_frame_is_acknowledged_but_never_pushed()
    {
        _server.DropNextFrames(1);
        Ask("""{"id":"lost","cmd":"acquire","kind":"xrd","exposure_s":1}""");
        Ask("""{"id":"kept","cmd":"acquire","kind":"xrd","exposure_s":1}""");

        Assert.Equal("kept", NextFrame().Header["request_id"]!.GetValue<string>());
        Assert.Equal(1, _server.FramesDropped);
    }

    public void Dispose()
    {
        _req.Dispose();
        _pull.Dispose();
        _server.Dispose();
    }
}

public class DetectorServerLifetimeTests
{
    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 11, 24, 21, 0, 0, TimeSpan.Zero));

    private static MotionStage Stage() => new(Time, [new StageAxis("sample_x", "mm", 0, 1, 1), new StageAxis("sample_y", "mm", 0, 1, 1)], 200);

    private static SampleTruth Truth() => new(new FixedCell(0.5), new ElectrodeField(1, 0, 1, 0, 1));

    [Fact]
    public void A_server_never_started_disposes_cleanly()
    {
        var server = new DetectorServer(Stage(), Truth(), new RecordingXrdRenderer(), new RecordingXasRenderer(), Time);
        server.Dispose();
        server.Dispose();
    }

    [Fact]
    public void A_taken_data_port_fails_the_constructor()
    {
        using var occupant = new PushSocket();
        var taken = occupant.BindRandomPort("tcp://127.0.0.1");

        Assert.Throws<AddressAlreadyInUseException>(() =>
            new DetectorServer(Stage(), Truth(), new RecordingXrdRenderer(), new RecordingXasRenderer(), Time,
                new DetectorServerOptions { DataPort = taken }));
    }

    [Fact]
    public void Without_a_nominal_current_a_plain_beamline_view_is_refused()
    {
        var view = new Moq.Mock<IBeamlineView>();
        Assert.Throws<ArgumentException>(() =>
            new DetectorServer(view.Object, Truth(), new RecordingXrdRenderer(), new RecordingXasRenderer(), Time));
    }
}

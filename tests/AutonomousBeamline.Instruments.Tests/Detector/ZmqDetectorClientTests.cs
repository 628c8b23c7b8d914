using AutonomousBeamline.Core.Domain;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Time;
using AutonomousBeamline.Instruments.Detector;
using AutonomousBeamline.ZeroMq;
using AutonomousBeamline.Simulators.Detector;
using AutonomousBeamline.Simulators.Physics;
using NetMQ;
using NetMQ.Sockets;

namespace AutonomousBeamline.Instruments.Tests.Detector;

/// <summary>The detector client against the project's detector server over loopback TCP, on a virtual clock.</summary>
public sealed class ZmqDetectorClientTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 21, 0, 0, TimeSpan.Zero);
    private static readonly ZmqRequestClientOptions Transport = new() { ReplyTimeout = TimeSpan.FromSeconds(1), Retries = 2 };
    private readonly VirtualTimeProvider _time = new(Start);
    private readonly MotionStage _stage;
    private readonly RecordingXrdRenderer _xrd = new();
    private readonly RecordingXasRenderer _xas = new();
    private readonly DetectorServer _server;

    public ZmqDetectorClientTests()
    {
        _stage = new MotionStage(_time,
            [new StageAxis("sample_x", "mm", 0, 20, 5, 10), new StageAxis("sample_y", "mm", -5, 5, 5, 1)], 200);
        _stage.SetShutter(true);
        var truth = new SampleTruth(new FixedCell(0.4), new ElectrodeField(3, 0, 20, -5, 5));
        _server = new DetectorServer(_stage, truth, _xrd, _xas, _time);
        _server.Start();
    }

    private ZmqDetectorClient Client(int reacquisitions = 1, double frameTimeoutS = 2) =>
        new(_server.Endpoint, _server.DataEndpoint, _time, new ZmqDetectorClientOptions
        {
            Transport = Transport,
            Reacquisitions = reacquisitions,
            FrameTimeout = TimeSpan.FromSeconds(frameTimeoutS),
        });

    [Fact]
    public async Task Describe_reads_the_kinds_and_the_xrd_axis()
    {
        await using var client = Client();

        var description = await client.DescribeAsync();

        Assert.Equal(["xrd", "xas"], description.Kinds);
        Assert.Equal(_xrd.Axis, description.Xrd);
    }

    [Fact]
    public async Task An_xrd_acquisition_waits_the_exposure_on_the_clock_and_returns_the_frame()
    {
        await using var client = Client();

        var frame = await client.AcquireXrdAsync(2.5);

        Assert.Equal(FrameKind.Xrd, frame.Header.Kind);
        Assert.Equal(64, frame.Intensities.Length);
        Assert.Equal(Start, frame.Header.TStart);
        Assert.Equal(10.0, frame.Header.Positions["sample_x"]);
        Assert.Equal(2.5, frame.Header.ExposureS);
        Assert.True(_time.GetUtcNow() - Start >= TimeSpan.FromSeconds(2.5));
        var call = Assert.Single(_xrd.Calls);
        Assert.Equal((float)(1000 * call.Fraction), frame.Intensities[0], 3);
        Assert.Equal(1, client.AcceptedFrames);
        Assert.Equal(0, client.RejectedFrames);
    }

    [Fact]
    public async Task Xas_scans_by_list_and_by_range()
    {
        await using var client = Client();

        var listed = await client.AcquireXasAsync(new XasScanRequest([7100, 7112, 7150], null, 0.2));
        var ranged = await client.AcquireXasAsync(new XasScanRequest(null, new EnergyRange(7100, 7110, 1), 0.1));

        Assert.Equal("explicit", listed.Header.XMode);
        Assert.Equal([7100f, 7112f, 7150f], listed.X!);
        Assert.Equal("uniform", ranged.Header.XMode);
        Assert.Equal(11, ranged.Intensities.Length);
        Assert.Equal(7105, ranged.XAt(5), 9);
        Assert.True(_time.GetUtcNow() - Start >= TimeSpan.FromSeconds(0.6 + 1.1));
    }

    [Fact]
    public async Task Bad_scan_requests_are_refused_before_sending()
    {
        await using var client = Client();

        await Assert.ThrowsAsync<ArgumentException>(() => client.AcquireXasAsync(new XasScanRequest([7100], new EnergyRange(1, 2, 1), 1)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.AcquireXrdAsync(0));
        await Assert.ThrowsAsync<ArgumentException>(() => client.AcquireXasAsync(new XasScanRequest(null, new EnergyRange(7100, 7200, 1e-300), 1)));
        Assert.Equal(0, _server.RequestsHandled);
    }

    [Fact]
    public async Task A_refusal_by_the_server_is_a_facility_error()
    {
        await using var client = Client();

        var ex = await Assert.ThrowsAsync<FacilityErrorException>(() => client.AcquireXrdAsync(1e9));

        Assert.Equal(FacilityErrorCode.OutOfRange, ex.Code);
    }

    [Fact]
    public async Task A_lost_frame_is_reacquired()
    {
        await using var client = Client(reacquisitions: 1, frameTimeoutS: 1);
        _server.DropNextFrames(1);

        var frame = await client.AcquireXrdAsync(1);

        Assert.Equal(2, frame.Header.Frame);
        Assert.Equal(1, client.Reacquisitions);
    }

    [Fact]
    public async Task A_frame_that_never_comes_is_a_device_timeout()
    {
        await using var client = Client(reacquisitions: 0, frameTimeoutS: 0.3);
        _server.DropNextFrames(1);

        var ex = await Assert.ThrowsAsync<DeviceTimeoutException>(() => client.AcquireXrdAsync(1));

        Assert.Contains("no xrd frame", ex.Message);
    }

    [Fact]
    public async Task A_lost_acquire_reply_is_resent_without_a_second_frame()
    {
        await using var client = Client();
        _server.DropNextReplies(1);

        var frame = await client.AcquireXrdAsync(1);

        Assert.Equal(1, frame.Header.Frame);
        Assert.Equal(1, _server.FramesSent);
        Assert.Equal(0, client.RejectedFrames);
    }

    public void Dispose() => _server.Dispose();
}

/// <summary>The client against a hand-made peer that pushes whatever frames the test wants.</summary>
public sealed class ZmqDetectorClientValidationTests : IDisposable
{
    private readonly VirtualTimeProvider _time = new(new DateTimeOffset(2026, 11, 24, 21, 0, 0, TimeSpan.Zero));
    private readonly BlockingCollection<(string Id, long Frame)> _acquisitions = new();
    private readonly ScriptedRouterServer _control;
    private readonly PushSocket _push;
    private readonly string _dataEndpoint;
    private long _frames;

    public ZmqDetectorClientValidationTests()
    {
        _control = new ScriptedRouterServer((request, _) =>
        {
            var id = request["id"]!.GetValue<string>();
            var frame = Interlocked.Increment(ref _frames);
            _acquisitions.Add((id, frame));
            return [$$"""{"id":"{{id}}","ok":true,"frame":{{frame}}}"""];
        });
        // Only the test thread touches the push socket.
        _push = new PushSocket();
        _push.Options.Linger = TimeSpan.Zero;
        _dataEndpoint = $"tcp://127.0.0.1:{_push.BindRandomPort("tcp://127.0.0.1")}";
    }

    private ZmqDetectorClient Client(int reacquisitions, int maxFramePoints = 262_144) =>
        new(_control.Endpoint, _dataEndpoint, _time, new ZmqDetectorClientOptions
        {
            Transport = new ZmqRequestClientOptions { ReplyTimeout = TimeSpan.FromSeconds(2), Retries = 1 },
            Reacquisitions = reacquisitions,
            FrameTimeout = TimeSpan.FromSeconds(3),
            MaxFramePoints = maxFramePoints,
        });

    private void Push(JsonObject header, params byte[][] payloads)
    {
        var message = new NetMQMessage();
        message.Append(header.ToJsonString(), Encoding.UTF8);
        foreach (var payload in payloads) message.Append(payload);
        Assert.True(_push.TrySendMultipartMessage(TimeSpan.FromSeconds(5), message));
    }

    private (string Id, long Frame) NextAcquisition()
    {
        Assert.True(_acquisitions.TryTake(out var next, TimeSpan.FromSeconds(10)), "the client sent no acquire");
        return next;
    }

    private static JsonObject Header(string id, long frame, int n = 3)
    {
        var header = FrameDecoderTests.GoodHeader(id, n);
        header["frame"] = frame;
        return header;
    }

    public static TheoryData<string, Func<string, long, (JsonObject, byte[][])>, string> BadFrames => new()
    {
        { "bad header", (id, f) => { var h = Header(id, f); h["htype"] = "junk"; return (h, [FrameDecoderTests.Bytes(1, 2, 3)]); }, "htype" },
        { "wrong n", (id, f) => (Header(id, f, n: 5), [FrameDecoderTests.Bytes(1, 2, 3)]), "\"n\" = 5" },
        { "NaN", (id, f) => (Header(id, f), [FrameDecoderTests.Bytes(1, float.NaN, 3)]), "NaN" },
        { "wrong frame number", (id, f) => (Header(id, f + 100), [FrameDecoderTests.Bytes(1, 2, 3)]), "acknowledged as frame" },
        { "wrong kind", (id, f) => { var h = Header(id, f); h["kind"] = "xas"; return (h, [FrameDecoderTests.Bytes(1, 2, 3)]); }, "kind \"xas\" for a \"xrd\" acquisition" },
    };

    [Theory]
    [MemberData(nameof(BadFrames))]
    public async Task A_bad_frame_is_rejected_with_its_reason_and_the_acquisition_repeated(
        string _, Func<string, long, (JsonObject, byte[][])> makeBad, string reason)
    {
        await using var client = Client(reacquisitions: 1);
        var rejections = new ConcurrentQueue<FrameRejectedEventArgs>();
        client.FrameRejected += (_, e) => rejections.Enqueue(e);
        var reacquiring = new ConcurrentQueue<(string Kind, string Why)>();
        client.Reacquiring += (kind, why) => reacquiring.Enqueue((kind, why));

        var acquisition = client.AcquireXrdAsync(1);
        var first = NextAcquisition();
        var (badHeader, badPayload) = makeBad(first.Id, first.Frame);
        Push(badHeader, badPayload);
        var second = NextAcquisition();
        Push(Header(second.Id, second.Frame), FrameDecoderTests.Bytes(4, 5, 6));
        var frame = await acquisition;

        Assert.Equal(second.Id, frame.Header.RequestId);
        Assert.Equal([4f, 5f, 6f], frame.Intensities);
        Assert.Equal(1, client.RejectedFrames);
        var rejection = Assert.Single(rejections);
        Assert.Contains(reason, rejection.Reason);
        Assert.Equal(first.Id, rejection.RequestId);
        Assert.Equal(1, client.Reacquisitions);
        var again = Assert.Single(reacquiring);
        Assert.Equal("xrd", again.Kind);
        Assert.Contains(reason, again.Why);
    }

    [Fact]
    public async Task Rejected_frames_with_no_reacquisition_left_fail_the_acquisition_with_the_reason()
    {
        await using var client = Client(reacquisitions: 0);

        var acquisition = client.AcquireXrdAsync(1);
        var first = NextAcquisition();
        Push(Header(first.Id, first.Frame), FrameDecoderTests.Bytes(1, float.NaN, 3));

        var ex = await Assert.ThrowsAsync<DeviceException>(() => acquisition);
        Assert.Contains("NaN", ex.Message);
    }

    [Fact]
    public async Task A_frame_for_no_request_is_rejected_and_never_returned()
    {
        await using var client = Client(reacquisitions: 0);
        var rejected = new TaskCompletionSource<FrameRejectedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.FrameRejected += (_, e) => rejected.TrySetResult(e);

        Push(Header("nobody-asked", 99), FrameDecoderTests.Bytes(1, 2, 3));
        var rejection = await rejected.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Contains("no pending acquisition", rejection.Reason);
        Assert.Equal("nobody-asked", rejection.RequestId);
        Assert.Equal(1, client.RejectedFrames);

        // A later, proper acquisition is unaffected by the stray frame.
        var acquisition = client.AcquireXrdAsync(1);
        var next = NextAcquisition();
        Push(Header(next.Id, next.Frame), FrameDecoderTests.Bytes(7, 8, 9));
        var frame = await acquisition;
        Assert.Equal([7f, 8f, 9f], frame.Intensities);
    }

    [Fact]
    public async Task A_frame_larger_than_the_maximum_is_refused_and_a_later_proper_frame_still_arrives()
    {
        await using var client = Client(reacquisitions: 1, maxFramePoints: 64);
        var rejections = new ConcurrentQueue<FrameRejectedEventArgs>();
        client.FrameRejected += (_, e) => rejections.Enqueue(e);

        var acquisition = client.AcquireXrdAsync(1);
        var first = NextAcquisition();
        // A header that claims more than the detector may send is rejected before its payload is looked at.
        Push(Header(first.Id, first.Frame, n: 1000), new byte[4000]);
        var second = NextAcquisition();
        Push(Header(second.Id, second.Frame), FrameDecoderTests.Bytes(4, 5, 6));
        var frame = await acquisition;

        Assert.Equal([4f, 5f, 6f], frame.Intensities);
        Assert.Contains("\"n\" = 1000 is outside 1..64", Assert.Single(rejections).Reason);
    }

    public void Dispose()
    {
        _push.Dispose();
        _control.Dispose();
        _acquisitions.Dispose();
    }
}

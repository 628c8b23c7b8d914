using System.Collections.Concurrent;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Time;
using AutonomousBeamline.Instruments.Detector;
using AutonomousBeamline.ZeroMq;
using AutonomousBeamline.Simulators.Detector;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Instruments.Tests.Detector;

/// <summary>The detector client against the detector server's fault switches.</summary>
public sealed class DetectorFaultModeTests : IDisposable
{
    private readonly VirtualTimeProvider _time = new(new DateTimeOffset(2026, 11, 24, 21, 0, 0, TimeSpan.Zero));
    private readonly DetectorServer _server;

    public DetectorFaultModeTests()
    {
        var stage = new MotionStage(_time, [new StageAxis("sample_x", "mm", 0, 20, 5), new StageAxis("sample_y", "mm", -5, 5, 5)], 200);
        stage.SetShutter(true);
        var truth = new SampleTruth(new FixedCell(0.7), new ElectrodeField(5, 0, 20, -5, 5));
        _server = new DetectorServer(stage, truth, new RecordingXrdRenderer(), new RecordingXasRenderer(), _time);
        _server.Start();
    }

    private ZmqDetectorClient Client(int reacquisitions) =>
        new(_server.Endpoint, _server.DataEndpoint, _time, new ZmqDetectorClientOptions
        {
            Transport = new ZmqRequestClientOptions { ReplyTimeout = TimeSpan.FromSeconds(1), Retries = 2 },
            Reacquisitions = reacquisitions,
            FrameTimeout = TimeSpan.FromSeconds(1),
        });

    [Theory]
    [InlineData(FrameCorruption.TruncatedPayload, "bytes")]
    [InlineData(FrameCorruption.WrongN, "\"n\" = 65")]
    [InlineData(FrameCorruption.NotANumber, "value 0 is NaN")]
    [InlineData(FrameCorruption.ForeignRequestId, "no pending acquisition")]
    public async Task A_broken_frame_is_rejected_and_a_clean_one_reacquired(FrameCorruption corruption, string reason)
    {
        await using var client = Client(reacquisitions: 1);
        var reasons = new ConcurrentQueue<string>();
        client.FrameRejected += (_, e) => reasons.Enqueue(e.Reason);
        var reacquiring = new ConcurrentQueue<(string Kind, string Why)>();
        client.Reacquiring += (kind, why) => reacquiring.Enqueue((kind, why));
        _server.CorruptNextFrames(corruption);

        var frame = await client.AcquireXrdAsync(1);

        Assert.Equal(2, frame.Header.Frame);
        Assert.All(frame.Intensities, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(1, client.RejectedFrames);
        Assert.Contains(reason, Assert.Single(reasons));
        Assert.Equal(1, client.Reacquisitions);
        var again = Assert.Single(reacquiring);
        Assert.Equal("xrd", again.Kind);
        // A frame naming no pending request is refused by the stream, and its acquisition is then lost in time.
        Assert.Contains(corruption == FrameCorruption.ForeignRequestId ? "no xrd frame for request" : reason, again.Why);
    }

    [Fact]
    public async Task A_lost_frame_is_reacquired_and_the_loss_is_the_reason_given()
    {
        await using var client = Client(reacquisitions: 1);
        var reacquiring = new ConcurrentQueue<(string Kind, string Why)>();
        client.Reacquiring += (kind, why) => reacquiring.Enqueue((kind, why));
        _server.DropNextFrames(1);

        var frame = await client.AcquireXasAsync(new XasScanRequest([7100, 7112], null, 0.5));

        Assert.Equal(Core.Domain.FrameKind.Xas, frame.Header.Kind);
        Assert.Equal(0, client.RejectedFrames);
        var again = Assert.Single(reacquiring);
        Assert.Equal("xas", again.Kind);
        Assert.Contains("no xas frame for request", again.Why);
        Assert.Contains("within 1 s after the counting time", again.Why);
    }

    [Fact]
    public async Task Without_reacquisitions_a_broken_frame_fails_its_acquisition_at_once()
    {
        await using var client = Client(reacquisitions: 0);
        var reacquiring = 0;
        client.Reacquiring += (_, _) => Interlocked.Increment(ref reacquiring);
        _server.CorruptNextFrames(FrameCorruption.WrongN);

        var ex = await Assert.ThrowsAsync<DeviceException>(() => client.AcquireXrdAsync(1));

        Assert.StartsWith("detector: xrd acquisition failed after 1 attempt(s): detector: frame rejected:", ex.Message);
        Assert.IsType<FrameRejectedException>(ex.InnerException);
        Assert.Equal(0, client.Reacquisitions);
        Assert.Equal(0, reacquiring);
    }

    [Fact]
    public async Task Every_frame_broken_exhausts_the_reacquisitions()
    {
        await using var client = Client(reacquisitions: 2);
        _server.CorruptNextFrames(FrameCorruption.NotANumber, 3);

        var ex = await Assert.ThrowsAsync<DeviceException>(() => client.AcquireXrdAsync(1));

        Assert.Contains("3 attempt", ex.Message);
        Assert.Equal(3, client.RejectedFrames);
        Assert.Equal(2, client.Reacquisitions);
    }

    [Fact]
    public async Task A_faulted_detector_refuses_acquisitions_with_FAULT()
    {
        await using var client = Client(reacquisitions: 1);
        _server.InjectFault("cooling lost");

        var ex = await Assert.ThrowsAsync<FacilityErrorException>(() => client.AcquireXrdAsync(1));
        _server.ClearFault();
        var frame = await client.AcquireXrdAsync(1);

        Assert.Equal(FacilityErrorCode.Fault, ex.Code);
        Assert.Equal(0, client.Reacquisitions); // a refusal is the caller's to handle, not a frame to take again
        Assert.Equal(1, frame.Header.Frame);
    }

    public void Dispose() => _server.Dispose();
}

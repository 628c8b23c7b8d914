using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Time;
using AutonomousBeamline.Instruments.Detector;
using AutonomousBeamline.Instruments.Motion;
using AutonomousBeamline.Simulators.Detector;
using AutonomousBeamline.Simulators.Motion;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Instruments.Tests.Detector;

/// <summary>Both servers over one stage, as the dry run composes them: a frame shows where the clients put the sample.</summary>
public class MotionAndDetectorTogetherTests
{
    [Fact]
    public async Task A_frame_taken_after_a_move_carries_the_new_position_and_the_signal_of_that_spot()
    {
        var start = new DateTimeOffset(2026, 11, 24, 21, 0, 0, TimeSpan.Zero);
        var time = new VirtualTimeProvider(start);
        var stage = new MotionStage(time,
            [new StageAxis("sample_x", "mm", 0, 20, 4), new StageAxis("sample_y", "mm", -5, 5, 4)],
            nominalBeamMa: 250, beamDumps: [new BeamDump(start.AddMinutes(30), TimeSpan.FromMinutes(5))]);
        var truth = new SampleTruth(new FixedCell(0.5, 2.0), new ElectrodeField(11, 0, 20, -5, 5));
        var xrd = new RecordingXrdRenderer();
        using var motionServer = new MotionServer(stage, time);
        using var detectorServer = new DetectorServer(stage, truth, xrd, new RecordingXasRenderer(), time,
            new DetectorServerOptions { FootprintMm = 0.1 });
        motionServer.Start();
        detectorServer.Start();
        await using var motion = new ZmqMotionClient(motionServer.Endpoint, time);
        await using var detector = new ZmqDetectorClient(detectorServer.Endpoint, detectorServer.DataEndpoint, time);

        await motion.MoveAsync(new Dictionary<string, double> { ["sample_x"] = 15.5, ["sample_y"] = -2.25 });
        await motion.SetShutterAsync(true);
        var moved = time.GetUtcNow();
        var frame = await detector.AcquireXrdAsync(1.0);

        Assert.Equal(15.5, frame.Header.Positions["sample_x"], 9);
        Assert.Equal(-2.25, frame.Header.Positions["sample_y"], 9);
        Assert.Equal(moved, frame.Header.TStart, TimeSpan.FromMilliseconds(1));
        Assert.Equal(250, frame.Header.BeamCurrentMa);
        var call = Assert.Single(xrd.Calls);
        Assert.Equal(truth.FePO4FractionOverFootprint(15.5, -2.25, moved, 0.1), call.Fraction, 9);
        Assert.Equal(1.0, call.SignalScale);

        await time.SleepAsync(TimeSpan.FromMinutes(31));
        var status = await motion.GetStatusAsync();
        var dark = await detector.AcquireXrdAsync(1.0);

        Assert.Equal(0, status.BeamCurrentMa);
        Assert.Equal(0, dark.Header.BeamCurrentMa);
        Assert.Equal(0.0, xrd.Calls[1].SignalScale);
    }
}

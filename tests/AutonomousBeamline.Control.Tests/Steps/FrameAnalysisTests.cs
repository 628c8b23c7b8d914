using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Control.Steps;
using AutonomousBeamline.Control.Tests.Support;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Control.Tests.Steps;

public sealed class FrameAnalysisTests
{
    private static Frame Frame(IReadOnlyDictionary<string, double> positions) => new(new FrameHeader
    {
        Frame = 7, RequestId = "r", Kind = FrameKind.Xrd, N = 4, XMode = "uniform", ExposureS = 20, TStart = EngineRig.Start,
        BeamCurrentMa = 199, Positions = positions,
    }, [4, 4, 4, 4], null);

    [Fact]
    public void An_observation_is_dated_at_mid_exposure_where_the_detector_says_the_sample_was()
    {
        var analysis = new FrameAnalysis(new FakeAnalyzer(), null, new AxisRoles("sample_x", "sample_y"));
        var result = analysis.Analyze(Frame(new Dictionary<string, double> { ["sample_x"] = 3.5, ["sample_y"] = 1.5 }),
            new FrameContext(12, new SpotMm(9, 9), 0.5, t => (t - EngineRig.Start).TotalSeconds / 100, DecisionSource.Operator));

        var o = Assert.IsType<Observation>(result.Observation);
        Assert.Equal((12L, 7L, 3.5, 1.5), (o.Sequence, o.Frame, o.XMm, o.YMm));
        Assert.Equal(EngineRig.Start.AddSeconds(10), o.Time);
        Assert.Equal(0.1, o.StateOfCharge, 9);
        Assert.Equal(DecisionSource.Operator, o.Source);
        Assert.Equal(0.4, o.PhaseFraction, 6);
    }

    [Fact]
    public void A_header_without_positions_takes_the_spot_the_loop_sent_the_sample_to()
    {
        var analysis = new FrameAnalysis(new FakeAnalyzer(), null, new AxisRoles("sample_x", "sample_y"));
        var o = analysis.Analyze(Frame(new Dictionary<string, double>()), new FrameContext(1, new SpotMm(2, 3), 0, _ => 0, DecisionSource.Learner)).Observation!;
        Assert.Equal((2.0, 3.0), (o.XMm, o.YMm));
    }

    [Theory]
    [InlineData(99, -99)]
    [InlineData(5, 10.5)]
    [InlineData(double.NaN, 2)]
    public void A_header_that_places_the_sample_outside_the_roi_is_no_observation(double x, double y)
    {
        var analysis = new FrameAnalysis(new FakeAnalyzer(), null, new AxisRoles("sample_x", "sample_y"), roi: new RoiPlan(0, 10, 0, 10, 1));
        var result = analysis.Analyze(Frame(new Dictionary<string, double> { ["sample_x"] = x, ["sample_y"] = y }),
            new FrameContext(1, new SpotMm(2, 3), 0, _ => 0, DecisionSource.Learner));
        Assert.Null(result.Observation);
        Assert.Equal(FrameAnalysis.FlagOutsideRoi, result.Flag);
        // Inside (or on the edge within the stage's read-back tolerance) it is one.
        Assert.NotNull(analysis.Analyze(Frame(new Dictionary<string, double> { ["sample_x"] = 10.02, ["sample_y"] = 0 }),
            new FrameContext(1, new SpotMm(2, 3), 0, _ => 0, DecisionSource.Learner)).Observation);
    }

    [Fact]
    public void A_flagged_frame_is_no_observation_and_says_why()
    {
        var analysis = new FrameAnalysis(new FakeAnalyzer { FlagEverything = "saturated" }, null, new AxisRoles("sample_x", "sample_y"));
        var result = analysis.Analyze(Frame(new Dictionary<string, double>()), new FrameContext(1, new SpotMm(2, 3), 0, _ => 0, DecisionSource.Learner));
        Assert.Null(result.Observation);
        Assert.Equal("saturated", result.Flag);
    }
}

using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Decomposition;

namespace AutonomousBeamline.Learning.Tests.Decomposition;

/// <summary>What the decomposition is given beside a moving phase: the residual of the reference fit at one noise level.</summary>
public sealed class ReferenceResidualTests
{
    private static Frame Pattern(params float[] counts) => new(new FrameHeader
    {
        Frame = 7, RequestId = "r7", Kind = FrameKind.Xrd, N = counts.Length, XMode = "uniform", XName = "two_theta", XUnit = "deg",
        XStart = 5, XStep = 0.01, TStart = DateTimeOffset.UnixEpoch, BeamCurrentMa = 200,
    }, counts, null);

    [Fact]
    public void The_residual_is_divided_by_the_counting_noise_the_fit_expects_and_keeps_the_frame_s_header()
    {
        var frame = Pattern(110, 0.5f, 9_900);
        var residual = ReferenceResidual.Of(frame, new ReferenceExplanation([100, 0.25, 10_000], [80, 0, 9_980]));
        Assert.Same(frame.Header, residual.Header);
        // 10 over √100; where the fit expects less than a count, the noise is taken as one count's; −100 over √10,000.
        Assert.Equal([1.0, 0.25, -1.0], residual.Intensities.Select(v => Math.Round(v, 6)));
    }

    [Fact]
    public void A_fit_on_another_number_of_channels_is_refused_by_name()
    {
        var error = Assert.Throws<ArgumentException>(() => ReferenceResidual.Of(Pattern(1, 2, 3), new ReferenceExplanation([1, 2], [1, 2])));
        Assert.Contains("2 channels and the frame 3", error.Message);
    }
}

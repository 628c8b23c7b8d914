using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Bench;

/// <summary>Wraps rendered data in the frames the detector client would hand to the analysers.</summary>
internal static class BenchFrames
{
    public static Frame Xrd(float[] intensities, UniformAxis axis, long frame, double exposureS) =>
        new(new FrameHeader
        {
            Frame = frame, RequestId = "bench", Kind = FrameKind.Xrd, N = intensities.Length, XMode = "uniform",
            XName = axis.Name, XUnit = axis.Unit, XStart = axis.Start, XStep = axis.Step,
            ExposureS = exposureS, TStart = DateTimeOffset.UnixEpoch, BeamCurrentMa = 200,
        }, intensities, null);

    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        var rank = p / 100 * (sorted.Length - 1);
        var lo = (int)Math.Floor(rank); var hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
}

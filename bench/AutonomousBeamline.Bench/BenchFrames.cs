using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Simulators.Physics;

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

    /// <summary>
    /// Renders the frame a spot of true phase fraction <paramref name="fraction"/> gives after <paramref name="exposureS"/>, analyses
    /// it as a run would, and returns the observation; null when the analyser rejects the frame.
    /// </summary>
    public static Observation? Observe(XrdPatternRenderer renderer, XrdPhaseAnalyzer analyzer, Random rng, int k, double x, double y,
        double soc, double rate, double fraction, double exposureS, DecisionSource source)
    {
        var frame = Xrd(renderer.Render(fraction, exposureS, 1.0, rng), renderer.Axis, k, exposureS);
        var features = analyzer.Analyze(frame);
        if (!features.Usable) return null;
        return new Observation
        {
            Sequence = k, Frame = k, Time = DateTimeOffset.UnixEpoch.AddSeconds(k * exposureS), Kind = FrameKind.Xrd,
            XMm = x, YMm = y, StateOfCharge = soc, CRate = rate, PhaseFraction = features.PhaseFraction,
            PhaseFractionSigma = features.PhaseFractionSigma, BeamCurrentMa = 200, Source = source, ExposureS = exposureS,
        };
    }

    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        var rank = p / 100 * (sorted.Length - 1);
        var lo = (int)Math.Floor(rank); var hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
}

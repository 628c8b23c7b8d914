namespace AutonomousBeamline.Learning.Tests.Decomposition;

/// <summary>Patterns made in the tests, not by the simulator: Gaussian peaks on channels, scaled to unit area.</summary>
internal static class SyntheticPatterns
{
    public static double[] Peaks(int channels, params (double Centre, double Width, double Height)[] peaks)
    {
        var shape = new double[channels];
        for (var j = 0; j < channels; j++)
            foreach (var (c, w, h) in peaks) shape[j] += h * Math.Exp(-0.5 * Math.Pow((j - c) / w, 2));
        var area = shape.Sum();
        return shape.Select(v => v / area).ToArray();
    }
}

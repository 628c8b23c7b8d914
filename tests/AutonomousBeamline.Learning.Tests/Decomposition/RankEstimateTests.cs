using AutonomousBeamline.Learning.Decomposition;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace AutonomousBeamline.Learning.Tests.Decomposition;

/// <summary>
/// What varies from frame to frame besides the phases' amounts, on synthetic Lorentzian-Gaussian patterns made here (not by
/// the simulator): the frame's total (exposure, beam, gain), small peak shifts that grow along the axis, small width changes
/// and the background's level. None of them is a component; a weak third phase among them is.
/// </summary>
public sealed class RankEstimateTests
{
    private const int Channels = 600;
    private const int Frames = 40;

    // Peak centres (channels) and relative heights; B shares A's region around channel 205 on purpose.
    private static readonly (double Centre, double Height)[] A = [(90, 1), (200, 0.5), (330, 0.8), (470, 0.4)];
    private static readonly (double Centre, double Height)[] B = [(120, 0.7), (205, 1), (390, 0.6), (520, 0.5)];
    private static readonly (double Centre, double Height)[] C = [(160, 1), (280, 0.6), (430, 0.7)];

    /// <summary>A pattern of unit area: pseudo-Voigt peaks (half Lorentzian) of FWHM 6 channels times <paramref name="width"/>,
    /// each moved by <paramref name="shift"/> · (1 + channel / 600) channels, as a strain moves peaks further at higher angle.</summary>
    private static double[] Pattern((double Centre, double Height)[] peaks, double shift, double width)
    {
        var y = new double[Channels];
        var gamma = 3 * width;
        foreach (var (centre, height) in peaks)
        {
            var c = centre + shift * (1 + centre / Channels);
            for (var j = 0; j < Channels; j++)
            {
                var u = (j - c) / gamma;
                y[j] += height * (0.5 * Math.Exp(-Math.Log(2) * u * u) + 0.5 / (1 + u * u));
            }
        }
        var area = y.Sum();
        return y.Select(v => v / area).ToArray();
    }

    private static double Background(int j) => 1 - 0.5 * j / Channels + 0.4 * Math.Exp(-0.5 * Math.Pow((j - 250) / 80.0, 2));

    private sealed record Variation(double TotalSpread = 0, double ShiftSigma = 0, double WidthSigma = 0, double BackgroundSigma = 0, double Third = 0);

    /// <summary>A window of A turning into B (random amounts, as a map's spots have them), with the variations asked for; the
    /// third phase C grows in over the second half to the share given.</summary>
    private static Matrix<double> Window(Variation v, int seed)
    {
        var rng = new Random(seed);
        var rows = new double[Frames][];
        for (var i = 0; i < Frames; i++)
        {
            var b = 0.2 + 0.6 * rng.NextDouble();
            var c = i < Frames / 2 ? 0 : v.Third * (i - Frames / 2 + 1) / (Frames / 2);
            var total = 200_000 * (1 - v.TotalSpread * rng.NextDouble());
            var phases = new[]
            {
                (Pattern(A, v.ShiftSigma * Normal.Sample(rng, 0, 1), 1 + v.WidthSigma * Normal.Sample(rng, 0, 1)), (1 - b) * (1 - c)),
                (Pattern(B, v.ShiftSigma * Normal.Sample(rng, 0, 1), 1 + v.WidthSigma * Normal.Sample(rng, 0, 1)), b * (1 - c)),
                (Pattern(C, v.ShiftSigma * Normal.Sample(rng, 0, 1), 1 + v.WidthSigma * Normal.Sample(rng, 0, 1)), c),
            };
            // About 150 counts a channel of background, against a peak total of 200 000 (about 330 a channel on average).
            var background = 150 / 200_000.0 * (1 + v.BackgroundSigma * Normal.Sample(rng, 0, 1));
            rows[i] = Enumerable.Range(0, Channels).Select(j =>
                (double)Poisson.Sample(rng, total * (phases.Sum(p => p.Item2 * p.Item1[j]) + background * Background(j)))).ToArray();
        }
        return Matrix<double>.Build.DenseOfRowArrays(rows);
    }

    private static int Rank(Variation v, int seed) => SignificantComponents.Estimate(Window(v, seed), NoiseModel.Poisson).Rank;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Frames_of_different_totals_are_counted_as_their_phases(int seed)
    {
        // Exposures, beam currents or gains differing by up to a factor of 10: each frame's noise scales with its own total, so
        // a weighting by the channels' means alone leaves the rows noisy to different levels and counts a third component.
        Assert.Equal(2, Rank(new Variation(TotalSpread: 0.9), seed));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Small_peak_shifts_width_changes_and_background_levels_are_no_components(int seed)
    {
        // A shift of a twentieth of a FWHM, widths changing by 4 %, the background's level by 5 %: each far above the counting
        // noise, coherent across the window, and none of them a phase.
        var v = new Variation(TotalSpread: 0.5, ShiftSigma: 0.3, WidthSigma: 0.04, BackgroundSigma: 0.05);
        var estimate = SignificantComponents.Estimate(Window(v, seed), NoiseModel.Poisson);
        Assert.True(estimate.SingularValues[2] > 3 * estimate.Threshold, "the variations are coherent, far above the noise");
        Assert.Equal(2, estimate.Rank);
    }

    [Theory]
    [InlineData(1, 0.02)]
    [InlineData(2, 0.02)]
    [InlineData(3, 0.05)]
    [InlineData(4, 0.3)]
    public void A_weak_third_phase_among_those_variations_is_one_more_component(int seed, double share)
    {
        // Weaker than the shifts' own singular values at 2 %: it must be sought in what the components and their perturbations
        // leave, not taken as the window's next singular vector.
        var v = new Variation(TotalSpread: 0.5, ShiftSigma: 0.3, WidthSigma: 0.04, BackgroundSigma: 0.05, Third: share);
        Assert.Equal(3, Rank(v, seed));
    }
}

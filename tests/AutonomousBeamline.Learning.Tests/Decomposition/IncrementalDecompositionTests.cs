using AutonomousBeamline.Learning.Decomposition;
using MathNet.Numerics.Distributions;

namespace AutonomousBeamline.Learning.Tests.Decomposition;

/// <summary>
/// Synthetic mixtures made here, not by the simulator: three patterns of Gaussian peaks (or three sigmoid edges) mixed with
/// known fractions, with Poisson (or Gaussian) noise from a seeded generator.
/// </summary>
public sealed class IncrementalDecompositionTests
{
    private const int Channels = 300;

    private static double[] Peaks(params (double Centre, double Width, double Height)[] peaks) => SyntheticPatterns.Peaks(Channels, peaks);

    // Overlapping on purpose: A and B share the region around channel 100, C sits between peaks of the others.
    private static readonly double[][] Truth =
    [
        Peaks((60, 4, 1), (100, 6, 0.6), (210, 5, 0.8)),
        Peaks((92, 5, 1), (150, 4, 0.7), (250, 6, 0.5)),
        Peaks((120, 4, 1), (180, 5, 0.9), (230, 3, 0.4)),
    ];

    /// <summary>An operando-like path: A turns into B over the first half, B into C over the second.</summary>
    private static double[] Path(int i, int n)
    {
        var t = (double)i / (n - 1);
        return t < 0.5 ? [1 - 2 * t, 2 * t, 0] : [0, 2 - 2 * t, 2 * t - 1];
    }

    private static double[] Counts(double[][] shapes, double[] fractions, double total, Random rng) =>
        Enumerable.Range(0, Channels).Select(j =>
            (double)Poisson.Sample(rng, Math.Max(1e-9, total * shapes.Select((s, k) => fractions[k] * s[j]).Sum()))).ToArray();

    [Fact]
    public void Three_phases_in_counts_are_counted_resolved_and_their_fractions_tracked()
    {
        var rng = new Random(11);
        var decomposition = new IncrementalDecomposition(new DecompositionOptions(NoiseModel.Poisson));
        const int n = 40;
        var errors = new List<double>();
        DecompositionUpdate? last = null;
        for (var i = 0; i < n; i++)
        {
            var fractions = Path(i, n);
            last = decomposition.Add(Counts(Truth, fractions, 60_000, rng));
            if (i >= n - 10) errors.AddRange(Matched(last).Select(m => Math.Abs(last.ScoreOf(m.Id)!.Fraction - fractions[m.Truth])));
        }
        Assert.Equal(3, last!.Rank.Rank);
        Assert.Equal(3, last.Components.Count);
        foreach (var m in Matched(last)) Assert.True(m.Correlation > 0.95, $"component {m.Id} correlates {m.Correlation:0.000} with true pattern {m.Truth}");
        Assert.Equal(3, Matched(last).Select(m => m.Truth).Distinct().Count());
        Assert.True(errors.Max() < 0.05, $"fractions off by up to {errors.Max():0.000}");
    }

    [Fact]
    public void An_unknown_third_phase_appears_as_a_new_component_and_a_new_version_keeping_the_old_ids()
    {
        var rng = new Random(5);
        var decomposition = new IncrementalDecomposition(new DecompositionOptions(NoiseModel.Poisson));
        DecompositionUpdate? update = null;
        // Twenty frames of A and B only, then C grows in.
        for (var i = 0; i < 20; i++) update = decomposition.Add(Counts(Truth, [1 - i / 19.0, i / 19.0, 0], 60_000, rng));
        Assert.Equal(2, update!.Rank.Rank);
        var versionBefore = update.Version;
        var idsBefore = update.Components.Select(c => c.Id).ToArray();
        var appeared = -1;
        for (var i = 1; i <= 20; i++)
        {
            var c = i / 20.0;
            update = decomposition.Add(Counts(Truth, [0, 1 - c, c], 60_000, rng));
            if (appeared < 0 && update.Components.Count == 3) { appeared = i; Assert.True(update.Changed); }
        }
        Assert.InRange(appeared, 1, 8);
        Assert.True(update!.Version > versionBefore);
        Assert.Equal(3, update.Components.Count);
        Assert.Equal(idsBefore, update.Components.Take(2).Select(c => c.Id));
        var newcomer = update.Components[2];
        Assert.True(IncrementalDecomposition.Correlation(newcomer.Shape, Truth[2]) > 0.95);
        Assert.InRange(update.ScoreOf(newcomer.Id)!.Fraction, 0.9, 1.0);
    }

    [Fact]
    public void Frames_that_are_all_mixtures_of_three_phases_rising_together_still_give_three_scored_components()
    {
        // No frame is pure: A falls as B rises, and C grows with B (as a phase forming late on charge). Warm
        // starts grown one component at a time can leave one component taking everything and the others unscored.
        var rng = new Random(9);
        var decomposition = new IncrementalDecomposition(new DecompositionOptions(NoiseModel.Poisson));
        DecompositionUpdate? update = null;
        var shares = new List<double[]>();
        for (var i = 0; i < 30; i++)
        {
            var u = 0.5 + 0.4 * rng.NextDouble();
            // How much C has formed differs from spot to spot (else its amount is a line in B's, and the rank is 2).
            var c = 1.5 * (u - 0.45) / 0.55 * (0.3 + 1.4 * rng.NextDouble());
            double[] f = [(1 - u) / (1 + c), u / (1 + c), c / (1 + c)];
            update = decomposition.Add(Counts(Truth, f, 60_000, rng));
            shares.Add(f);
        }
        Assert.Equal(3, update!.Rank.Rank);
        Assert.Equal(3, update.Components.Count);
        Assert.All(update.Components, c => Assert.True(update.ScoreOf(c.Id)!.Score > 0, $"component {c.Id} is scored on the latest frame"));
        // C, whose peaks none of the others has, is one of them.
        Assert.Contains(update.Components, c => IncrementalDecomposition.Correlation(c.Shape, Truth[2]) > 0.9);
    }

    [Fact]
    public void A_stream_of_pure_counting_noise_has_rank_one_its_flat_mean()
    {
        var rng = new Random(3);
        var decomposition = new IncrementalDecomposition(new DecompositionOptions(NoiseModel.Poisson));
        DecompositionUpdate? update = null;
        for (var i = 0; i < 30; i++) update = decomposition.Add(Enumerable.Range(0, Channels).Select(_ => (double)Poisson.Sample(rng, 40)).ToArray());
        Assert.InRange(update!.Rank.Rank, 0, 1);
    }

    [Fact]
    public void Gaussian_noise_alone_gives_rank_zero_or_one_and_three_sigmoid_edges_give_three()
    {
        var rng = new Random(8);
        var noise = new IncrementalDecomposition(new DecompositionOptions(NoiseModel.Gaussian));
        DecompositionUpdate? update = null;
        for (var i = 0; i < 30; i++) update = noise.Add(Enumerable.Range(0, Channels).Select(_ => Normal.Sample(rng, 0, 0.01)).ToArray());
        Assert.InRange(update!.Rank.Rank, 0, 1);

        // Three edges 15 channels apart with white lines of different heights: normalised spectra, Gaussian noise of 1 %.
        double[] Edge(double e0, double whiteLine) => Enumerable.Range(0, Channels)
            .Select(j => 1 / (1 + Math.Exp(-(j - e0) / 3)) + whiteLine * Math.Exp(-0.5 * Math.Pow((j - e0 - 6) / 5, 2))).ToArray();
        double[][] edges = [Edge(120, 0.3), Edge(135, 0.8), Edge(150, 0.1)];
        var spectra = new IncrementalDecomposition(new DecompositionOptions(NoiseModel.Gaussian));
        const int n = 30;
        for (var i = 0; i < n; i++)
        {
            var f = Path(i, n);
            update = spectra.Add(Enumerable.Range(0, Channels).Select(j => edges.Select((e, k) => f[k] * e[j]).Sum() + Normal.Sample(rng, 0, 0.01)).ToArray());
        }
        Assert.Equal(3, update!.Rank.Rank);
    }

    [Fact]
    public void A_frame_on_another_axis_or_with_negative_counts_is_refused_by_name()
    {
        var decomposition = new IncrementalDecomposition(new DecompositionOptions(NoiseModel.Poisson));
        decomposition.Add(new double[10]);
        Assert.Contains("11 channels", Assert.Throws<ArgumentException>(() => decomposition.Add(new double[11])).Message);
        var negative = new double[10]; negative[4] = -1;
        Assert.Contains("channel 4", Assert.Throws<ArgumentException>(() => decomposition.Add(negative)).Message);
        Assert.Throws<ArgumentException>(() => new IncrementalDecomposition(new DecompositionOptions(NoiseModel.Poisson, Window: 1)));
    }

    [Fact]
    public void A_warm_update_is_bounded_by_the_window()
    {
        var rng = new Random(2);
        var decomposition = new IncrementalDecomposition(new DecompositionOptions(NoiseModel.Poisson, Window: 12));
        for (var i = 0; i < 30; i++) decomposition.Add(Counts(Truth, Path(i, 30), 60_000, rng));
        Assert.Equal(30, decomposition.FrameCount);
        // Only the last 12 frames are refitted: the SVD's singular values number min(window, channels).
        Assert.Equal(12, decomposition.Add(Counts(Truth, Path(29, 30), 60_000, rng)).Rank.SingularValues.Count);
    }

    private static IEnumerable<(int Id, int Truth, double Correlation)> Matched(DecompositionUpdate update) =>
        update.Components.Select(c =>
        {
            var best = Enumerable.Range(0, Truth.Length).MaxBy(k => IncrementalDecomposition.Correlation(c.Shape, Truth[k]));
            return (c.Id, best, IncrementalDecomposition.Correlation(c.Shape, Truth[best]));
        }).ToList();
}

using AutonomousBeamline.Core.Materials;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Simulators.Physics;
using Xunit.Abstractions;

namespace AutonomousBeamline.Learning.Tests.Features;

/// <summary>
/// The σ of a sparse (targeted) scan's fraction must own up to references that are not the sample, as a dense scan's does
/// (<see cref="SigmaCalibrationTests"/>): runs of scans planned by <see cref="EnergyRangePlanner"/> as in a run (dense every 20th),
/// each run's sample drawn once off the references by <see cref="EdgeMismatch"/> and charged across a range of fractions; the
/// z RMS is over the sparse scans of all runs.
/// </summary>
public sealed class SparseScanSigmaTests(ITestOutputHelper output)
{
    /// <summary>The Fe K-edge window of the planner's full grid, 7090–7180 eV at 0.5 eV.</summary>
    private static readonly EnergyWindow FeWindow = new("Fe K", 7090, 7180, 0.5);

    /// <returns>The z RMS of the sparse scans' σ, of their least-squares part alone, and how many sparse scans were judged.</returns>
    private static (double Rms, double LeastSquaresRms, int Scans) SparseZScoreRms(EdgeMismatch mismatch, int runs, int scansPerRun, int firstSeed)
    {
        FeEdgeShape[] references = [BatteryMaterials.FeKEdge.Reduced, BatteryMaterials.FeKEdge.Oxidised];
        var analyzer = new XasEdgeAnalyzer();
        var (z, zLeastSquares) = (new List<double>(), new List<double>());
        for (var run = firstSeed; run < firstSeed + runs; run++)
        {
            var rng = new Random(run);
            // One material for the whole run: the sample is off the references the same way in every scan.
            var sample = mismatch.Apply(references, rng);
            var renderer = new XasSpectrumRenderer(sample[0], sample[1], 0.002);
            var (from, to) = (0.05 + 0.2 * rng.NextDouble(), 0.75 + 0.2 * rng.NextDouble());
            if (rng.NextDouble() < 0.5) (from, to) = (to, from);
            var planner = new EnergyRangePlanner(FeWindow);
            var scans = new List<XasFeatures>();
            var dense = new List<DenseXasScan>();
            for (var s = 0; s < scansPerRun; s++)
            {
                var truth = from + (to - from) * s / (scansPerRun - 1);
                var plan = planner.NextScan(scans);
                var mu = renderer.Render(plan.EnergiesEv, truth, 1, 1, rng).Select(v => (double)v).ToArray();
                var features = analyzer.Analyze(plan.EnergiesEv, mu, dense);
                scans.Add(features);
                if (DenseXasScan.From(plan.EnergiesEv, mu, features) is { } d) dense.Add(d);
                if (!features.Usable) throw new InvalidOperationException($"run {run}, scan {s + 1}: flagged {features.Flag}");
                if (!features.Sparse) continue;
                Assert.False(plan.FullRange);
                Assert.True(features.MismatchDenseScans > 0, "every sparse scan of a run follows a dense one");
                var leastSquares = Math.Sqrt(Math.Max(0, Math.Pow(features.OxidisedFractionSigma, 2) - Math.Pow(features.MismatchSigma, 2)));
                z.Add((features.OxidisedFraction - truth) / features.OxidisedFractionSigma);
                zLeastSquares.Add((features.OxidisedFraction - truth) / leastSquares);
            }
        }
        static double Rms(List<double> v) => Math.Sqrt(v.Average(x => x * x));
        return (Rms(z), Rms(zLeastSquares), z.Count);
    }

    [Theory]
    [InlineData(false, true, 0.0)]
    [InlineData(true, true, 0.2)]
    public void Sparse_scan_z_scores_have_an_rms_near_one_on_samples_off_their_references(bool whiteLines, bool widths, double maximumShiftEv) =>
        AssertNearOne(whiteLines, widths, maximumShiftEv);

    /// <summary>Not met yet (docs/materials.md, "Not yet"): white lines off give 0.27 (the σ too large: the sparse points see less
    /// of a white-line mismatch than the dense fit whose fraction they are measured against); edges shifted each its own way give
    /// 1.57 (the restriction's error is measured at the dense scans' fractions, and a shift's error changes with the fraction).</summary>
    [Theory(Skip = "not met yet: 0.27 (white lines off) and 1.57 (edges shifted), docs/materials.md \"Not yet\"")]
    [InlineData(true, false, 0.0)]
    [InlineData(false, false, 0.3)]
    public void Sparse_scan_z_scores_not_yet_near_one(bool whiteLines, bool widths, double maximumShiftEv) =>
        AssertNearOne(whiteLines, widths, maximumShiftEv);

    private void AssertNearOne(bool whiteLines, bool widths, double maximumShiftEv)
    {
        var (rms, leastSquares, scans) = SparseZScoreRms(new EdgeMismatch(whiteLines, widths, maximumShiftEv), runs: 40, scansPerRun: 30, firstSeed: 0);
        output.WriteLine($"white lines off {whiteLines}, widths off {widths}, shifts ≤ {maximumShiftEv} eV: sparse z RMS {rms:F2} over {scans} scans (least squares alone: {leastSquares:F2})");
        Assert.InRange(rms, 0.7, 1.5);
        Assert.True(leastSquares > 1.5, "least squares alone must be what is too confident here, or the case tests nothing");
    }

    [Fact]
    public void On_samples_that_match_their_references_the_sparse_sigma_is_not_inflated_beyond_it()
    {
        var (rms, leastSquares, scans) = SparseZScoreRms(EdgeMismatch.None, runs: 40, scansPerRun: 30, firstSeed: 1000);
        output.WriteLine($"matched references: sparse z RMS {rms:F2} over {scans} scans (least squares alone: {leastSquares:F2})");
        Assert.InRange(rms, 0.7, 1.5);
    }

    [Fact]
    public void Before_any_dense_scan_a_sparse_scans_sigma_says_the_mismatch_is_unknown()
    {
        var energies = new EnergyRangePlanner(FeWindow).NextScan([new XasEdgeAnalyzer().Analyze(FeWindow.FullGrid(),
            new XasSpectrumRenderer(noiseAtUnitDwell: 0.002).Render(FeWindow.FullGrid(), 0.4, 1, 1, new Random(3)).Select(v => (double)v).ToArray())]).EnergiesEv;
        var mu = new XasSpectrumRenderer(noiseAtUnitDwell: 0.002).Render(energies, 0.4, 1, 1, new Random(4)).Select(v => (double)v).ToArray();
        var features = new XasEdgeAnalyzer().Analyze(energies, mu);
        Assert.True(features.Sparse);
        Assert.Equal(0, features.MismatchDenseScans);
        Assert.True(features.OxidisedFractionSigma >= Math.Sqrt(1.0 / 12), $"σ {features.OxidisedFractionSigma} without a dense scan to measure the mismatch on");
    }
}

using AutonomousBeamline.Core.Materials;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Simulators.Physics;
using Xunit.Abstractions;

namespace AutonomousBeamline.Learning.Tests.Features;

/// <summary>
/// The σ of a sparse (targeted) scan's fraction must own up to references that are not the sample, as a dense scan's does
/// (<see cref="SigmaCalibrationTests"/>): runs of scans planned by <see cref="EnergyRangePlanner"/> as in a run (dense every 20th),
/// each run's sample drawn once off the references by <see cref="EdgeMismatch"/> and charged across a range of fractions
/// (<see cref="SparseScanRuns"/>); the z RMS is over the sparse scans of all runs.
/// </summary>
public sealed class SparseScanSigmaTests(ITestOutputHelper output)
{
    /// <summary>The Fe K-edge window of the planner's full grid, 7090–7180 eV at 0.5 eV.</summary>
    private static readonly EnergyWindow FeWindow = new("Fe K", 7090, 7180, 0.5);

    /// <returns>The z RMS of the sparse scans' σ, of their least-squares part alone, how many sparse scans were judged, and their
    /// mean absolute error and mean σ.</returns>
    private static (double Rms, double LeastSquaresRms, int Scans, double Error, double Sigma) SparseZScoreRms(EdgeMismatch mismatch, int runs, int scansPerRun, int firstSeed)
    {
        var scans = SparseScanRuns.Run(new XasEdgeAnalyzer(), FeWindow, [BatteryMaterials.FeKEdge.Reduced, BatteryMaterials.FeKEdge.Oxidised],
            mismatch, runs, scansPerRun, firstSeed);
        Assert.All(scans, s => Assert.True(s.MismatchDenseScans > 0, "every sparse scan of a run follows a dense one"));
        return (SparseScanRuns.Rms(scans.Select(s => s.Z)), SparseScanRuns.Rms(scans.Select(s => s.LeastSquaresZ)), scans.Count,
            scans.Average(s => Math.Abs(s.Fraction - s.Truth)), scans.Average(s => s.Sigma));
    }

    [Theory]
    [InlineData(false, true, 0.0)]
    [InlineData(false, false, 0.3)]
    [InlineData(true, true, 0.2)]
    public void Sparse_scan_z_scores_have_an_rms_near_one_on_samples_off_their_references(bool whiteLines, bool widths, double maximumShiftEv) =>
        AssertNearOne(whiteLines, widths, maximumShiftEv);

    /// <summary>Not met yet (docs/materials.md, "Not yet"): white lines off give 0.48, the σ too large (mean σ 0.036 against a mean
    /// error of 0.011): the jackknife of the restricted dense scans, which bounds the σ from below, overstates what the sparse
    /// energies see of a white line (0.57 with it alone), and the share of the dense error that ρ, measured on a mixture fit of the
    /// whole dense scan, gives the sparse fit is larger still.</summary>
    [Theory(Skip = "not met yet: 0.48 (white lines off, σ too large), docs/materials.md \"Not yet\"")]
    [InlineData(true, false, 0.0)]
    public void Sparse_scan_z_scores_not_yet_near_one(bool whiteLines, bool widths, double maximumShiftEv) =>
        AssertNearOne(whiteLines, widths, maximumShiftEv);

    private void AssertNearOne(bool whiteLines, bool widths, double maximumShiftEv)
    {
        var (rms, leastSquares, scans, error, sigma) = SparseZScoreRms(new EdgeMismatch(whiteLines, widths, maximumShiftEv), runs: 40, scansPerRun: 30, firstSeed: 0);
        output.WriteLine($"white lines off {whiteLines}, widths off {widths}, shifts ≤ {maximumShiftEv} eV: sparse z RMS {rms:F2} over {scans} scans (least squares alone: {leastSquares:F2}; MAE {error:F4}, mean σ {sigma:F4})");
        Assert.InRange(rms, 0.7, 1.5);
        Assert.True(leastSquares > 1.5, "least squares alone must be what is too confident here, or the case tests nothing");
    }

    [Fact]
    public void On_samples_that_match_their_references_the_sparse_sigma_is_not_inflated_beyond_it()
    {
        var (rms, leastSquares, scans, error, sigma) = SparseZScoreRms(EdgeMismatch.None, runs: 40, scansPerRun: 30, firstSeed: 1000);
        output.WriteLine($"matched references: sparse z RMS {rms:F2} over {scans} scans (least squares alone: {leastSquares:F2}; MAE {error:F4}, mean σ {sigma:F4})");
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

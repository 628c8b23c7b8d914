// Shared by Learning.Tests (SparseScanSigmaTests) and the bench (part s), linked into each csproj: runs of absorption scans planned
// as a run plans them, for asking whether a sparse scan's σ owns up to references that are not the sample.
using AutonomousBeamline.Core.Materials;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Tests.Shared;

/// <summary>
/// Runs of scans planned by <see cref="EnergyRangePlanner"/> (dense every 20th, sparse between), each run's sample drawn once off
/// the references by <see cref="EdgeMismatch"/> and charged linearly across a seeded range of fractions; the analyser sees every
/// dense scan so far, as the run's keeper gives them to it.
/// </summary>
public static class SparseScanRuns
{
    /// <summary>One sparse scan: its fraction, the truth, its σ and the mismatch part of it, and how many dense scans that was measured on.</summary>
    public sealed record Scan(double Fraction, double Truth, double Sigma, double MismatchSigma, int MismatchDenseScans)
    {
        public double Z => (Fraction - Truth) / Sigma;

        /// <summary>The z-score with the least-squares part of the σ alone.</summary>
        public double LeastSquaresZ => (Fraction - Truth) / Math.Sqrt(Math.Max(0, Sigma * Sigma - MismatchSigma * MismatchSigma));
    }

    /// <param name="noiseAtUnitDwell">The renderer's noise per point at 1 s, relative to the edge step.</param>
    /// <returns>The sparse scans of all runs, in order.</returns>
    public static IReadOnlyList<Scan> Run(XasEdgeAnalyzer analyzer, EnergyWindow window, IReadOnlyList<FeEdgeShape> references, EdgeMismatch mismatch,
        int runs, int scansPerRun, int firstSeed, double noiseAtUnitDwell = 0.002)
    {
        ArgumentNullException.ThrowIfNull(analyzer);
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(mismatch);
        if (scansPerRun < 2) throw new ArgumentOutOfRangeException(nameof(scansPerRun), scansPerRun, "a run needs at least two scans");
        var sparse = new List<Scan>();
        for (var run = firstSeed; run < firstSeed + runs; run++)
        {
            var rng = new Random(run);
            // One material for the whole run: the sample is off the references the same way in every scan.
            var sample = mismatch.Apply(references, rng);
            var renderer = new XasSpectrumRenderer(sample[0], sample[1], noiseAtUnitDwell);
            var (from, to) = (0.05 + 0.2 * rng.NextDouble(), 0.75 + 0.2 * rng.NextDouble());
            if (rng.NextDouble() < 0.5) (from, to) = (to, from);
            var planner = new EnergyRangePlanner(window);
            var scans = new List<XasFeatures>();
            var dense = new List<DenseXasScan>();
            for (var s = 0; s < scansPerRun; s++)
            {
                var truth = from + (to - from) * s / (scansPerRun - 1);
                var plan = planner.NextScan(scans);
                var mu = renderer.Render(plan.EnergiesEv, truth, 1, 1, rng).Select(v => (double)v).ToArray();
                var features = analyzer.Analyze(plan.EnergiesEv, mu, dense);
                scans.Add(features);
                if (!features.Usable) throw new InvalidOperationException($"run {run}, scan {s + 1}: flagged {features.Flag}");
                if (DenseXasScan.From(plan.EnergiesEv, mu, features) is { } d) dense.Add(d);
                if (!features.Sparse) continue;
                if (plan.FullRange) throw new InvalidOperationException($"run {run}, scan {s + 1}: a full-range scan was analysed as sparse");
                sparse.Add(new Scan(features.OxidisedFraction, truth, features.OxidisedFractionSigma, features.MismatchSigma, features.MismatchDenseScans));
            }
        }
        return sparse;
    }

    public static double Rms(IEnumerable<double> values) => Math.Sqrt(values.Average(v => v * v));
}

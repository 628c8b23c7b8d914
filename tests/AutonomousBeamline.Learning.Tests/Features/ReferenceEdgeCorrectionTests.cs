using AutonomousBeamline.Core.Materials;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Simulators.Physics;
using Xunit.Abstractions;

namespace AutonomousBeamline.Learning.Tests.Features;

/// <summary>
/// A sparse scan's E0 is the references' mixture's, so it carries their energy scale; the dense scans of the run measure it against the
/// data's own derivative and correct the sparse scans (<see cref="EdgeCorrection"/>). The samples here are rendered from edges moved
/// off the analyser's references (each its own way, seeded white-line heights off too), not from the references themselves.
/// </summary>
public sealed class ReferenceEdgeCorrectionTests(ITestOutputHelper output)
{
    private static readonly FeKEdgeModel References = BatteryMaterials.FeKEdge;
    private static readonly EnergyWindow Window = new("Fe K", 7090, 7180, 0.5);

    /// <summary>A targeted scan's energies, as the planner lays them around an edge near 7118 eV.</summary>
    private static readonly double[] SparseEnergies = [7094, 7100, 7106, 7108, 7110.5, 7113, 7115.5, 7118, 7120.5, 7123, 7126, 7129, 7160, 7166, 7172, 7178];

    /// <summary>The same around the Fe3+ edge near 7125 eV, as the planner lays them past the edge hop.</summary>
    private static readonly double[] SparseEnergiesAboveHop = [7094, 7100, 7106, 7109, 7115, 7120, 7122.5, 7125, 7127.5, 7130, 7133, 7136, 7161, 7167, 7173, 7179];

    /// <summary>The sample's edges: the Fe2+ edge moved by <paramref name="reducedShiftEv"/>, the Fe3+ by <paramref name="oxidisedShiftEv"/>,
    /// their white lines 10–20 % off (drawn from <paramref name="rng"/>).</summary>
    private static FeKEdgeModel Sample(double reducedShiftEv, double oxidisedShiftEv, Random rng)
    {
        var drawn = new EdgeMismatch(WhiteLines: true).Apply([References.Reduced, References.Oxidised], rng);
        return new FeKEdgeModel(drawn[0] with { EdgeEv = drawn[0].EdgeEv + reducedShiftEv, PreEdgeEv = drawn[0].PreEdgeEv + reducedShiftEv },
            drawn[1] with { EdgeEv = drawn[1].EdgeEv + oxidisedShiftEv, PreEdgeEv = drawn[1].PreEdgeEv + oxidisedShiftEv });
    }

    /// <summary>A charge planned and analysed as in a run (the dense scans kept, as the observation keeper keeps them).</summary>
    /// <returns>Every sparse scan's features with its true E0.</returns>
    private static List<(XasFeatures Features, double TrueEdgeEv)> Charge(FeKEdgeModel sample, double from, double to, int scans, Random rng)
    {
        var renderer = new XasSpectrumRenderer(sample);
        var analyzer = new XasEdgeAnalyzer(References);
        var planner = new EnergyRangePlanner(Window);
        var history = new List<XasFeatures>();
        var dense = new List<DenseXasScan>();
        var sparse = new List<(XasFeatures, double)>();
        for (var k = 0; k < scans; k++)
        {
            var fraction = from + (to - from) * k / (scans - 1);
            var plan = planner.NextScan(history);
            var mu = renderer.Render(plan.EnergiesEv, fraction, 1.0, 1.0, rng).Select(v => (double)v).ToArray();
            var features = analyzer.Analyze(plan.EnergiesEv, mu, dense);
            Assert.True(features.Usable, features.Flag);
            history.Add(features);
            if (DenseXasScan.From(plan.EnergiesEv, mu, features) is { } d) dense.Add(d);
            if (features.Sparse) sparse.Add((features, sample.EdgeEnergyEv(fraction)));
        }
        return sparse;
    }

    /// <summary>Charges on one side of the edge hop (f ≈ 0.46), below it from the Fe2+ end and above it from the Fe3+ end, with the
    /// references off in opposite directions: the sparse scans' E0 must be within 0.1 eV where the uncorrected one is not.</summary>
    [Theory]
    [InlineData(0.25, -0.25, 0.05, 0.35)]
    [InlineData(0.25, -0.25, 0.95, 0.6)]
    [InlineData(-0.3, -0.3, 0.05, 0.35)]
    public void Sparse_scans_get_the_offset_the_dense_scans_measured(double reducedShiftEv, double oxidisedShiftEv, double from, double to)
    {
        var corrected = new List<double>();
        var uncorrected = new List<double>();
        for (var seed = 1; seed <= 4; seed++)
        {
            var rng = new Random(seed);
            foreach (var (f, truth) in Charge(Sample(reducedShiftEv, oxidisedShiftEv, rng), from, to, 15, rng))
            {
                var correction = Assert.IsType<EdgeCorrection>(f.EdgeCorrection);
                Assert.True(correction.DenseScans >= 1);
                Assert.False(correction.Unmeasured, correction.Note);
                Assert.InRange(correction.SigmaEv, 0, 0.1);
                corrected.Add(Math.Abs(f.EdgeEnergyEv - truth));
                uncorrected.Add(Math.Abs(f.EdgeEnergyEv - correction.OffsetEv - truth));
            }
        }
        output.WriteLine($"sparse E0 MAE {corrected.Average():F3} eV corrected, {uncorrected.Average():F3} eV uncorrected, over {corrected.Count} scans");
        Assert.True(corrected.Average() < 0.1, $"corrected MAE {corrected.Average():F3} eV");
        Assert.True(uncorrected.Average() > 0.15, $"the uncorrected MAE {uncorrected.Average():F3} eV must show the references' offset, or the case tests nothing");
    }

    /// <summary>Matched references: nothing to correct, and the correction must not add an error of its own.</summary>
    [Fact]
    public void Matching_references_are_left_as_they_are()
    {
        var errors = new List<double>();
        for (var seed = 1; seed <= 4; seed++)
            errors.AddRange(Charge(References, 0.05, 0.35, 15, new Random(seed)).Select(s => Math.Abs(s.Features.EdgeEnergyEv - s.TrueEdgeEv)));
        Assert.True(errors.Average() < 0.02, $"MAE {errors.Average():F3} eV");
    }

    private static (double[] Energies, double[] Mu, XasFeatures Features) DenseScan(FeKEdgeModel sample, double fraction, int seed)
    {
        var energies = Window.FullGrid().ToArray();
        var mu = new XasSpectrumRenderer(sample).Render(energies, fraction, 1.0, 1.0, new Random(seed)).Select(v => (double)v).ToArray();
        var features = new XasEdgeAnalyzer(References).Analyze(energies, mu, []);
        Assert.True(features.Usable, features.Flag);
        return (energies, mu, features);
    }

    private static XasFeatures SparseScan(FeKEdgeModel sample, double fraction, IReadOnlyList<DenseXasScan> dense, int seed)
    {
        var mu = new XasSpectrumRenderer(sample).Render(SparseEnergies, fraction, 1.0, 1.0, new Random(seed)).Select(v => (double)v).ToArray();
        var features = new XasEdgeAnalyzer(References).Analyze(SparseEnergies, mu, dense);
        Assert.True(features.Sparse && features.Usable, features.Flag);
        return features;
    }

    /// <summary>A dense scan whose own E0 landed on the other derivative peak (as near the hop it may) is left out, so it cannot move the
    /// correction by the peaks' separation; so is one whose fraction ± 2σ straddles the hop.</summary>
    [Fact]
    public void A_dense_scan_on_the_other_peak_or_astride_the_hop_is_left_out()
    {
        // Edges moved only (no white lines off), so that the dense fractions' σ keeps them clear of the hop.
        var sample = new FeKEdgeModel(References.Reduced with { EdgeEv = References.Reduced.EdgeEv + 0.2 }, References.Oxidised with { EdgeEv = References.Oxidised.EdgeEv + 0.2 });
        var good = DenseScan(sample, 0.1, 1);
        var goodScan = DenseXasScan.From(good.Energies, good.Mu, good.Features)!;
        var alone = SparseScan(sample, 0.2, [goodScan], 7).EdgeCorrection!;

        var other = DenseScan(sample, 0.15, 2);
        var onTheOtherPeak = new DenseXasScan(other.Energies, other.Mu, other.Features with { EdgeEnergyEv = other.Features.EdgeEnergyEv + 3 });
        var astride = new DenseXasScan(other.Energies, other.Mu, other.Features with { OxidisedFraction = 0.46, OxidisedFractionSigma = 0.05 });
        var withBoth = SparseScan(sample, 0.2, [goodScan, onTheOtherPeak, astride], 7).EdgeCorrection!;

        output.WriteLine(alone.Note); output.WriteLine(withBoth.Note);
        Assert.Equal(alone.OffsetEv, withBoth.OffsetEv, 9);
        Assert.Equal(1, withBoth.DenseScans);
        Assert.Contains("2 dense scan(s) left out", withBoth.Note);
        Assert.Contains("on the other edge", withBoth.Note);
        Assert.Contains("straddles the edge hop", withBoth.Note);
        Assert.Equal(1, alone.DenseScans);
        Assert.InRange(alone.OffsetEv, 0.1, 0.3);
    }

    /// <summary>Dense scans on both sides of the hop measure both references' offsets, each where it matters: one side's offset does
    /// not leak into the other's E0.</summary>
    [Fact]
    public void Each_side_of_the_hop_gets_its_own_reference_s_offset()
    {
        var sample = Sample(0.25, -0.25, new Random(5));
        var dense = new[] { 0.1, 0.85 }.Select((f, i) => DenseScan(sample, f, 10 + i)).Select(d => DenseXasScan.From(d.Energies, d.Mu, d.Features)!).ToArray();
        var low = SparseScan(sample, 0.2, dense, 21);
        var high = SparseScan(sample, 0.75, dense, 22);
        output.WriteLine(low.EdgeCorrection!.Note);
        Assert.InRange(low.EdgeCorrection.OffsetEv, 0.1, 0.4);
        Assert.InRange(high.EdgeCorrection!.OffsetEv, -0.4, -0.1);
        Assert.InRange(low.EdgeEnergyEv - sample.EdgeEnergyEv(0.2), -0.1, 0.1);
        Assert.InRange(high.EdgeEnergyEv - sample.EdgeEnergyEv(0.75), -0.1, 0.1);
    }

    /// <summary>A sparse scan past the hop, on the edge no dense scan has measured yet (the run's one dense scan sits at f = 0.1), fits
    /// that reference's offset itself: its points cross both edges, so its E0 lands within 0.1 eV where the dense scans' offsets alone
    /// (the option off) leave the Fe3+ reference's −0.25 eV in it. The dense scans' σ still says the edge is unmeasured, so the
    /// planner still takes the dense scan that measures it.</summary>
    [Theory]
    [InlineData(0.25, -0.25)]
    [InlineData(0.3, 0.3)]
    public void A_sparse_scan_fits_the_offset_of_an_edge_no_dense_scan_has_measured(double reducedShiftEv, double oxidisedShiftEv)
    {
        var own = new List<double>();
        var denseOnly = new List<double>();
        var withoutFit = new XasEdgeAnalyzer(BatteryMaterials.FeKAbsorption with { References = [References.Reduced, References.Oxidised] },
            XasAnalyzerOptions.Default with { FitSparseShifts = false });
        for (var seed = 1; seed <= 4; seed++)
        {
            var sample = Sample(reducedShiftEv, oxidisedShiftEv, new Random(seed));
            var first = DenseScan(sample, 0.1, 100 + seed);
            var dense = new[] { DenseXasScan.From(first.Energies, first.Mu, first.Features)! };
            foreach (var fraction in new[] { 0.65, 0.75, 0.85 })
            {
                var truth = sample.EdgeEnergyEv(fraction);
                var mu = new XasSpectrumRenderer(sample).Render(SparseEnergiesAboveHop, fraction, 1.0, 1.0, new Random(10 * seed + (int)(10 * fraction))).Select(v => (double)v).ToArray();
                var fitted = new XasEdgeAnalyzer(References).Analyze(SparseEnergiesAboveHop, mu, dense);
                var unfitted = withoutFit.Analyze(SparseEnergiesAboveHop, mu, dense);
                Assert.True(fitted.Sparse && fitted.Usable && unfitted.Usable, fitted.Flag ?? unfitted.Flag);
                Assert.True(fitted.EdgeCorrection!.Unmeasured, fitted.EdgeCorrection.Note);
                Assert.Contains("this scan's own fit", fitted.EdgeCorrection.Note);
                own.Add(Math.Abs(fitted.EdgeEnergyEv - truth));
                denseOnly.Add(Math.Abs(unfitted.EdgeEnergyEv - truth));
            }
        }
        output.WriteLine($"sparse E0 MAE {own.Average():F3} eV with its own offsets, {denseOnly.Average():F3} eV with the dense scans' alone, over {own.Count} scans");
        Assert.True(own.Average() < 0.1, $"MAE {own.Average():F3} eV with the scan's own offsets");
        Assert.True(denseOnly.Average() > 0.15, $"the dense scans' offsets alone give {denseOnly.Average():F3} eV: the case must show the unmeasured edge, or it tests nothing");
    }

    [Fact]
    public void Without_dense_scans_kept_nothing_is_corrected_and_with_none_yet_the_correction_is_unmeasured()
    {
        var untracked = SparseScanWith(null);
        Assert.Null(untracked.EdgeCorrection);
        var none = SparseScanWith([]).EdgeCorrection!;
        Assert.Equal(0, none.OffsetEv);
        Assert.True(none.Unmeasured);
        Assert.Contains("no dense scan yet", none.Note);

        static XasFeatures SparseScanWith(IReadOnlyList<DenseXasScan>? dense)
        {
            var mu = new XasSpectrumRenderer(References).Render(SparseEnergies, 0.3, 1.0, 1.0, new Random(1)).Select(v => (double)v).ToArray();
            return new XasEdgeAnalyzer(References).Analyze(SparseEnergies, mu, dense);
        }
    }

    /// <summary>The correction goes to the journal with the observation: its value, its σ and the dense scans it rests on.</summary>
    [Fact]
    public void The_correction_is_stored_beside_the_data()
    {
        var sample = new FeKEdgeModel(References.Reduced with { EdgeEv = References.Reduced.EdgeEv + 0.2 }, References.Oxidised);
        var good = DenseScan(sample, 0.1, 1);
        var sparse = SparseScan(sample, 0.2, [DenseXasScan.From(good.Energies, good.Mu, good.Features)!], 7);
        var names = new XasEdgeAnalyzer(References).ReferenceNames;
        var stored = ObservationTarget.FeaturesOf(sparse, names);
        Assert.Equal(sparse.EdgeCorrection!.OffsetEv, stored["edge_correction_ev"]);
        Assert.Equal(sparse.EdgeCorrection.SigmaEv, stored["edge_correction_sigma_ev"]);
        Assert.Equal(1, stored["edge_correction_dense_scans"]);
        Assert.Equal(good.Features.ReferenceEdgeOffsetEv, ObservationTarget.FeaturesOf(good.Features, names)["reference_edge_offset_ev"]);
    }
}

using AutonomousBeamline.Core.Materials;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Learning.Tests.Features;

/// <summary>Scans too coarse for a derivative: the Fe3+ fraction is fitted with the two references and E0 follows from it.</summary>
public sealed class XasSparseScanTests
{
    private static readonly FeKEdgeModel Model = BatteryMaterials.FeKEdge;
    private static readonly XasEdgeAnalyzer Analyzer = new(Model);

    // 16 points as the planner lays them out: three on each line, 2.5 eV steps across both reference edges, the white line.
    private static readonly double[] Sparse =
        [7094, 7100, 7106, 7118, 7120.5, 7123, 7123.5, 7125.5, 7128, 7131, 7134, 7160, 7166, 7172, 7178, 7140];

    private static double[] SparseSorted => Sparse.Order().ToArray();

    private static double[] Render(double[] energies, double fraction, double noise, int seed) =>
        new XasSpectrumRenderer(Model, noise).Render(energies, fraction, 1.0, 1.0, new Random(seed)).Select(v => (double)v).ToArray();

    [Theory]
    [InlineData(0.05)]
    [InlineData(0.25)]
    [InlineData(0.70)]
    [InlineData(0.95)]
    public void Sixteen_noisy_points_place_the_edge_within_a_twentieth_of_an_eV(double fraction)
    {
        var energies = SparseSorted;
        var truth = Model.EdgeEnergyEv(fraction);
        var errors = new List<double>();
        for (var seed = 0; seed < 20; seed++)
        {
            var features = Analyzer.Analyze(energies, Render(energies, fraction, 0.004, seed));
            Assert.True(features.Usable, features.Flag);
            errors.Add(Math.Abs(features.EdgeEnergyEv - truth));
            Assert.InRange(features.OxidisedFraction, fraction - 0.05, fraction + 0.05);
            Assert.InRange(Math.Abs(features.OxidisedFraction - fraction), 0, 5 * features.OxidisedFractionSigma + 0.001);
            Assert.InRange(features.EdgeStep, 0.95, 1.05);
            Assert.InRange(features.WhiteLineEnergyEv, features.EdgeEnergyEv + 2, features.EdgeEnergyEv + 10);
        }
        Assert.True(errors.Average() < 0.05, $"mean edge error {errors.Average():F3} eV");
    }

    [Fact]
    public void A_raw_spectrum_with_a_sloping_background_and_any_scale_gives_the_same_edge()
    {
        var energies = SparseSorted;
        var normalised = Render(energies, 0.3, 0, 1);
        var raw = energies.Select((e, i) => 0.8 - 0.002 * (e - 7100) + 2.5 * normalised[i]).ToArray();
        var a = Analyzer.Analyze(energies, normalised);
        var b = Analyzer.Analyze(energies, raw);
        Assert.True(a.Usable && b.Usable, a.Flag ?? b.Flag);
        Assert.Equal(a.EdgeEnergyEv, b.EdgeEnergyEv, 3);
        Assert.Equal(0.3, b.OxidisedFraction, 3);
        Assert.Equal(2.5, b.EdgeStep, 3);
    }

    [Fact]
    public void The_edge_hops_with_the_fraction_even_when_the_points_sample_only_one_edge_closely()
    {
        // The mixture's derivative maximum jumps from the Fe2+ to the Fe3+ edge near f = 0.46; the points below sit closest to the
        // Fe2+ edge (the planner centred on the last, pre-hop, edge), yet the reported E0 lands on the right side on both sides of the hop.
        double[] energies = [7094, 7100, 7106, 7117, 7119.5, 7122, 7124.5, 7127, 7130, 7133, 7160, 7166, 7172, 7178];
        foreach (var (fraction, side) in new[] { (0.42, Model.Reduced.EdgeEv), (0.50, Model.Oxidised.EdgeEv) })
        for (var seed = 0; seed < 10; seed++)
        {
            var features = Analyzer.Analyze(energies, Render(energies, fraction, 0.004, seed));
            Assert.True(features.Usable, features.Flag);
            Assert.InRange(features.EdgeEnergyEv, side - 0.5, side + 0.5);
            Assert.True(Math.Abs(features.EdgeEnergyEv - Model.EdgeEnergyEv(fraction)) < 0.05,
                $"f {fraction}, seed {seed}: E0 {features.EdgeEnergyEv:F3} vs {Model.EdgeEnergyEv(fraction):F3} eV");
        }
    }

    [Fact]
    public void A_spectrum_the_references_cannot_describe_is_flagged_on_a_sparse_scan_but_not_on_a_dense_one()
    {
        // A 3 eV energy offset (a monochromator out of calibration): the fit cannot absorb it, so it must not report a fraction.
        // (Offsets of 1-2 eV leave residuals of 1-4 % of the step, below the default 5 % threshold that the 0.1 s dwell's noise needs.)
        var sparse = SparseSorted;
        var shifted = sparse.Select(e => Model.Mu(e - 3, 0.3)).ToArray();
        Assert.Equal(XasEdgeAnalyzer.FlagReferenceMisfit, Analyzer.Analyze(sparse, shifted).Flag);

        // A dense scan takes E0 from the data's own derivative, whatever the references say.
        var dense = Enumerable.Range(0, 181).Select(i => 7090 + 0.5 * i).ToArray();
        var features = Analyzer.Analyze(dense, dense.Select(e => Model.Mu(e - 3, 0.3)).ToArray());
        Assert.True(features.Usable, features.Flag);
        Assert.InRange(features.EdgeEnergyEv, Model.EdgeEnergyEv(0.3) + 3 - 0.15, Model.EdgeEnergyEv(0.3) + 3 + 0.15);
    }

    [Fact]
    public void The_sparse_path_is_taken_by_step_width_and_can_be_switched_off()
    {
        var dense = Enumerable.Range(0, 181).Select(i => 7090 + 0.5 * i).ToArray();
        var mu = dense.Select(e => Model.Mu(e, 0.3)).ToArray();
        var truth = Model.EdgeEnergyEv(0.3);
        var always = new XasEdgeAnalyzer(Model, XasAnalyzerOptions.Default with { SparseEdgeStepEv = 0 }).Analyze(dense, mu);
        var byDerivative = Analyzer.Analyze(dense, mu);
        // Noise-free, the reference fit recovers the fraction exactly; the derivative of a 0.5 eV grid does not land on E0 to the meV.
        Assert.Equal(0.3, always.OxidisedFraction, 6);
        Assert.Equal(truth, always.EdgeEnergyEv, 6);
        Assert.NotEqual(truth, byDerivative.EdgeEnergyEv, 6);

        var never = new XasEdgeAnalyzer(Model, XasAnalyzerOptions.Default with { SparseEdgeStepEv = double.PositiveInfinity });
        var sparse = SparseSorted;
        Assert.NotEqual(XasEdgeAnalyzer.FlagReferenceMisfit, never.Analyze(sparse, sparse.Select(e => Model.Mu(e - 3, 0.3)).ToArray()).Flag);

        Assert.Throws<ArgumentOutOfRangeException>(() => new XasEdgeAnalyzer(Model, XasAnalyzerOptions.Default with { SparseEdgeStepEv = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new XasEdgeAnalyzer(Model, XasAnalyzerOptions.Default with { MaximumReferenceMisfit = 0 }));
    }

    [Fact]
    public void A_sparse_scan_without_points_on_a_line_or_across_the_edge_is_incomplete()
    {
        double[] fewPre = [7100, 7106, 7118, 7120.5, 7123, 7125.5, 7128, 7131, 7134, 7160, 7166, 7172, 7178];
        Assert.Equal(XasEdgeAnalyzer.FlagIncomplete, Analyzer.Analyze(fewPre, Render(fewPre, 0.3, 0, 1)).Flag);
        double[] noEdge = [7090, 7094, 7098, 7100, 7104, 7106, 7115, 7131, 7140, 7150, 7160, 7166, 7172, 7178];
        Assert.Equal(XasEdgeAnalyzer.FlagIncomplete, Analyzer.Analyze(noEdge, Render(noEdge, 0.3, 0, 1)).Flag);
        var flat = SparseSorted.Select((_, i) => 0.5 + 0.001 * (i % 3)).ToArray();
        Assert.Equal(XasEdgeAnalyzer.FlagFlat, Analyzer.Analyze(SparseSorted, flat).Flag);
    }
}

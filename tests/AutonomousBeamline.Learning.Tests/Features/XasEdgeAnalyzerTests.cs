using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Core.Materials;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Simulators.Physics;
using Xunit.Abstractions;

namespace AutonomousBeamline.Learning.Tests.Features;

public sealed class XasEdgeAnalyzerTests(ITestOutputHelper output)
{
    private static readonly FeKEdgeModel Model = BatteryMaterials.FeKEdge;
    private static readonly XasEdgeAnalyzer Analyzer = new();

    // A typical XANES scan: coarse below the edge, fine across it, coarse above.
    private static readonly double[] Energies =
        Range(7050, 7100, 2.0).Concat(Range(7100, 7160, 0.2)).Concat(Range(7160, 7250, 2.0)).ToArray();

    private static IEnumerable<double> Range(double from, double to, double step)
    {
        for (var e = from; e < to - 1e-9; e += step) yield return Math.Round(e, 6);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(0.5)]
    public void Edge_position_is_found_within_a_tenth_of_an_eV_at_low_noise(double fraction)
    {
        var renderer = new XasSpectrumRenderer(noiseAtUnitDwell: 0.0005);
        var mu = renderer.Render(Energies, fraction, 1.0, 1.0, new Random(11));
        var features = Analyzer.Analyze(FrameFactory.Xas(Energies, mu));
        Assert.True(features.Usable, features.Flag);
        var expected = Model.EdgeEnergyEv(fraction);
        output.WriteLine($"f={fraction}: E0 {features.EdgeEnergyEv:F3} expected {expected:F3}; WL {features.WhiteLineEnergyEv:F2} eV height {features.WhiteLineHeight:F3}; fraction {features.OxidisedFraction:F3}±{features.OxidisedFractionSigma:F3}");
        Assert.InRange(features.EdgeEnergyEv, expected - 0.1, expected + 0.1);
    }

    [Fact]
    public void Oxidation_moves_the_edge_up_by_about_three_eV()
    {
        var renderer = new XasSpectrumRenderer(noiseAtUnitDwell: 0.0005);
        var rng = new Random(3);
        var reduced = Analyzer.Analyze(Energies, renderer.Render(Energies, 0, 1, 1, rng).Select(v => (double)v).ToArray());
        var oxidised = Analyzer.Analyze(Energies, renderer.Render(Energies, 1, 1, 1, rng).Select(v => (double)v).ToArray());
        Assert.InRange(reduced.EdgeEnergyEv, 7120.5, 7124);
        Assert.InRange(oxidised.EdgeEnergyEv - reduced.EdgeEnergyEv, 2.0, 4.0);
        Assert.InRange(reduced.WhiteLineEnergyEv, reduced.EdgeEnergyEv + 2, reduced.EdgeEnergyEv + 12);
        Assert.True(reduced.WhiteLineHeight > 1.2, $"white line {reduced.WhiteLineHeight}");
    }

    [Fact]
    public void Oxidised_fraction_follows_the_mixture_at_realistic_noise()
    {
        var renderer = new XasSpectrumRenderer();
        var rng = new Random(5);
        var errors = new List<double>();
        for (var i = 0; i <= 10; i++)
        {
            var truth = i / 10.0;
            var features = Analyzer.Analyze(FrameFactory.Xas(Energies, renderer.Render(Energies, truth, 0.5, 1, rng)));
            Assert.True(features.Usable, features.Flag);
            errors.Add(Math.Abs(features.OxidisedFraction - truth));
            Assert.InRange(features.OxidisedFractionSigma, 1e-5, 0.05);
        }
        output.WriteLine($"MAE {errors.Average():F4}");
        Assert.True(errors.Average() < 0.02, $"MAE {errors.Average()}");
    }

    [Fact]
    public void Raw_unnormalised_spectrum_is_normalised_first()
    {
        // Transmission μ: an offset, a falling pre-edge slope and an arbitrary edge step of 0.8.
        var mu = Energies.Select(e => 1.3 - 0.0004 * (e - 7050) + 0.8 * Model.Mu(e, 0.3)).ToArray();
        var features = Analyzer.Analyze(Energies, mu);
        Assert.True(features.Usable, features.Flag);
        Assert.InRange(features.EdgeStep, 0.75, 0.85);
        Assert.InRange(features.OxidisedFraction, 0.27, 0.33);
    }

    [Fact]
    public void No_beam_spectrum_is_flagged_empty()
    {
        var mu = new XasSpectrumRenderer().Render(Energies, 0.5, 1, 0, new Random(1));
        Assert.Equal(XasEdgeAnalyzer.FlagEmpty, Analyzer.Analyze(FrameFactory.Xas(Energies, mu)).Flag);
    }

    [Fact]
    public void Noise_without_an_edge_is_flagged_flat()
    {
        var rng = new Random(9);
        var mu = Energies.Select(_ => 0.5 + 0.01 * (rng.NextDouble() - 0.5)).ToArray();
        Assert.Equal(XasEdgeAnalyzer.FlagFlat, Analyzer.Analyze(Energies, mu).Flag);
    }

    [Fact]
    public void Scan_that_misses_the_post_edge_is_flagged_incomplete()
    {
        var energies = Range(7050, 7130, 0.5).ToArray();
        var mu = energies.Select(e => Model.Mu(e, 0.5)).ToArray();
        Assert.Equal(XasEdgeAnalyzer.FlagIncomplete, Analyzer.Analyze(energies, mu).Flag);
    }

    [Fact]
    public void Malformed_input_is_flagged()
    {
        var mu = Energies.Select(e => Model.Mu(e, 0.5)).ToArray();
        var withNaN = (double[])mu.Clone();
        withNaN[40] = double.NaN;
        Assert.Equal(XasEdgeAnalyzer.FlagNonFinite, Analyzer.Analyze(Energies, withNaN).Flag);
        Assert.Equal(XasEdgeAnalyzer.FlagWrongLength, Analyzer.Analyze(Energies, mu[..^1]).Flag);
        var unsorted = (double[])Energies.Clone();
        (unsorted[10], unsorted[11]) = (unsorted[11], unsorted[10]);
        Assert.Equal(XasEdgeAnalyzer.FlagUnsorted, Analyzer.Analyze(unsorted, mu).Flag);
        var xrdKind = FrameFactory.Xas(Energies, mu.Select(v => (float)v).ToArray());
        xrdKind = xrdKind with { Header = xrdKind.Header with { Kind = FrameKind.Xrd } };
        Assert.Equal(XasEdgeAnalyzer.FlagWrongKind, Analyzer.Analyze(xrdKind).Flag);
    }
}

public sealed class XasEdgeRefinementTests
{
    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.0, 0.25)]
    [InlineData(1.0, 0.1)]
    [InlineData(0.9, 0.35)]
    public void The_cubic_inflection_finds_the_edge_between_grid_points_better_than_the_derivative_parabola(double fraction, double gridOffsetEv)
    {
        var model = BatteryMaterials.FeKEdge;
        var energies = Enumerable.Range(0, 181).Select(i => 7090 + gridOffsetEv + 0.5 * i).ToArray();
        var mu = energies.Select(e => model.Mu(e, fraction)).ToArray();
        var truth = model.EdgeEnergyEv(fraction);
        var refined = new XasEdgeAnalyzer(model).Analyze(energies, mu);
        var parabola = new XasEdgeAnalyzer(model, XasAnalyzerOptions.Default with { EdgeFitHalfWidthEv = 0 }).Analyze(energies, mu);
        Assert.True(refined.Usable && parabola.Usable);
        var refinedError = Math.Abs(refined.EdgeEnergyEv - truth);
        var parabolaError = Math.Abs(parabola.EdgeEnergyEv - truth);
        Assert.True(refinedError <= 0.08, $"refined E0 off by {refinedError:F3} eV");
        Assert.True(refinedError <= parabolaError + 0.005, $"refined {refinedError:F3} eV vs parabola {parabolaError:F3} eV");
    }
}

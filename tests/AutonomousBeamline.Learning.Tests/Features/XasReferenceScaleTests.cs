using AutonomousBeamline.Core.Materials;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Learning.Tests.Features;

/// <summary>A dense scan checks the references' energy scale: its own derivative E0 against the edge the references give its mixture.</summary>
public sealed class XasReferenceScaleTests
{
    private static readonly FeKEdgeModel Model = BatteryMaterials.FeKEdge;
    private static readonly double[] Dense = Enumerable.Range(0, 181).Select(i => 7090 + 0.5 * i).ToArray();

    /// <summary>The sample's spectrum moved up by <paramref name="shiftEv"/> against the references (a monochromator calibration off).</summary>
    private static double MeanOffset(double shiftEv, double fraction)
    {
        var analyzer = new XasEdgeAnalyzer(Model);
        var offsets = new List<double>();
        for (var seed = 0; seed < 12; seed++)
        {
            var mu = new XasSpectrumRenderer(Model, 0.004).Render(Dense.Select(e => e - shiftEv).ToArray(), fraction, 1.0, 1.0, new Random(seed));
            var features = analyzer.Analyze(Dense, mu.Select(v => (double)v).ToArray());
            Assert.True(features.Usable, features.Flag);
            Assert.True(double.IsFinite(features.ReferenceEdgeEv), "a dense scan with two references gives the references' edge");
            offsets.Add(features.ReferenceEdgeOffsetEv);
        }
        return offsets.Average();
    }

    [Theory]
    [InlineData(0.2)]
    [InlineData(0.7)]
    public void Matching_references_sit_on_the_data_s_own_edge(double fraction) =>
        Assert.InRange(MeanOffset(0, fraction), -0.08, 0.08);

    [Theory]
    [InlineData(0.3, 0.2)]
    [InlineData(-0.4, 0.7)]
    public void References_off_the_monochromator_s_scale_show_as_an_offset(double shiftEv, double fraction) =>
        Assert.InRange(MeanOffset(shiftEv, fraction), shiftEv - 0.1, shiftEv + 0.1);

    [Fact]
    public void A_sparse_scan_has_no_check_of_its_own()
    {
        double[] sparse = [7094, 7100, 7106, 7118, 7120.5, 7123, 7123.5, 7125.5, 7128, 7131, 7134, 7140, 7160, 7166, 7172, 7178];
        var mu = new XasSpectrumRenderer(Model, 0.004).Render(sparse, 0.4, 1.0, 1.0, new Random(1));
        var features = new XasEdgeAnalyzer(Model).Analyze(sparse, mu.Select(v => (double)v).ToArray());
        Assert.True(features.Usable, features.Flag);
        Assert.True(double.IsNaN(features.ReferenceEdgeOffsetEv));
    }
}

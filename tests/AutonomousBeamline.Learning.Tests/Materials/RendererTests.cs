using AutonomousBeamline.Core.Materials;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Learning.Tests.Materials;

/// <summary>The renderers live with the simulators, but they are the learning side's physics, so they are checked here.</summary>
public sealed class RendererTests
{
    [Fact]
    public void Xrd_frames_are_reproducible_for_a_seed()
    {
        var renderer = new XrdPatternRenderer();
        Assert.Equal(renderer.Render(0.4, 1, 1, new Random(3)), renderer.Render(0.4, 1, 1, new Random(3)));
        Assert.NotEqual(renderer.Render(0.4, 1, 1, new Random(3)), renderer.Render(0.4, 1, 1, new Random(4)));
    }

    [Fact]
    public void Xrd_shutter_closed_frame_has_only_dark_counts()
    {
        var frame = new XrdPatternRenderer().Render(0.5, 1, 0, new Random(1));
        Assert.Equal(BatteryMaterials.DefaultXrdAxis.N, frame.Length);
        Assert.True(frame.Average(v => v) < 0.2, $"mean {frame.Average(v => v)}");
    }

    [Fact]
    public void Xrd_relative_noise_shrinks_with_exposure_and_beam()
    {
        var renderer = new XrdPatternRenderer(options: XrdRendererOptions.Default with { StrainSigma = 0, WidthJitter = 0, BackgroundJitter = 0 });
        double RelativeNoise(double exposure, double scale)
        {
            var a = renderer.Render(0.5, exposure, scale, new Random(1));
            var b = renderer.Render(0.5, exposure, scale, new Random(2));
            var diff = Math.Sqrt(a.Zip(b, (x, y) => (double)(x - y) * (x - y)).Average());
            return diff / a.Average(v => v);
        }
        Assert.True(RelativeNoise(4, 1) < 0.6 * RelativeNoise(1, 1));
        Assert.True(RelativeNoise(1, 0.25) > 1.6 * RelativeNoise(1, 1));
    }

    [Fact]
    public void Xrd_peaks_of_each_phase_follow_the_fraction()
    {
        var renderer = new XrdPatternRenderer();
        var axis = renderer.Axis;
        var lfp200 = Bragg.TwoThetaDeg(BatteryMaterials.LiFePO4Lattice.DSpacing(2, 0, 0), 0.5)!.Value;
        var bin = (int)Math.Round((lfp200 - axis.Start) / axis.Step);
        var lithiated = renderer.Render(0, 10, 1, new Random(1))[bin];
        var delithiated = renderer.Render(1, 10, 1, new Random(1))[bin];
        Assert.True(lithiated > 3 * delithiated, $"LiFePO4 (200) {lithiated} vs FePO4 frame {delithiated}");
    }

    [Fact]
    public void Renderers_refuse_bad_arguments_by_name()
    {
        var xrd = new XrdPatternRenderer();
        Assert.Equal("exposureS", Assert.Throws<ArgumentOutOfRangeException>(() => xrd.Render(0.5, 0, 1, new Random())).ParamName);
        Assert.Equal("signalScale", Assert.Throws<ArgumentOutOfRangeException>(() => xrd.Render(0.5, 1, -1, new Random())).ParamName);
        Assert.Equal("fePO4Fraction", Assert.Throws<ArgumentOutOfRangeException>(() => xrd.Render(double.NaN, 1, 1, new Random())).ParamName);
        var xas = new XasSpectrumRenderer();
        Assert.Equal("dwellS", Assert.Throws<ArgumentOutOfRangeException>(() => xas.Render([7100.0], 0.5, 0, 1, new Random())).ParamName);
    }

    [Fact]
    public void Xas_noise_shrinks_with_dwell_and_no_beam_gives_zeros()
    {
        var energies = Enumerable.Range(0, 200).Select(i => 7050.0 + i).ToArray();
        var renderer = new XasSpectrumRenderer();
        var model = BatteryMaterials.FeKEdge;
        double Noise(double dwell) => Math.Sqrt(renderer.Render(energies, 0.5, dwell, 1, new Random(1))
            .Select((v, i) => (v - model.Mu(energies[i], 0.5)) * (v - model.Mu(energies[i], 0.5))).Average());
        Assert.True(Noise(16) < 0.5 * Noise(1));
        Assert.All(renderer.Render(energies, 0.5, 1, 0, new Random(1)), v => Assert.Equal(0f, v));
    }
}

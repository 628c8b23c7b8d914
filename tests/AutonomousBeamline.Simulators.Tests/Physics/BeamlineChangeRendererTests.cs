using AutonomousBeamline.Core.Materials;
using AutonomousBeamline.Simulators.Physics;
using Microsoft.Extensions.Time.Testing;

namespace AutonomousBeamline.Simulators.Tests.Physics;

public sealed class BeamlineChangeRendererTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 20, 0, 0, TimeSpan.Zero);

    [Fact]
    public void From_the_change_on_the_patterns_are_the_other_wavelengths_on_the_same_axis()
    {
        var time = new FakeTimeProvider(Start);
        var axis = BatteryMaterials.DefaultXrdAxis;
        var before = new XrdPatternRenderer(axis, SimulatedDiffraction.Olivines);
        var after = new XrdPatternRenderer(axis, SimulatedDiffraction.Olivines with { Beam = new XrayBeam(0.55) });
        var changing = new BeamlineChangeRenderer(before, after, Start + TimeSpan.FromMinutes(10), time);

        int Strongest(float[] counts) => Array.IndexOf(counts, counts.Max());
        var early = Strongest(changing.Render(0, 20, 1, new Random(1)));
        time.Advance(TimeSpan.FromMinutes(10));
        var late = Strongest(changing.Render(0, 20, 1, new Random(1)));

        Assert.Equal(axis, changing.Axis);
        Assert.Equal(Strongest(before.Render(0, 20, 1, new Random(1))), early);
        // A longer wavelength puts every reflection at a higher angle.
        Assert.True(axis[late] > axis[early] * 1.05, $"strongest peak at {axis[early]}° before, {axis[late]}° after");
    }

    [Fact]
    public void Renderers_on_different_axes_are_refused()
    {
        var axis = BatteryMaterials.DefaultXrdAxis;
        var other = new XrdPatternRenderer(axis with { Step = axis.Step * 2 }, SimulatedDiffraction.Olivines);
        var ex = Assert.Throws<ArgumentException>(() =>
            new BeamlineChangeRenderer(new XrdPatternRenderer(axis, SimulatedDiffraction.Olivines), other, Start, new FakeTimeProvider(Start)));
        Assert.Contains("axis", ex.Message);
    }
}

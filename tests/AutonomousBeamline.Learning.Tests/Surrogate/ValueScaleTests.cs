using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Learning.Tests.Surrogate;

public sealed class ValueScaleTests
{
    [Fact]
    public void Values_spread_uniformly_over_a_range_have_about_that_range()
    {
        var values = Enumerable.Range(0, 1001).Select(i => (8.0 + 0.05 * i / 1000.0, 1e-4));
        Assert.Equal(0.05, ValueScale.For(MapValues.Raw, values), 3);
    }

    [Fact]
    public void A_flat_field_is_measured_to_its_noise()
    {
        var values = Enumerable.Range(0, 50).Select(_ => (8333.0, 0.1));
        Assert.Equal(0.1, ValueScale.For(MapValues.Raw, values), 9);
    }

    [Fact]
    public void Fractions_are_on_their_own_scale_and_too_few_values_give_one_unit()
    {
        var values = new[] { (8.0, 0.1), (9.0, 0.1) };
        Assert.Equal(1, ValueScale.For(MapValues.TwoPhaseShape, values));
        Assert.Equal(1, ValueScale.For(MapValues.DeviationFromStateOfCharge, values));
        Assert.Equal(1, ValueScale.For(MapValues.Raw, values.Take(1)));
        Assert.Equal(1, ValueScale.For(MapValues.Raw, [(2.0, 0), (2.0, double.NaN)]));
    }
}

using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Learning.Tests.Features;

/// <summary>What a target's map holds, in which unit, and that its map is fitted as that quantity, not as a share.</summary>
public sealed class ObservationTargetTests
{
    [Theory]
    [InlineData("phase_fraction", "deg", "")]
    [InlineData("xas_fraction", "eV", "")]
    [InlineData("lattice_parameter", "deg", "angstrom")]
    [InlineData("peak_position", "deg", "degree")]
    [InlineData("peak_position", "1/A", "1/angstrom")]
    [InlineData("edge_position", "eV", "eV")]
    public void Each_target_has_its_unit_a_peak_position_the_detector_axis(string kind, string axisUnit, string unit) =>
        Assert.Equal(unit, ObservationTarget.Parse(kind, "NMC811", null).UnitOf(axisUnit));

    [Fact]
    public void A_component_score_is_a_share()
    {
        var target = ObservationTarget.Parse("component_score", null, null, component: 2);
        Assert.Equal(new MapQuantity("share of component 2", ""), target.Quantity("deg"));
    }

    [Fact]
    public void The_quantity_is_the_newest_target_observations()
    {
        var target = ObservationTarget.Parse("peak_position", "NMC811", null);
        var pattern = TestObservations.Make(1, 1, 0.3, 6.06) with { Target = "peak position of NMC811", TargetUnit = "degree" };
        var spectrum = TestObservations.Make(1, 1, 0.3, 0.4, 2) with { Kind = FrameKind.Xas };

        Assert.Equal(new MapQuantity("peak position of NMC811", "degree"), target.QuantityOf([pattern, spectrum]));
        // Before any: the target alone (a peak position's unit is the axis', which only a frame tells).
        Assert.Equal(new MapQuantity("peak position of NMC811", ""), target.QuantityOf([]));
    }

    [Fact]
    public void A_peak_positions_map_is_fitted_as_a_position_not_clipped_to_a_share()
    {
        var target = ObservationTarget.Parse("peak_position", "NMC811", null);
        // The (003) peak moving from 6.04 to 6.10° as the lattice shrinks with the local state of charge.
        var observations = TestObservations.Random(60, (x, y, soc) => 6.04 + 0.06 * soc + 0.002 * x, seed: 3);

        var map = ForestPhaseMap.Fit(observations, 1, target.MapOptions(seed: 1))!;
        var (mean, spread) = map.Predict(10, 5, 0.5);

        Assert.InRange(mean, 6.05, 6.10);
        Assert.InRange(spread, 0, 0.05);
        // The options of a share would have clipped it: what the report drew before it fitted the target's own map.
        Assert.True(ForestPhaseMap.Fit(observations, 1, ForestPhaseMapOptions.Default)!.Predict(10, 5, 0.5).Mean <= 1);
    }
}

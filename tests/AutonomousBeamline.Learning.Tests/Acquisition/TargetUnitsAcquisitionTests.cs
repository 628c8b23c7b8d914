using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Learning.Tests.Acquisition;

/// <summary>
/// A target in its own unit (a lattice parameter in Å, an edge in eV): the forest's distance term and the planner's noise, distance
/// weight and nonlinearity floor are written on a fraction's scale, and must follow the values' scale, so that the same field
/// measured in another unit, or offset, is sampled at the same spots.
/// </summary>
public sealed class TargetUnitsAcquisitionTests
{
    private static readonly RoiSearchSpace Space = new(0, 10, 0, 6, 0.5);
    private static readonly ForestPhaseMapOptions RawMap = new(NormaliseByTwoPhaseWeight: false, LearnDeviationFromStateOfCharge: false);

    // A field on a fraction's scale: a slope and a disc 0.3 higher.
    private static double Field(double x, double y) =>
        0.3 + 0.02 * x + ((x - 6.5) * (x - 6.5) + (y - 3) * (y - 3) < 2.2 * 2.2 ? 0.3 : 0);

    /// <summary>Runs the planner with the forest refitted on every frame, measuring offset + unit·field with noise σ = unit·0.005.</summary>
    private static List<(double X, double Y)> Run(double offset, double unit, int frames)
    {
        IPhaseMap? map = null;
        var planner = new LearnerRoiPlanner(Space, () => map, new AxisSpeeds(2, 2), seed: 5, new LearnerPlannerOptions(Values: RawMap.Values));
        var noise = new Random(11);
        var observations = new List<Observation>();
        var (x, y) = (5.0, 3.0);
        for (var k = 0; k < frames; k++)
        {
            var decision = planner.NextRoi(observations, new RoiContext(x, y, 0.5, 1));
            (x, y) = (decision.Values["x_mm"], decision.Values["y_mm"]);
            var value = offset + unit * (Field(x, y) + 0.005 * Gaussian(noise));
            observations.Add(TestObservations.Make(x, y, 0.5, value, k) with { PhaseFractionSigma = unit * 0.005 });
            map = ForestPhaseMap.Fit(observations, k + 1, RawMap);
        }
        return observations.Select(o => (o.XMm, o.YMm)).ToList();
    }

    private static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    [Fact]
    public void The_same_field_in_another_unit_and_offset_is_sampled_at_the_same_spots()
    {
        var asFraction = Run(offset: 0, unit: 1, frames: 30);
        // A lattice parameter about 3 Å that varies by hundredths of an ångström.
        var inAngstrom = Run(offset: 3.0, unit: 0.01, frames: 30);
        var same = asFraction.Zip(inAngstrom).Count(p => p.First == p.Second);
        Assert.True(same >= 27, $"{same} of 30 spots the same; first differing at frame {asFraction.Zip(inAngstrom).TakeWhile(p => p.First == p.Second).Count()}");
    }

    [Fact]
    public void The_forest_distance_term_follows_the_values_scale()
    {
        var frames = Space.GridPoints().Where((_, i) => i % 7 == 0).Select((g, i) => TestObservations.Make(g.X, g.Y, 0.5, Field(g.X, g.Y), i)).ToList();
        var scaled = frames.Select(o => o with { PhaseFraction = 3.0 + 0.01 * o.PhaseFraction, PhaseFractionSigma = 0.01 * o.PhaseFractionSigma }).ToList();
        var fraction = ForestPhaseMap.Fit(frames, 1, RawMap)!;
        var angstrom = ForestPhaseMap.Fit(scaled, 1, RawMap)!;
        Assert.Equal(0.01 * fraction.ValueScale, angstrom.ValueScale, 6);
        // Far outside the frames (the distance term at its cap) and near them, the spread scales as the values do.
        foreach (var (x, y) in new[] { (40.0, 40.0), (2.2, 1.3) })
            Assert.Equal(0.01 * fraction.Predict(x, y, 0.5).Spread, angstrom.Predict(x, y, 0.5).Spread, 4);
    }

    [Fact]
    public void A_fractions_map_keeps_its_own_scale()
    {
        var frames = Space.GridPoints().Where((_, i) => i % 7 == 0).Select((g, i) => TestObservations.Make(g.X, g.Y, 0.5, Field(g.X, g.Y), i)).ToList();
        Assert.Equal(1, ForestPhaseMap.Fit(frames, 1, ForestPhaseMapOptions.Default with { NormaliseByTwoPhaseWeight = false })!.ValueScale);
        Assert.Equal(1, ForestPhaseMap.Fit(frames, 1)!.ValueScale);
    }
}

using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Learning.Tests.Surrogate;

public sealed class HybridPhaseMapTests
{
    // Not the simulator's field: a tilted front (a sharp step) plus a smooth ripple, on the 20 x 10 mm test electrode.
    private static double Shape(double x, double y) => 0.3 * Math.Tanh((x - 0.5 * y - 8) / 0.4) + 0.15 * Math.Sin(y / 1.7);

    private static double Truth(double x, double y, double soc) => Math.Clamp(soc + Shape(x, y) * 4 * soc * (1 - soc), 0, 1);

    private static IEnumerable<(double X, double Y)> Grid()
    {
        for (var x = 0.25; x < 20; x += 0.5)
        for (var y = 0.25; y < 10; y += 0.5)
            yield return (x, y);
    }

    private static double Rmse(IPhaseMap map, double soc) =>
        Math.Sqrt(Grid().Average(p => Math.Pow(map.Predict(p.X, p.Y, soc).Mean - Truth(p.X, p.Y, soc), 2)));

    [Fact]
    public void The_smooth_correction_makes_the_map_better_than_the_forest_alone()
    {
        var observations = TestObservations.Random(120, Truth, seed: 1, noise: 0.01);
        var hybrid = HybridPhaseMap.Fit(observations, 3)!;
        Assert.Equal(3, hybrid.Version);
        foreach (var soc in new[] { 0.3, 0.5 })
            Assert.True(Rmse(hybrid, soc) < 0.85 * Rmse(hybrid.Forest, soc), $"hybrid {Rmse(hybrid, soc):F4}, forest {Rmse(hybrid.Forest, soc):F4} at SOC {soc}");
    }

    [Fact]
    public void Its_90_percent_intervals_cover_about_90_percent_of_held_out_spots()
    {
        foreach (var seed in new[] { 2, 3 })
        {
            var map = HybridPhaseMap.Fit(TestObservations.Random(150, Truth, seed, noise: 0.01), 1)!;
            var inside = Grid().Count(p =>
            {
                var (mean, spread) = map.Predict(p.X, p.Y, 0.5);
                return Math.Abs(mean - Truth(p.X, p.Y, 0.5)) <= IntervalCalibration.Z90 * spread;
            });
            Assert.InRange((double)inside / Grid().Count(), 0.8, 0.98);
        }
    }

    [Fact]
    public void The_error_it_targets_is_largest_along_the_front()
    {
        var map = HybridPhaseMap.Fit(TestObservations.Random(100, Truth, seed: 4, noise: 0.01), 1)!;
        double[] xs = [.. Enumerable.Range(0, 41).Select(i => i * 0.5)];
        double[] ys = [.. Enumerable.Range(0, 21).Select(j => j * 0.5)];
        var grid = map.SpreadGrid(xs, ys, 0.5);
        // At the spacing of the frames: on the front (x = 8 + y/2) against far from it.
        double At(double x, double y) => grid.Spread((int)Math.Round(y / 0.5) * xs.Length + (int)Math.Round(x / 0.5), map.TypicalSpacingMm);
        var onFront = new[] { (10.5, 5.0), (9.0, 2.0), (12.0, 8.0) }.Average(p => At(p.Item1, p.Item2));
        var flat = new[] { (2.0, 5.0), (18.0, 5.0), (17.0, 2.0) }.Average(p => At(p.Item1, p.Item2));
        Assert.True(onFront > 2 * flat, $"front {onFront:F4}, flat {flat:F4}");
    }

    [Fact]
    public void The_planner_plans_on_it_through_the_normalised_fast_path()
    {
        var observations = TestObservations.Random(60, Truth, seed: 5, noise: 0.01);
        IPhaseMap map = HybridPhaseMap.Fit(observations, 1)!;
        var planner = new LearnerRoiPlanner(new RoiSearchSpace(0, 20, 0, 10, 0.5), () => map, new AxisSpeeds(2, 2), seed: 1);
        var decision = planner.NextRoi(observations, new RoiContext(10, 5, 0.5, 0.5));
        Assert.Equal(1, decision.ModelVersion);
        Assert.Contains("most map variance removed", decision.Reason);
    }

    [Fact]
    public void Needs_a_normalised_forest_and_sane_settings()
    {
        var observations = TestObservations.Random(20, Truth, seed: 6);
        Assert.Throws<ArgumentException>(() => HybridPhaseMap.Fit(observations, 1,
            HybridPhaseMapOptions.Default with { Forest = ForestPhaseMapOptions.Default with { NormaliseByTwoPhaseWeight = false } }));
        Assert.Throws<ArgumentOutOfRangeException>(() => HybridPhaseMap.Fit(observations, 1, HybridPhaseMapOptions.Default with { Coverage = 1.2 }));
        Assert.Null(HybridPhaseMap.Fit(observations.Take(2).ToList(), 1));
    }
}

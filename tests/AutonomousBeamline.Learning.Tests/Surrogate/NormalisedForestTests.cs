using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Surrogate;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Learning.Tests.Surrogate;

public sealed class NormalisedForestTests
{
    private static readonly ElectrodeField Field = new(4, 0, 20, 0, 10);

    private static Observation At(double x, double y, double soc, double cRate, int i) =>
        TestObservations.Make(x, y, soc, Field.LocalStateOfCharge(x, y, soc, cRate), i) with { CRate = cRate };

    private static double Rmse(IPhaseMap map, double soc, double cRate)
    {
        var squares = new List<double>();
        for (var x = 0.0; x <= 20; x += 1)
        for (var y = 0.0; y <= 10; y += 1)
        {
            var e = map.Predict(x, y, soc).Mean - Field.LocalStateOfCharge(x, y, soc, cRate);
            squares.Add(e * e);
        }
        return Math.Sqrt(squares.Average());
    }

    [Fact]
    public void Frames_from_early_in_the_charge_predict_the_map_later_on()
    {
        // Frames only between 10 and 25 % state of charge, where the deviations are small; judged at 50 and 70 %, where nothing was measured.
        var rng = new Random(3);
        var observations = Enumerable.Range(0, 150).Select(i => At(rng.NextDouble() * 20, rng.NextDouble() * 10, 0.1 + 0.15 * rng.NextDouble(), 1.0, i)).ToList();
        var normalised = ForestPhaseMap.Fit(observations, 1)!;
        var legacy = ForestPhaseMap.Fit(observations, 1, ForestPhaseMapOptions.Default with { NormaliseByTwoPhaseWeight = false })!;
        foreach (var soc in new[] { 0.5, 0.7 })
        {
            var n = Rmse(normalised, soc, 1.0);
            var l = Rmse(legacy, soc, 1.0);
            Assert.True(n < 0.04, $"normalised RMSE {n:F4} at SOC {soc}");
            Assert.True(n < 0.8 * l, $"normalised {n:F4} vs plain {l:F4} at SOC {soc}");
        }
    }

    [Fact]
    public void An_empty_or_full_cell_is_homogeneous_and_certain()
    {
        var rng = new Random(4);
        var observations = Enumerable.Range(0, 60).Select(i => At(rng.NextDouble() * 20, rng.NextDouble() * 10, 0.3 + 0.4 * rng.NextDouble(), 1.0, i)).ToList();
        var map = ForestPhaseMap.Fit(observations, 1)!;
        Assert.True(map.IsNormalised);
        Assert.Equal((0.0, 0.0), map.Predict(7, 3, 0.0));
        Assert.Equal((1.0, 0.0), map.Predict(7, 3, 1.0));
        Assert.True(map.Predict(7, 3, 0.5).Spread > 0);
    }

    [Fact]
    public void The_c_rate_is_a_model_input()
    {
        // The simulated inhomogeneity grows with rate: 0.15 + 0.12·|C|, so 2C deviates 1.56 times as much as 0.5C.
        var rng = new Random(5);
        var observations = new List<Observation>();
        for (var i = 0; i < 240; i++)
            observations.Add(At(rng.NextDouble() * 20, rng.NextDouble() * 10, 0.2 + 0.6 * rng.NextDouble(), i % 2 == 0 ? 0.5 : 2.0, i));
        var map = ForestPhaseMap.Fit(observations, 1)!;
        Assert.Equal(2.0, map.DefaultCRate);
        var slow = new List<double>();
        var fast = new List<double>();
        for (var x = 1.0; x < 20; x += 2)
        for (var y = 1.0; y < 10; y += 2)
        {
            slow.Add(Math.Abs(map.Predict(x, y, 0.5, 0.5).Mean - 0.5));
            fast.Add(Math.Abs(map.Predict(x, y, 0.5, -2.0).Mean - 0.5));
        }
        var ratio = fast.Average() / slow.Average();
        Assert.InRange(ratio, 1.3, 1.8);
    }

    [Fact]
    public void Frames_at_an_almost_empty_cell_are_left_out_of_a_normalised_fit()
    {
        var observations = TestObservations.Random(20, (_, _, s) => s, seed: 1);
        observations.Add(TestObservations.Make(1, 1, 0.01, 0.02, 50));
        observations.Add(TestObservations.Make(2, 2, 0.99, 0.98, 51));
        Assert.Equal(20, ForestPhaseMap.Fit(observations, 1)!.ObservationCount);
        Assert.Equal(22, ForestPhaseMap.Fit(observations, 1, ForestPhaseMapOptions.Default with { NormaliseByTwoPhaseWeight = false })!.ObservationCount);
    }

    [Fact]
    public void Bad_normalisation_settings_are_named()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ForestPhaseMap.Fit([], 1, ForestPhaseMapOptions.Default with { MinimumTwoPhaseWeight = 1.5 }));
        Assert.Equal(nameof(ForestPhaseMapOptions.MinimumTwoPhaseWeight), error.ParamName);
        error = Assert.Throws<ArgumentOutOfRangeException>(() => ForestPhaseMap.Fit([], 1, ForestPhaseMapOptions.Default with { CRateScale = 0 }));
        Assert.Equal(nameof(ForestPhaseMapOptions.CRateScale), error.ParamName);
    }
}

public sealed class ForestGridEvaluationTests
{
    [Fact]
    public void The_spread_on_a_grid_equals_the_spread_point_by_point()
    {
        var field = new ElectrodeField(9, 0, 20, 0, 10);
        var rng = new Random(9);
        var observations = Enumerable.Range(0, 120).Select(i =>
        {
            var x = rng.NextDouble() * 20; var y = rng.NextDouble() * 10; var soc = 0.2 + 0.6 * rng.NextDouble(); var c = i % 3 == 0 ? 2.0 : 1.0;
            return TestObservations.Make(x, y, soc, field.LocalStateOfCharge(x, y, soc, c), i) with { CRate = c };
        }).ToList();
        var map = ForestPhaseMap.Fit(observations, 1)!;
        var xs = Enumerable.Range(0, 41).Select(i => i * 0.5).ToArray();
        var ys = Enumerable.Range(0, 21).Select(j => j * 0.5).ToArray();
        foreach (var c in new[] { 1.0, 2.0, 1.5 })
        {
            var grid = map.ShapeSpreadOnGrid(xs, ys, c);
            for (var j = 0; j < ys.Length; j++)
            for (var i = 0; i < xs.Length; i++)
                Assert.Equal(map.ShapeStatistics(xs[i], ys[j], c).Spread, grid[j * xs.Length + i], 12);
        }
        Assert.Throws<ArgumentException>(() => map.ShapeSpreadOnGrid([1, 0], ys, 1));
    }
}

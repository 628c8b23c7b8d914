using AutonomousBeamline.Learning.Surrogate;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;

namespace AutonomousBeamline.Learning.Tests.Surrogate;

public sealed class ForestPhaseMapTests
{
    private static double Smooth(double x, double y, double soc) => Math.Clamp(soc + 0.15 * Math.Sin(x / 4) * Math.Cos(y / 3), 0, 1);

    // The earlier surrogate: trees over (x, y, soc) on the deviation from the state of charge, for fields that do not follow the two-phase physics.
    private static readonly ForestPhaseMapOptions Legacy = ForestPhaseMapOptions.Default with { NormaliseByTwoPhaseWeight = false };

    [Fact]
    public void Walking_the_trees_gives_the_same_mean_as_MLNET()
    {
        var observations = TestObservations.Random(80, Smooth, seed: 2);
        var options = new ForestPhaseMapOptions(NumberOfTrees: 20, NumberOfLeaves: 12, Seed: 5, LearnDeviationFromStateOfCharge: false, NormaliseByTwoPhaseWeight: false);
        var map = ForestPhaseMap.Fit(observations, 1, options)!;

        // The same trainer settings, through ML.NET's own prediction path.
        var ml = new MLContext(seed: 5);
        var rows = observations.Select(o => new Row { Features = [(float)o.XMm, (float)o.YMm, (float)o.StateOfCharge], Label = (float)o.PhaseFraction });
        var model = ml.Regression.Trainers.FastForest(new FastForestRegressionTrainer.Options
        {
            NumberOfTrees = 20, NumberOfLeaves = 12, MinimumExampleCountPerLeaf = 2, FeatureFraction = 1.0,
            NumberOfThreads = 1, Seed = 5, FeatureSelectionSeed = 5,
        }).Fit(ml.Data.LoadFromEnumerable(rows));
        var engine = ml.Model.CreatePredictionEngine<Row, Score>(model);
        var rng = new Random(9);
        for (var i = 0; i < 50; i++)
        {
            var probe = new Row { Features = [(float)(rng.NextDouble() * 20), (float)(rng.NextDouble() * 10), (float)rng.NextDouble()] };
            var expected = engine.Predict(probe).Value;
            var (mean, _) = map.PredictTrees(probe.Features[0], probe.Features[1], probe.Features[2]);
            Assert.Equal(expected, mean, 4);
        }
    }

    [Fact]
    public void Forest_learns_a_smooth_field()
    {
        var map = ForestPhaseMap.Fit(TestObservations.Random(400, Smooth, seed: 3, noise: 0.02), 1, Legacy)!;
        var rng = new Random(4);
        var squares = Enumerable.Range(0, 300).Select(_ =>
        {
            var x = rng.NextDouble() * 20; var y = rng.NextDouble() * 10; var soc = 0.1 + 0.8 * rng.NextDouble();
            var error = map.Predict(x, y, soc).Mean - Smooth(x, y, soc);
            return error * error;
        });
        var rmse = Math.Sqrt(squares.Average());
        Assert.True(rmse < 0.08, $"RMSE {rmse}");
    }

    [Fact]
    public void Spread_grows_away_from_the_data_only_with_the_distance_term()
    {
        // Data only in the left half at mid charge; probe a point far to the right and at another charge.
        var rng = new Random(6);
        var observations = Enumerable.Range(0, 60).Select(i =>
        {
            var x = rng.NextDouble() * 8; var y = rng.NextDouble() * 10; var soc = 0.4 + 0.2 * rng.NextDouble();
            return TestObservations.Make(x, y, soc, Smooth(x, y, soc), i);
        }).ToList();
        var withDistance = ForestPhaseMap.Fit(observations, 1, new ForestPhaseMapOptions(DistanceSpreadPerUnit: 0.05, NormaliseByTwoPhaseWeight: false))!;
        var treesOnly = ForestPhaseMap.Fit(observations, 1, new ForestPhaseMapOptions(DistanceSpreadPerUnit: 0, NormaliseByTwoPhaseWeight: false))!;

        var near = (X: 4.0, Y: 5.0, Soc: 0.5);
        var far = (X: 19.0, Y: 5.0, Soc: 0.9);
        var nearSpread = withDistance.Predict(near.X, near.Y, near.Soc).Spread;
        var farSpread = withDistance.Predict(far.X, far.Y, far.Soc).Spread;
        Assert.True(farSpread > nearSpread + 0.05, $"far {farSpread} near {nearSpread}");

        // Without the term the far point is no more uncertain than its nearest leaf: trees extend their edges.
        var farTrees = treesOnly.Predict(far.X, far.Y, far.Soc).Spread;
        Assert.Equal(treesOnly.PredictTrees(far.X, far.Y, far.Soc).Spread, farTrees, 12);
        Assert.True(farSpread - farTrees > 0.1, $"distance term added only {farSpread - farTrees}");
    }

    [Fact]
    public void Too_few_observations_give_no_map()
    {
        Assert.Null(ForestPhaseMap.Fit(TestObservations.Random(3, Smooth, seed: 1), 1));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(7)]
    public void The_smallest_fits_give_finite_predictions(int count)
    {
        var map = ForestPhaseMap.Fit(TestObservations.Random(count, Smooth, seed: count), 1)!;
        Assert.Equal(count, map.ObservationCount);
        var (mean, spread) = map.Predict(10, 5, 0.5);
        Assert.InRange(mean, 0, 1);
        Assert.True(double.IsFinite(spread) && spread >= 0);
    }

    [Fact]
    public void Identical_targets_give_a_constant_map_without_tree_spread()
    {
        var observations = Enumerable.Range(0, 10).Select(i => TestObservations.Make(i, i, 0.5, 0.3, i)).ToList();
        var map = ForestPhaseMap.Fit(observations, 7)!;
        Assert.Equal(7, map.Version);
        var (mean, spread) = map.PredictTrees(3, 3, 0.5);
        Assert.Equal(0.3, mean, 6);
        Assert.Equal(0, spread, 9);
    }

    [Fact]
    public void Non_finite_observations_are_left_out()
    {
        var observations = TestObservations.Random(30, Smooth, seed: 8);
        observations.Add(TestObservations.Make(1, 1, 0.5, double.NaN, 99));
        observations.Add(TestObservations.Make(double.PositiveInfinity, 1, 0.5, 0.5, 100));
        var map = ForestPhaseMap.Fit(observations, 1)!;
        Assert.Equal(30, map.ObservationCount);
        Assert.True(double.IsFinite(map.Predict(1, 1, 0.5).Mean));
    }

    [Fact]
    public void Same_data_and_seed_give_the_same_map()
    {
        var observations = TestObservations.Random(50, Smooth, seed: 10);
        var a = ForestPhaseMap.Fit(observations, 1)!;
        var b = ForestPhaseMap.Fit(observations, 2)!;
        Assert.Equal(a.Predict(5, 5, 0.3), b.Predict(5, 5, 0.3));
    }

    [Fact]
    public void Invalid_options_are_rejected_with_the_name_of_the_setting()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ForestPhaseMap.Fit(TestObservations.Random(10, Smooth, 1), 1, new ForestPhaseMapOptions(NumberOfTrees: 0)));
        Assert.Equal("NumberOfTrees", error.ParamName);
    }

    private sealed class Row
    {
        [VectorType(3)] public float[] Features { get; set; } = [];
        public float Label { get; set; }
    }

    private sealed class Score
    {
        [ColumnName("Score")] public float Value { get; set; }
    }
}

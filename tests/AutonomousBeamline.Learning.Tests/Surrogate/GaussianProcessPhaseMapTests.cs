using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Surrogate;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Learning.Tests.Surrogate;

public sealed class GaussianProcessPhaseMapTests
{
    private static readonly ElectrodeField Field = new(8, 0, 10, 0, 10);

    private static List<Observation> Frames(int count, int seed, double noise = 0.005)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            var x = rng.NextDouble() * 10; var y = rng.NextDouble() * 10; var soc = 0.15 + 0.7 * rng.NextDouble();
            var fraction = Field.LocalStateOfCharge(x, y, soc, 1.0) + noise * (2 * rng.NextDouble() - 1);
            return TestObservations.Make(x, y, soc, fraction, i) with { CRate = 1.0 };
        }).ToList();
    }

    private static double Rmse(IPhaseMap map)
    {
        var squares = new List<double>();
        for (var x = 0.0; x <= 10; x += 0.5)
        for (var y = 0.0; y <= 10; y += 0.5)
        foreach (var soc in new[] { 0.3, 0.5, 0.7 })
        {
            var e = map.Predict(x, y, soc).Mean - Field.LocalStateOfCharge(x, y, soc, 1.0);
            squares.Add(e * e);
        }
        return Math.Sqrt(squares.Average());
    }

    [Fact]
    public void A_smooth_field_is_learned_better_than_by_the_forest_from_the_same_frames()
    {
        var observations = Frames(80, seed: 1);
        var gp = GaussianProcessPhaseMap.Fit(observations, 1)!;
        var forest = ForestPhaseMap.Fit(observations, 1)!;
        var gpError = Rmse(gp);
        var forestError = Rmse(forest);
        Assert.True(gpError < 0.6 * forestError, $"GP {gpError:F4} vs forest {forestError:F4}");
        Assert.True(gpError < 0.015, $"GP {gpError:F4}");
    }

    [Fact]
    public void Spread_is_small_at_the_data_and_grows_away_from_it()
    {
        // Frames only in the left half.
        var observations = Frames(60, seed: 2).Where(o => o.XMm < 5).ToList();
        var map = GaussianProcessPhaseMap.Fit(observations, 1)!;
        var atData = map.Predict(observations[0].XMm, observations[0].YMm, 0.5).Spread;
        var far = map.Predict(9.9, 5, 0.5).Spread;
        Assert.True(far > 3 * atData, $"far {far:F4}, at data {atData:F4}");
        Assert.Equal(0, map.Predict(9.9, 5, 0.0).Spread, 12);
    }

    [Fact]
    public void Same_frames_give_the_same_map_and_too_few_give_none()
    {
        var observations = Frames(30, seed: 3);
        Assert.Equal(GaussianProcessPhaseMap.Fit(observations, 1)!.Predict(3, 4, 0.5), GaussianProcessPhaseMap.Fit(observations, 2)!.Predict(3, 4, 0.5));
        Assert.Null(GaussianProcessPhaseMap.Fit(observations.Take(3).ToList(), 1));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => GaussianProcessPhaseMap.Fit(observations, 1, new GaussianProcessOptions(LengthScalesMm: [1, -2])));
        Assert.Equal(nameof(GaussianProcessOptions.LengthScalesMm), error.ParamName);
    }

    [Fact]
    public async Task The_trainer_can_run_it_in_the_background()
    {
        using var trainer = new PhaseMapTrainer(fit: (o, v) => GaussianProcessPhaseMap.Fit(o, v));
        trainer.AddRange(Frames(40, seed: 4));
        await trainer.WhenIdleAsync();
        var map = Assert.IsType<GaussianProcessPhaseMap>(trainer.Current);
        Assert.Equal(40, map.ObservationCount);
    }
}

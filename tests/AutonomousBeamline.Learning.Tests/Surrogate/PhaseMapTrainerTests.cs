using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Learning.Tests.Surrogate;

public sealed class PhaseMapTrainerTests
{
    private static double Field(double x, double y, double soc) => Math.Clamp(soc + 0.1 * Math.Sin(x / 3), 0, 1);

    [Fact]
    public async Task Background_fit_publishes_a_model_once_enough_observations_arrive()
    {
        using var trainer = new PhaseMapTrainer();
        var observations = TestObservations.Random(12, Field, seed: 1);
        foreach (var o in observations.Take(3)) trainer.Add(o);
        await trainer.WhenIdleAsync();
        Assert.Null(trainer.Current);

        foreach (var o in observations.Skip(3)) trainer.Add(o);
        await trainer.WhenIdleAsync();
        var map = Assert.IsType<HybridPhaseMap>(trainer.Current);
        Assert.Equal(12, map.ObservationCount);
        Assert.Null(trainer.LastError);
    }

    [Fact]
    public async Task Versions_increase_with_every_fit_and_the_newest_model_covers_all_data()
    {
        using var trainer = new PhaseMapTrainer();
        var published = new List<int>();
        trainer.Published += m => { lock (published) published.Add(m.Version); };
        var observations = TestObservations.Random(200, Field, seed: 2);
        // Adds from several threads while fits run: none may be lost and versions must only go up.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = t; i < observations.Count; i += 4) trainer.Add(observations[i]);
        })));
        await trainer.WhenIdleAsync();
        var map = Assert.IsType<HybridPhaseMap>(trainer.Current);
        Assert.Equal(200, map.ObservationCount);
        // The forest underneath is refitted after a 10 % growth, so it lags the newest map by less than that.
        Assert.InRange(map.Forest.ObservationCount, 200 / (1 + HybridPhaseMapFitter.DefaultForestRefitGrowth), 200);
        Assert.Equal(200, trainer.ObservationCount);
        lock (published)
        {
            Assert.NotEmpty(published);
            Assert.Equal(published.OrderBy(v => v), published);
            Assert.Equal(published.Distinct().Count(), published.Count);
            Assert.Equal(map.Version, published[^1]);
        }
    }

    [Fact]
    public void Synchronous_fit_returns_a_new_version_each_time()
    {
        using var trainer = new PhaseMapTrainer();
        var observations = TestObservations.Random(20, Field, seed: 3);
        var first = trainer.Fit(observations)!;
        var second = trainer.Fit(observations)!;
        Assert.True(second.Version > first.Version);
        Assert.Same(second, trainer.Current);
        Assert.Null(trainer.Fit(observations.Take(2).ToList()));
        Assert.Same(second, trainer.Current);
    }

    [Fact]
    public void Planner_source_reads_the_newest_model()
    {
        using var trainer = new PhaseMapTrainer();
        var source = trainer.CurrentSource;
        Assert.Null(source());
        var map = trainer.Fit(TestObservations.Random(20, Field, seed: 4));
        Assert.Same(map, source());
    }

    [Fact]
    public void Adding_after_dispose_is_refused()
    {
        var trainer = new PhaseMapTrainer();
        trainer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => trainer.Add(TestObservations.Make(1, 1, 0.5, 0.5)));
    }

    [Fact]
    public async Task Frames_after_a_published_map_check_its_intervals()
    {
        using var trainer = new PhaseMapTrainer();
        var observations = TestObservations.Random(60, Field, seed: 4, noise: 0.01);
        trainer.AddRange(observations.Take(40));
        await trainer.WhenIdleAsync();
        Assert.Null(trainer.Calibration);
        foreach (var o in observations.Skip(40)) trainer.Add(o);
        await trainer.WhenIdleAsync();
        var calibration = Assert.IsType<MapCalibration>(trainer.Calibration);
        Assert.Equal(20, calibration.Checked);
        Assert.InRange(calibration.Coverage, 0, 1);
        Assert.Contains("of the last 20 new frames", calibration.ToString());
    }

    [Fact]
    public async Task A_forest_that_is_not_normalised_is_published_alone()
    {
        using var trainer = new PhaseMapTrainer(ForestPhaseMapOptions.Default with { NormaliseByTwoPhaseWeight = false });
        trainer.AddRange(TestObservations.Random(20, Field, seed: 5));
        await trainer.WhenIdleAsync();
        Assert.IsType<ForestPhaseMap>(trainer.Current);
    }

    [Fact]
    public async Task Each_map_is_handed_to_Publishing_before_it_becomes_current()
    {
        using var trainer = new PhaseMapTrainer();
        var before = new List<(int Version, bool AlreadyCurrent)>();
        trainer.Publishing += m => { lock (before) before.Add((m.Version, ReferenceEquals(trainer.Current, m))); };
        trainer.Publishing += _ => throw new InvalidOperationException("a reader failed");
        var observations = TestObservations.Random(30, Field, seed: 6);
        trainer.AddRange(observations.Take(20));
        await trainer.WhenIdleAsync();
        foreach (var o in observations.Skip(20)) trainer.Add(o);
        await trainer.WhenIdleAsync();
        var current = Assert.IsType<HybridPhaseMap>(trainer.Current);
        lock (before)
        {
            Assert.NotEmpty(before);
            Assert.All(before, b => Assert.False(b.AlreadyCurrent));
            Assert.Equal(current.Version, before[^1].Version);
        }
        // A handler that throws does not keep the map from being published; the trainer says what went wrong.
        Assert.Equal(30, current.ObservationCount);
        Assert.Contains("a reader failed", trainer.LastError?.Message);
    }
}

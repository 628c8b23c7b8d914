using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Learning.Tests.Surrogate;

public sealed class HybridPhaseMapFitterTests
{
    // A front and a ripple, unlike the simulator's field.
    private static double Truth(double x, double y, double soc) =>
        Math.Clamp(soc + (0.3 * Math.Tanh((x - 0.5 * y - 8) / 0.6) + 0.1 * Math.Cos(y / 1.3)) * 4 * soc * (1 - soc), 0, 1);

    // A small spline window so that the tests slide it (drop old centres) quickly; few trees to keep the forest fits short.
    private static readonly HybridPhaseMapOptions Options = HybridPhaseMapOptions.Default with
    {
        MaximumSplineObservations = 40,
        Forest = ForestPhaseMapOptions.Default with { NumberOfTrees = 20 },
    };

    private static readonly (double X, double Y)[] Probes = [(1, 1), (7.5, 3.2), (12, 8), (18.5, 5), (10, 0.5)];

    [Fact]
    public void Frame_after_frame_it_publishes_the_map_a_fit_from_scratch_would()
    {
        var observations = TestObservations.Random(90, Truth, seed: 11, noise: 0.01);
        // Some frames come back to spots measured before (a centre with several frames, whose weight changes as they leave).
        for (var i = 50; i < observations.Count; i += 6)
            observations[i] = observations[i] with { XMm = observations[i - 30].XMm, YMm = observations[i - 30].YMm };
        var fitter = new HybridPhaseMapFitter(Options, forestRefitGrowth: 0);
        var seen = new List<Observation>();
        var incremental = 0;
        foreach (var observation in observations)
        {
            seen.Add(observation);
            var map = fitter.Fit(seen.ToArray(), seen.Count);
            var fresh = HybridPhaseMap.Fit(seen, seen.Count, Options);
            if (fresh is null) { Assert.Null(map); continue; }
            Assert.NotNull(map);
            if (fitter.LastFitWasIncremental) incremental++;
            Assert.Equal(fresh.Version, map.Version);
            Assert.Equal(fresh.ObservationCount, map.ObservationCount);
            Assert.Equal(fresh.LeaveOneOutRmse, map.LeaveOneOutRmse, 6);
            Assert.Equal(fresh.CalibrationScale, map.CalibrationScale, 5);
            foreach (var (x, y) in Probes)
            {
                var (mean, spread) = map.Predict(x, y, 0.5);
                var (freshMean, freshSpread) = fresh.Predict(x, y, 0.5);
                Assert.Equal(freshMean, mean, 6);
                Assert.Equal(freshSpread, spread, 6);
            }
        }
        Assert.True(incremental > 50, $"only {incremental} of the fits updated the spline's systems");
        // With no growth allowed, the forest was refitted on every fit (from the first with enough frames).
        Assert.Equal(observations.Count - Options.EffectiveForest.MinimumObservations + 1, fitter.ForestFits);
    }

    [Fact]
    public void The_forest_is_refitted_only_after_the_frames_grew_by_the_given_share()
    {
        var observations = TestObservations.Random(60, Truth, seed: 12, noise: 0.01);
        var fitter = new HybridPhaseMapFitter(Options, forestRefitGrowth: 0.2);
        var first = fitter.Fit(observations.Take(30).ToArray(), 1)!;
        Assert.True(fitter.LastFitRefittedForest);
        Assert.Equal(30, first.Forest.ObservationCount);
        var refits = new List<int>();
        for (var n = 31; n <= 60; n++)
        {
            var map = fitter.Fit(observations.Take(n).ToArray(), n)!;
            // Every map is a new model with its own version and all frames in its correction; its forest may be older.
            Assert.Equal(n, map.Version);
            Assert.Equal(n, map.ObservationCount);
            Assert.True(map.Forest.Version <= map.Version);
            if (fitter.LastFitRefittedForest) refits.Add(n);
            Assert.True(map.Forest.ObservationCount * 1.2 >= n, $"the forest of the map on {n} frames was fitted on {map.Forest.ObservationCount}");
        }
        // 30 → more than 36 → more than 44.4 → more than 54: refits at 37, 45 and 55.
        Assert.Equal([37, 45, 55], refits);
    }

    [Fact]
    public void Observations_that_do_not_continue_the_last_ones_start_afresh()
    {
        var run = TestObservations.Random(40, Truth, seed: 13, noise: 0.01);
        var other = TestObservations.Random(45, Truth, seed: 14, noise: 0.01);
        var fitter = new HybridPhaseMapFitter(Options, forestRefitGrowth: 1.0);
        fitter.Fit(run, 1);
        var map = fitter.Fit(other, 2)!;
        Assert.True(fitter.LastFitRefittedForest);
        Assert.False(fitter.LastFitWasIncremental);
        var fresh = HybridPhaseMap.Fit(other, 2, Options)!;
        foreach (var (x, y) in Probes) Assert.Equal(fresh.Predict(x, y, 0.4).Mean, map.Predict(x, y, 0.4).Mean, 6);
    }

    [Fact]
    public void A_second_rate_brings_the_rate_into_the_spline_and_the_fits_stay_those_from_scratch()
    {
        var observations = TestObservations.Random(75, Truth, seed: 15, noise: 0.01)
            .Select((o, i) => i < 45 ? o : o with { CRate = 2.0 }).ToList();
        var fitter = new HybridPhaseMapFitter(Options, forestRefitGrowth: 0);
        for (var n = 30; n <= observations.Count; n++)
        {
            var seen = observations.Take(n).ToArray();
            var map = fitter.Fit(seen, n)!;
            var fresh = HybridPhaseMap.Fit(seen, n, Options)!;
            Assert.Equal(fresh.DefaultCRate, map.DefaultCRate);
            foreach (var (x, y) in Probes)
            foreach (var rate in new[] { 0.5, 2.0 })
                Assert.Equal(fresh.Predict(x, y, 0.6, rate).Mean, map.Predict(x, y, 0.6, rate).Mean, 6);
            // The first frame at the new rate makes the points three-dimensional: a new window, not an update.
            if (n == 46) Assert.False(fitter.LastFitWasIncremental);
            if (n == 60) Assert.True(fitter.LastFitWasIncremental);
        }
    }

    [Fact]
    public void A_negative_growth_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HybridPhaseMapFitter(Options, forestRefitGrowth: -0.1));
    }
}

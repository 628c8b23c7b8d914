using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Learning.Tests.Acquisition;

public sealed class CRatePlannerTests
{
    private static readonly ElectrodeField Field = new(6, 0, 20, 0, 10);

    private static List<Observation> Frames(double cRate, int count, int seed, int start = 0)
    {
        var rng = new Random(seed);
        return Enumerable.Range(start, count).Select(i =>
        {
            var x = rng.NextDouble() * 20; var y = rng.NextDouble() * 10; var soc = 0.2 + 0.6 * rng.NextDouble();
            return TestObservations.Make(x, y, soc, Field.LocalStateOfCharge(x, y, soc, cRate), i) with { CRate = cRate };
        }).ToList();
    }

    [Fact]
    public void Never_proposes_a_rate_outside_the_allowed_set_or_above_the_envelope()
    {
        var planner = new CRatePlanner([0.5, 1.0, 2.0, 3.0], maxCRate: 2.0);
        Assert.Equal([0.5, 1.0, 2.0], planner.Rates);
        var rng = new Random(1);
        var observations = new List<Observation>();
        for (var step = 0; step < 12; step++)
        {
            var decision = planner.NextCRate(observations, rng.NextDouble(), charging: step % 2 == 0);
            var rate = decision.Values["c_rate"];
            Assert.Contains(rate, new[] { 0.5, 1.0, 2.0 });
            Assert.Equal(DecisionKind.CRate, decision.Kind);
            Assert.Equal(2, decision.Alternatives.Count);
            Assert.All(decision.Alternatives, a => Assert.True(a.Values["c_rate"] <= 2.0 && a.Score <= decision.Score));
            Assert.False(string.IsNullOrWhiteSpace(decision.Reason));
            Assert.DoesNotContain('\n', decision.Reason);
            // The step runs at the proposed rate (discharge steps carry a negative sign).
            observations.AddRange(Frames(step % 2 == 0 ? rate : -rate, 15, seed: step, start: observations.Count));
        }
    }

    [Fact]
    public void An_untried_rate_is_chosen_over_a_well_measured_one()
    {
        var planner = new CRatePlanner([0.5, 1.0, 2.0], maxCRate: 3.0);
        var observations = Frames(1.0, 60, seed: 2).Concat(Frames(2.0, 60, seed: 3, start: 60)).ToList();
        var decision = planner.NextCRate(observations, 0.1, charging: true);
        Assert.Equal(0.5, decision.Values["c_rate"]);
        Assert.Contains("only 0 frames so far", decision.Reason);
    }

    [Fact]
    public void The_inhomogeneity_estimate_grows_with_rate_as_the_simulated_electrode_does()
    {
        var planner = new CRatePlanner([0.5, 2.0], maxCRate: 3.0);
        var observations = Frames(0.5, 80, seed: 4).Concat(Frames(-2.0, 80, seed: 5, start: 80)).ToList();
        var estimates = planner.Estimate(observations);
        Assert.Equal(80, estimates[0].Samples);
        Assert.Equal(80, estimates[1].Samples);
        // Amplitude 0.15 + 0.12·|C|: 0.21 at 0.5C, 0.39 at 2C.
        var ratio = estimates[1].Inhomogeneity / estimates[0].Inhomogeneity;
        Assert.InRange(ratio, 0.39 / 0.21 * 0.85, 0.39 / 0.21 * 1.15);
        Assert.True(estimates[0].Uncertainty < estimates[0].Inhomogeneity / 5);
    }

    [Fact]
    public void Same_observations_give_the_same_decision()
    {
        var observations = Frames(1.0, 30, seed: 6);
        var a = new CRatePlanner([0.5, 1.0, 2.0], 3).NextCRate(observations, 0.4, true);
        var b = new CRatePlanner([0.5, 1.0, 2.0], 3).NextCRate(observations, 0.4, true);
        Assert.Equal(a, b with { Values = a.Values, Alternatives = a.Alternatives });
        Assert.Equal(a.Values, b.Values);
        Assert.Equal(a.Alternatives.Select(o => o.Score), b.Alternatives.Select(o => o.Score));
    }

    [Fact]
    public void Bad_configuration_is_named()
    {
        var error = Assert.Throws<ArgumentException>(() => new CRatePlanner([2.5, 3.0], maxCRate: 2.0));
        Assert.Contains("maximum of 2C", error.Message);
        Assert.Throws<ArgumentException>(() => new CRatePlanner([1.0, -1.0], maxCRate: 2.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CRatePlanner([1.0], maxCRate: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CRatePlanner([1.0], 2).NextCRate([], double.NaN, true));
    }

    [Fact]
    public void The_first_choice_comes_from_the_priors()
    {
        // No frame yet. With the default, broad priors the fast rate teaches most per hour: its step is short and the response
        // there is the least known (the slope's uncertainty grows with rate). With priors that already pin the response to a
        // few thousandths, what is left is fine detail, learned per frame; a frame at the slow rate, where the unevenness is
        // smaller, is the more precise one and the slow step yields more of them.
        var broad = new CRatePlanner([0.5, 1.0, 2.0], 2.0);
        var pinned = new CRatePlanner([0.5, 1.0, 2.0], 2.0, CRatePlannerOptions.Default with { PriorSpread = 0.002, ModelDiscrepancy = 0.002 });
        var a = broad.NextCRate([], 0.1, charging: true);
        var b = pinned.NextCRate([], 0.1, charging: true);
        Assert.Equal(2.0, a.Values["c_rate"]);
        Assert.Equal(0.5, b.Values["c_rate"]);
        Assert.Contains("only 0 frames so far", b.Reason);
    }

    [Fact]
    public void What_the_frames_teach_about_the_response_grows_with_frames_at_more_rates()
    {
        var planner = new CRatePlanner([0.5, 1.0, 2.0], 2.0);
        Assert.Equal(0, planner.ResponseInformation([]), 9);
        var one = planner.ResponseInformation(Frames(1.0, 60, seed: 7));
        var two = planner.ResponseInformation(Frames(1.0, 60, seed: 7).Concat(Frames(2.0, 60, seed: 8, start: 60)).ToList());
        Assert.True(one > 0 && two > one, $"one rate {one:F2} nats, two rates {two:F2} nats");
    }
}

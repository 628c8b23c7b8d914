using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Surrogate;
using AutonomousBeamline.Simulators.Physics;
using Moq;

namespace AutonomousBeamline.Learning.Tests.Acquisition;

/// <summary>What the learner must never do: measure where the operator said no, overdose a spot, or plan for a past state of charge.</summary>
public sealed class LearnerConstraintsTests
{
    private static readonly RoiSearchSpace Space = new(0, 20, 0, 10, 1);
    private static readonly AxisSpeeds Speeds = new(2, 2);

    private static (double X, double Y) Spot(Decision d) => (d.Values["x_mm"], d.Values["y_mm"]);

    /// <summary>A map that is sure everywhere but around one spot.</summary>
    private static IPhaseMap PeakedMap(double px, double py)
    {
        var map = new Mock<IPhaseMap>();
        map.SetupGet(m => m.Version).Returns(2);
        map.Setup(m => m.Predict(It.IsAny<double>(), It.IsAny<double>(), It.IsAny<double>()))
            .Returns((double x, double y, double _) => (0.5, Math.Abs(x - px) <= 1 && Math.Abs(y - py) <= 1 ? 0.3 : 0.01));
        return map.Object;
    }

    [Fact]
    public void An_excluded_rectangle_is_never_proposed_and_the_reason_says_so()
    {
        var planner = new LearnerRoiPlanner(Space, () => PeakedMap(15, 5), Speeds, options: new LearnerPlannerOptions(DistanceWeight: 0));
        var observations = TestObservations.Random(20, (_, _, s) => s, seed: 1);
        Assert.Equal((15.0, 5.0), Spot(planner.NextRoi(observations, new RoiContext(10, 5, 0.5, 1))));

        planner.Exclude(new RoiRectangle(13, 17, 3, 7));
        var decision = planner.NextRoi(observations, new RoiContext(10, 5, 0.5, 1));
        var all = decision.Alternatives.Select(a => (a.Values["x_mm"], a.Values["y_mm"])).Append(Spot(decision));
        Assert.All(all, s => Assert.False(s.Item1 is >= 13 and <= 17 && s.Item2 is >= 3 and <= 7, $"{s} is excluded"));
        Assert.Contains("25 spots excluded by the operator", decision.Reason);

        planner.ClearExclusions();
        Assert.Empty(planner.Exclusions);
        Assert.Equal((15.0, 5.0), Spot(planner.NextRoi(observations, new RoiContext(10, 5, 0.5, 1))));
    }

    [Fact]
    public async Task Exclusions_added_from_many_threads_are_all_kept()
    {
        var planner = new LearnerRoiPlanner(Space, () => null, Speeds);
        var observations = new List<Observation>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            for (var k = 0; k < 25; k++)
            {
                planner.Exclude(new RoiRectangle(t, t + 0.1, k % 10, k % 10 + 0.1));
                if (k % 5 == 0) planner.NextRoi(observations, new RoiContext(0, 0, 0.5, 1));
            }
        })));
        Assert.Equal(200, planner.Exclusions.Count);
    }

    [Fact]
    public void Cold_start_also_honours_exclusions()
    {
        var planner = new LearnerRoiPlanner(Space, () => null, Speeds);
        planner.Exclude(new RoiRectangle(8, 12, 3, 7));
        var first = Spot(planner.NextRoi([], new RoiContext(0, 0, 0.5, 1)));
        Assert.False(first.X is >= 8 and <= 12 && first.Y is >= 3 and <= 7, $"{first} lies in the excluded centre");
    }

    [Fact]
    public void Invalid_rectangles_are_rejected_with_their_edges()
    {
        var planner = new LearnerRoiPlanner(Space, () => null, Speeds);
        var error = Assert.Throws<ArgumentException>(() => planner.Exclude(new RoiRectangle(5, 2, 0, 1)));
        Assert.Contains("x 5..2", error.Message);
        Assert.Throws<ArgumentException>(() => planner.Exclude(new RoiRectangle(double.NaN, 2, 0, 1)));
    }

    [Fact]
    public void A_spot_that_used_its_dose_budget_is_not_measured_again()
    {
        // The model insists (15, 5) is the only uncertain spot, but it has had 3 x 20 s of a 60 s budget.
        var options = new LearnerPlannerOptions(DistanceWeight: 0, DoseBudgetS: 60, DoseRadiusMm: 0.5, FrameExposureS: 20);
        var planner = new LearnerRoiPlanner(Space, () => PeakedMap(15, 5), Speeds, options: options);
        var observations = TestObservations.Random(20, (_, _, s) => s, seed: 2);
        observations.Add(TestObservations.Make(15, 5, 0.3, 0.3, 100) with { ExposureS = 20 });
        observations.Add(TestObservations.Make(15, 5, 0.4, 0.4, 101) with { ExposureS = 20 });
        Assert.Equal((15.0, 5.0), Spot(planner.NextRoi(observations, new RoiContext(10, 5, 0.5, 1))));

        observations.Add(TestObservations.Make(15, 5, 0.45, 0.45, 102)); // no exposure recorded: counts as one frame
        var decision = planner.NextRoi(observations, new RoiContext(10, 5, 0.5, 1));
        Assert.NotEqual((15.0, 5.0), Spot(decision));
        Assert.Contains("1 over their dose budget", decision.Reason);
    }

    [Fact]
    public void No_spot_left_is_a_clear_error()
    {
        var options = new LearnerPlannerOptions(DoseBudgetS: 10, DoseRadiusMm: 0.1, FrameExposureS: 20);
        var planner = new LearnerRoiPlanner(new RoiSearchSpace(0, 1, 0, 1, 1), () => null, Speeds, options: options);
        var error = Assert.Throws<InvalidOperationException>(() => planner.NextRoi([], new RoiContext(0, 0, 0.5, 1)));
        Assert.Contains("no spot left", error.Message);
        Assert.Contains("dose budget of 10 s", error.Message);
    }

    [Fact]
    public void Only_the_current_state_of_charge_is_considered()
    {
        // Uncertain at (3, 3) only in the past (SOC < 0.3), at (15, 7) only at the present SOC.
        var map = new Mock<IPhaseMap>();
        map.SetupGet(m => m.Version).Returns(4);
        map.Setup(m => m.Predict(It.IsAny<double>(), It.IsAny<double>(), It.IsAny<double>()))
            .Returns((double x, double y, double soc) =>
                (soc, (x, y) == (3, 3) && soc < 0.3 ? 0.5 : (x, y) == (15, 7) && soc > 0.6 ? 0.2 : 0.01));
        var observations = TestObservations.Random(20, (_, _, s) => s, seed: 3);
        var planner = new LearnerRoiPlanner(Space, () => map.Object, Speeds, options: new LearnerPlannerOptions(DistanceWeight: 0));
        Assert.Equal((15.0, 7.0), Spot(planner.NextRoi(observations, new RoiContext(10, 5, 0.7, 1))));
        map.Verify(m => m.Predict(It.IsAny<double>(), It.IsAny<double>(), It.Is<double>(s => s != 0.7)), Times.Never);
    }

    [Fact]
    public void Incremental_bookkeeping_decides_exactly_as_a_fresh_planner()
    {
        // One planner follows a growing run (it updates its distances and doses frame by frame); a fresh one sees each list whole.
        var field = new ElectrodeField(2, 0, 20, 0, 10);
        var options = new LearnerPlannerOptions(DoseBudgetS: 40, FrameExposureS: 20, DoseRadiusMm: 1.5);
        ForestPhaseMap? map = null;
        var following = new LearnerRoiPlanner(Space, () => map, Speeds, seed: 4, options);
        var observations = new List<Observation>();
        double x = 10, y = 5;
        for (var k = 0; k < 30; k++)
        {
            var soc = 0.1 + 0.025 * k;
            var context = new RoiContext(x, y, soc, 1);
            var a = following.NextRoi(observations, context);
            var b = new LearnerRoiPlanner(Space, () => map, Speeds, seed: 4, options).NextRoi(observations.ToList(), context);
            Assert.Equal(a.Values, b.Values);
            Assert.Equal(a.Score, b.Score);
            Assert.Equal(a.Reason, b.Reason);
            (x, y) = Spot(a);
            observations.Add(TestObservations.Make(x, y, soc, field.LocalStateOfCharge(x, y, soc, 1), k) with { CRate = 1, ExposureS = 20 });
            map = ForestPhaseMap.Fit(observations, k + 1);
        }
        Assert.Contains("most map variance removed", following.NextRoi(observations, new RoiContext(x, y, 0.85, 1)).Reason);
    }
}

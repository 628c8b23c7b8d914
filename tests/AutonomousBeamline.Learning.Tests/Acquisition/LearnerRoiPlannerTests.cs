using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Surrogate;
using Moq;

namespace AutonomousBeamline.Learning.Tests.Acquisition;

public sealed class LearnerRoiPlannerTests
{
    private static readonly RoiSearchSpace Space = new(0, 20, 0, 10, 1);
    private static readonly AxisSpeeds Speeds = new(2, 2);
    private static readonly RoiContext Context = new(10, 5, 0.5, 0.5);

    private static (double X, double Y) Spot(Decision d) => (d.Values["x_mm"], d.Values["y_mm"]);

    private static List<Observation> RunColdStart(LearnerRoiPlanner planner, int count)
    {
        var observations = new List<Observation>();
        for (var i = 0; i < count; i++)
        {
            var (x, y) = Spot(planner.NextRoi(observations, Context));
            observations.Add(TestObservations.Make(x, y, 0.5, 0.5, i));
        }
        return observations;
    }

    [Fact]
    public void Cold_start_fills_the_space()
    {
        var planner = new LearnerRoiPlanner(Space, () => null, Speeds, seed: 1);
        var spots = RunColdStart(planner, 8).Select(o => (o.XMm, o.YMm)).ToArray();
        Assert.Equal((10.0, 5.0), spots[0]);
        Assert.Equal(8, spots.Distinct().Count());
        var minimumSpacing = spots.SelectMany((a, i) => spots.Skip(i + 1).Select(b => Math.Sqrt((a.XMm - b.XMm) * (a.XMm - b.XMm) + (a.YMm - b.YMm) * (a.YMm - b.YMm)))).Min();
        // Eight random points on a 20 x 10 grid are typically ~2 mm apart at their closest; farthest-point sampling keeps them ~5 mm apart.
        Assert.True(minimumSpacing >= 4.5, $"closest pair {minimumSpacing} mm");
        // The corners are reached before anything is measured twice.
        Assert.Contains(spots, s => (s.XMm == 0 || s.XMm == 20) && (s.YMm == 0 || s.YMm == 10));
    }

    [Fact]
    public void Decisions_are_reproducible_for_a_seed()
    {
        var map = ForestPhaseMap.Fit(TestObservations.Random(30, (x, y, s) => s + 0.01 * x, seed: 3), 4)!;
        var observations = TestObservations.Random(30, (x, y, s) => s + 0.01 * x, seed: 3);
        var a = new LearnerRoiPlanner(Space, () => map, Speeds, seed: 9).NextRoi(observations, Context);
        var b = new LearnerRoiPlanner(Space, () => map, Speeds, seed: 9).NextRoi(observations, Context);
        Assert.Equal(a.Values, b.Values);
        Assert.Equal(a.Score, b.Score);
        Assert.Equal(a.Reason, b.Reason);
        Assert.Equal(a.Alternatives.Select(o => o.Values["x_mm"]), b.Alternatives.Select(o => o.Values["x_mm"]));

        var coldA = RunColdStart(new LearnerRoiPlanner(Space, () => null, Speeds, seed: 5), 6).Select(o => (o.XMm, o.YMm));
        var coldB = RunColdStart(new LearnerRoiPlanner(Space, () => null, Speeds, seed: 5), 6).Select(o => (o.XMm, o.YMm));
        Assert.Equal(coldA, coldB);
    }

    [Fact]
    public void Decision_is_a_ranked_roi_inside_the_space_with_reason_and_model_version()
    {
        var observations = TestObservations.Random(25, (x, y, s) => s, seed: 4);
        var map = ForestPhaseMap.Fit(observations, 12)!;
        var planner = new LearnerRoiPlanner(Space, () => map, Speeds, seed: 2);
        var rng = new Random(1);
        for (var i = 0; i < 20; i++)
        {
            var context = new RoiContext(rng.NextDouble() * 20, rng.NextDouble() * 10, rng.NextDouble(), 1);
            var decision = planner.NextRoi(observations, context);
            Assert.Equal(DecisionKind.Roi, decision.Kind);
            Assert.Equal(DecisionSource.Learner, decision.Strategy);
            Assert.Equal(12, decision.ModelVersion);
            var (x, y) = Spot(decision);
            Assert.InRange(x, Space.XMinMm, Space.XMaxMm);
            Assert.InRange(y, Space.YMinMm, Space.YMaxMm);
            Assert.Equal(3, decision.Alternatives.Count);
            Assert.All(decision.Alternatives, alt => Assert.True(alt.Score <= decision.Score));
            Assert.DoesNotContain(decision.Alternatives, alt => alt.Values["x_mm"] == x && alt.Values["y_mm"] == y);
            Assert.StartsWith("most map variance removed per second", decision.Reason);
            Assert.Contains("mm from the nearest measurement", decision.Reason);
        }
    }

    [Fact]
    public void Learner_goes_where_the_model_is_uncertain()
    {
        // A map that is sure everywhere except around (17, 8).
        var map = new Mock<IPhaseMap>();
        map.SetupGet(m => m.Version).Returns(3);
        map.Setup(m => m.Predict(It.IsAny<double>(), It.IsAny<double>(), It.IsAny<double>()))
            .Returns((double x, double y, double _) => (0.5, Math.Abs(x - 17) < 0.5 && Math.Abs(y - 8) < 0.5 ? 0.4 : 0.01));
        var observations = TestObservations.Random(20, (_, _, s) => s, seed: 6);
        var planner = new LearnerRoiPlanner(Space, () => map.Object, Speeds, options: new LearnerPlannerOptions(DistanceWeight: 0));
        var decision = planner.NextRoi(observations, new RoiContext(0, 0, 0.5, 1));
        Assert.Equal((17.0, 8.0), Spot(decision));
        Assert.Contains("spread 0.4 here", decision.Reason); // to its significant digits, whatever the target's unit
    }

    [Fact]
    public void Travel_cost_prefers_the_nearer_of_two_equally_uncertain_spots()
    {
        var map = new Mock<IPhaseMap>();
        map.Setup(m => m.Predict(It.IsAny<double>(), It.IsAny<double>(), It.IsAny<double>()))
            .Returns((double x, double y, double _) => (0.5, (x, y) is (2, 5) or (18, 5) ? 0.3 : 0.01));
        var observations = TestObservations.Random(20, (_, _, s) => s, seed: 7);
        var planner = new LearnerRoiPlanner(Space, () => map.Object, Speeds, options: new LearnerPlannerOptions(DistanceWeight: 0, ExplainedRadiusUnits: 1e-6));
        Assert.Equal((18.0, 5.0), Spot(planner.NextRoi(observations, new RoiContext(20, 5, 0.5, 1))));
        Assert.Equal((2.0, 5.0), Spot(planner.NextRoi(observations, new RoiContext(0, 5, 0.5, 1))));
    }

    [Fact]
    public void A_fresh_measurement_explains_the_spot_before_the_model_is_refitted()
    {
        // The model (stale) still thinks (5, 5) is the most uncertain spot; it was just measured at this state of charge.
        var map = new Mock<IPhaseMap>();
        map.Setup(m => m.Predict(It.IsAny<double>(), It.IsAny<double>(), It.IsAny<double>()))
            .Returns((double x, double y, double _) => (0.5, (x, y) == (5, 5) ? 0.3 : 0.2));
        var observations = TestObservations.Random(20, (_, _, s) => s, seed: 8);
        observations.Add(TestObservations.Make(5, 5, 0.5, 0.5, 100));
        var planner = new LearnerRoiPlanner(Space, () => map.Object, Speeds);
        Assert.NotEqual((5.0, 5.0), Spot(planner.NextRoi(observations, new RoiContext(5, 5, 0.5, 1))));
    }

    [Fact]
    public void Invalid_construction_and_context_are_rejected_clearly()
    {
        Assert.Throws<ArgumentException>(() => new LearnerRoiPlanner(Space with { StepMm = 0 }, () => null, Speeds));
        Assert.Throws<ArgumentException>(() => new LearnerRoiPlanner(Space with { XMaxMm = -1 }, () => null, Speeds));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearnerRoiPlanner(Space, () => null, new AxisSpeeds(0, 1)));
        var planner = new LearnerRoiPlanner(Space, () => null, Speeds);
        var error = Assert.Throws<ArgumentException>(() => planner.NextRoi([], new RoiContext(double.NaN, 0, 0.5, 1)));
        Assert.Contains("x=NaN", error.Message);
    }
}

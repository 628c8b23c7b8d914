using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Acquisition;
using Moq;

namespace AutonomousBeamline.Learning.Tests.Acquisition;

/// <summary>
/// The learner's safeguards against space filling (<see cref="LearnerPlannerOptions.FillGuardFactor"/>,
/// <see cref="LearnerPlannerOptions.SpaceFillingEvery"/>): a planner that chases one feature must not leave the rest of the
/// electrode unmeasured.
/// </summary>
public sealed class SpaceFillingGuardTests
{
    private static readonly RoiSearchSpace Space = new(0, 20, 0, 10, 0.5);

    // A map that is unsure only around one spot: an error-targeting planner keeps measuring there.
    private static IPhaseMap PeakedMap()
    {
        var map = new Mock<IPhaseMap>();
        map.SetupGet(m => m.Version).Returns(1);
        map.Setup(m => m.Predict(It.IsAny<double>(), It.IsAny<double>(), It.IsAny<double>()))
            .Returns((double x, double y, double _) => (0.5, Math.Abs(x - 15) <= 2 && Math.Abs(y - 5) <= 2 ? 0.3 : 0.01));
        return map.Object;
    }

    // Only the map's term, so that nothing but the guard or the mixture spreads the frames.
    private static readonly LearnerPlannerOptions Chaser = new(DistanceWeight: 0, NonlinearityWeight: 0, FillGuardFactor: 0);

    private static (List<(double X, double Y)> Spots, List<string> Reasons) Run(LearnerPlannerOptions options, int frames)
    {
        var map = PeakedMap();
        var planner = new LearnerRoiPlanner(Space, () => map, new AxisSpeeds(2, 2), seed: 5, options);
        var observations = new List<Observation>();
        var reasons = new List<string>();
        var (x, y) = (10.0, 5.0);
        for (var k = 0; k < frames; k++)
        {
            var decision = planner.NextRoi(observations, new RoiContext(x, y, 0.5, 1));
            (x, y) = (decision.Values["x_mm"], decision.Values["y_mm"]);
            reasons.Add(decision.Reason);
            observations.Add(TestObservations.Make(x, y, 0.5, 0.5, k));
        }
        return (observations.Select(o => (o.XMm, o.YMm)).ToList(), reasons);
    }

    private static double FillDistance(List<(double X, double Y)> spots) =>
        Space.GridPoints().Max(g => spots.Min(s => Math.Sqrt((g.X - s.X) * (g.X - s.X) + (g.Y - s.Y) * (g.Y - s.Y))));

    // A square lattice of n frames over 20 x 10 mm: spacing √(200 / n), fill distance that over √2.
    private static double LatticeFill(int n) => Math.Sqrt(200.0 / n) / Math.Sqrt(2);

    [Fact]
    public void With_the_guard_a_chase_leaves_no_hole_much_wider_than_a_lattice()
    {
        const int frames = 60;
        var unguarded = FillDistance(Run(Chaser, frames).Spots);
        var (spots, reasons) = Run(Chaser with { FillGuardFactor = 1.5 }, frames);
        var guarded = FillDistance(spots);
        // The guard fills the widest hole whenever it is wider than 1.5 lattice fill distances, so at the end it is about that
        // wide (a grid step's leeway: the spots are on the grid), while the chase alone leaves most of the electrode empty.
        Assert.True(guarded <= 1.5 * LatticeFill(frames) + Space.StepMm, $"fill distance {guarded:F2} mm with the guard, lattice {LatticeFill(frames):F2} mm");
        Assert.True(unguarded > 2 * guarded, $"without the guard {unguarded:F2} mm, with it {guarded:F2} mm");
        // Not every decision: between holes the chase goes on, and the reason says which decisions filled a hole.
        var filling = reasons.Count(r => r.StartsWith("filling a hole", StringComparison.Ordinal));
        Assert.InRange(filling, 5, frames - Chaser.ColdStartCount - 5);
        var peak = spots.Count(s => Math.Abs(s.X - 15) <= 2 && Math.Abs(s.Y - 5) <= 2);
        Assert.True(peak >= frames / 4, $"{peak} of {frames} frames in the uncertain square: the guard should not replace the chase");
    }

    [Fact]
    public void The_mixture_gives_every_nth_informed_decision_to_space_filling()
    {
        const int frames = 38;
        var options = Chaser with { SpaceFillingEvery = 3 };
        var (spots, reasons) = Run(options, frames);
        for (var k = options.ColdStartCount; k < frames; k++)
        {
            var turn = (k - options.ColdStartCount) % 3 == 2;
            Assert.Equal(turn, reasons[k].StartsWith("space-filling turn", StringComparison.Ordinal));
        }
        Assert.True(FillDistance(spots) < FillDistance(Run(Chaser, frames).Spots), "the mixture should cover more of the electrode than the chase alone");
    }

    [Fact]
    public void The_random_mixture_gives_every_nth_informed_decision_to_a_reproducible_random_spot()
    {
        const int frames = 40;
        var options = Chaser with { RandomEvery = 4 };
        var (spots, reasons) = Run(options, frames);
        var turns = Enumerable.Range(options.ColdStartCount, frames - options.ColdStartCount)
            .Where(k => (k - options.ColdStartCount) % 4 == 3).ToList();
        for (var k = options.ColdStartCount; k < frames; k++)
            Assert.Equal(turns.Contains(k), reasons[k].StartsWith("random turn", StringComparison.Ordinal));
        // The chase alone would stay in the uncertain square; the random turns land all over the electrode (most outside it:
        // the square is 8 % of the electrode), and the same seed draws the same spots.
        var outside = turns.Count(k => !(Math.Abs(spots[k].X - 15) <= 2 && Math.Abs(spots[k].Y - 5) <= 2));
        Assert.True(outside >= turns.Count / 2, $"{outside} of {turns.Count} random turns outside the uncertain square");
        Assert.True(turns.Select(k => spots[k]).Distinct().Count() >= turns.Count - 1, "random turns should not repeat one spot");
        Assert.Equal(spots, Run(options, frames).Spots);
    }

    [Fact]
    public void Bad_guard_settings_are_rejected_by_name()
    {
        var map = PeakedMap();
        var speeds = new AxisSpeeds(2, 2);
        var fill = Assert.Throws<ArgumentOutOfRangeException>(() => new LearnerRoiPlanner(Space, () => map, speeds, options: new LearnerPlannerOptions(FillGuardFactor: -1)));
        Assert.Equal("FillGuardFactor", fill.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearnerRoiPlanner(Space, () => map, speeds, options: new LearnerPlannerOptions(FillGuardFactor: double.NaN)));
        var every = Assert.Throws<ArgumentOutOfRangeException>(() => new LearnerRoiPlanner(Space, () => map, speeds, options: new LearnerPlannerOptions(SpaceFillingEvery: -2)));
        Assert.Equal("SpaceFillingEvery", every.ParamName);
        var random = Assert.Throws<ArgumentOutOfRangeException>(() => new LearnerRoiPlanner(Space, () => map, speeds, options: new LearnerPlannerOptions(RandomEvery: -1)));
        Assert.Equal("RandomEvery", random.ParamName);
    }
}

using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Learning.Tests.Acquisition;

public sealed class LearnerPrepareTests
{
    private static readonly RoiSearchSpace Space = new(0, 20, 0, 10, 0.1);
    private static readonly AxisSpeeds Speeds = new(2, 2);

    private static double Truth(double x, double y, double soc) => Math.Clamp(soc + 0.2 * Math.Tanh((x - 9) / 0.7) * 4 * soc * (1 - soc), 0, 1);

    /// <summary>A real hybrid map that counts how often its spread over a grid is evaluated, and at which rate.</summary>
    private sealed class CountingMap(HybridPhaseMap inner) : INormalisedPhaseMap
    {
        public List<double> Rates { get; } = [];

        public int Version => inner.Version;

        public bool IsNormalised => true;

        public (double Mean, double Spread) Predict(double xMm, double yMm, double stateOfCharge) => inner.Predict(xMm, yMm, stateOfCharge);

        public ShapeSpreadGrid SpreadGrid(IReadOnlyList<double> xs, IReadOnlyList<double> ys, double cRate)
        {
            lock (Rates) Rates.Add(cRate);
            return inner.SpreadGrid(xs, ys, cRate);
        }
    }

    [Fact]
    public async Task A_map_prepared_on_another_thread_costs_its_first_decision_nothing_and_decides_the_same()
    {
        var observations = TestObservations.Random(60, Truth, seed: 21, noise: 0.01);
        var hybrid = HybridPhaseMap.Fit(observations, 5)!;
        var map = new CountingMap(hybrid);
        var planner = new LearnerRoiPlanner(Space, () => map, Speeds, seed: 3);
        await Task.Run(() => planner.Prepare(map));
        Assert.Single(map.Rates);

        var context = new RoiContext(4, 4, 0.5, 1.0);
        var decision = planner.NextRoi(observations, context);
        Assert.Single(map.Rates);
        var unprepared = new LearnerRoiPlanner(Space, () => hybrid, Speeds, seed: 3).NextRoi(observations, context);
        Assert.Equal(unprepared.Values, decision.Values);
        Assert.Equal(unprepared.Score, decision.Score);
    }

    [Fact]
    public void A_map_prepared_for_another_rate_is_evaluated_again_at_the_decision_rate()
    {
        var observations = TestObservations.Random(60, Truth, seed: 22, noise: 0.01);
        var map = new CountingMap(HybridPhaseMap.Fit(observations, 5)!);
        var planner = new LearnerRoiPlanner(Space, () => map, Speeds, seed: 3);
        // Before any decision a map that does not say its rate (the forest and the hybrid do) is prepared at 1C.
        planner.Prepare(map);
        Assert.Equal([1.0], map.Rates);
        planner.NextRoi(observations, new RoiContext(4, 4, 0.5, 2.0));
        Assert.Equal([1.0, 2.0], map.Rates);
        // From then on the last decision's rate is prepared.
        var next = new CountingMap(HybridPhaseMap.Fit(observations, 6)!);
        planner.Prepare(next);
        Assert.Equal([2.0], next.Rates);
    }
}

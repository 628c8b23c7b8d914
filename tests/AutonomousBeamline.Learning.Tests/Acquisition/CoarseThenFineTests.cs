using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Learning.Tests.Acquisition;

public sealed class CoarseThenFineTests
{
    /// <summary>A normalised map that is uncertain only within 0.3 mm of one spot.</summary>
    private sealed class PeakedShapeMap(double px, double py) : INormalisedPhaseMap
    {
        public List<int> GridSizes { get; } = [];

        public int Version => 4;

        public bool IsNormalised => true;

        public (double Mean, double Spread) Predict(double xMm, double yMm, double stateOfCharge) => (stateOfCharge, Spread(xMm, yMm));

        public ShapeSpreadGrid SpreadGrid(IReadOnlyList<double> xs, IReadOnlyList<double> ys, double cRate)
        {
            GridSizes.Add(xs.Count * ys.Count);
            var atData = new double[xs.Count * ys.Count];
            for (var j = 0; j < ys.Count; j++)
            for (var i = 0; i < xs.Count; i++)
                atData[j * xs.Count + i] = Spread(xs[i], ys[j]);
            return new ShapeSpreadGrid(atData, new double[atData.Length], 1, 1);
        }

        private double Spread(double x, double y) => Math.Sqrt((x - px) * (x - px) + (y - py) * (y - py)) <= 0.6 ? 0.3 : 0.001;
    }

    [Fact]
    public void A_fine_grid_is_weighed_on_a_coarse_lattice_and_searched_finely_where_the_error_is()
    {
        var map = new PeakedShapeMap(7.3, 2.1);
        var space = new RoiSearchSpace(0, 10, 0, 10, 0.1);
        var planner = new LearnerRoiPlanner(space, () => map, new AxisSpeeds(2, 2), seed: 3, new LearnerPlannerOptions(DistanceWeight: 0));
        var observations = TestObservations.Random(20, (_, _, s) => s, seed: 1).Where(o => o.XMm < 10).ToList();
        var decision = planner.NextRoi(observations, new RoiContext(5, 5, 0.5, 0.5));

        var (x, y) = (decision.Values["x_mm"], decision.Values["y_mm"]);
        Assert.True(Math.Abs(x - 7.3) <= 0.7 && Math.Abs(y - 2.1) <= 0.7, $"chose ({x}, {y})");
        Assert.Equal(Math.Round(x, 1), x, 9); // on the 0.1 mm grid, not only on the lattice
        Assert.Contains("refined to 0.1 mm", decision.Reason);
        // The model was asked about the 0.3 mm lattice (34 x 34), not the 10,201 grid points.
        Assert.Equal([34 * 34], map.GridSizes);
    }

    [Fact]
    public void An_excluded_refined_cell_falls_back_to_the_open_grid()
    {
        var map = new PeakedShapeMap(7.3, 2.1);
        var planner = new LearnerRoiPlanner(new RoiSearchSpace(0, 10, 0, 10, 0.1), () => map, new AxisSpeeds(2, 2), seed: 3,
            new LearnerPlannerOptions(DistanceWeight: 0, RefinedCells: 1));
        planner.Exclude(new RoiRectangle(6, 9, 0.5, 3.5));
        var decision = planner.NextRoi(TestObservations.Random(20, (_, _, s) => s, seed: 1), new RoiContext(5, 5, 0.5, 0.5));
        var (x, y) = (decision.Values["x_mm"], decision.Values["y_mm"]);
        Assert.False(x is >= 6 and <= 9 && y is >= 0.5 and <= 3.5, $"chose the excluded ({x}, {y})");
    }
}

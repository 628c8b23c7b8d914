using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Acquisition;

namespace AutonomousBeamline.Learning.Tests.Acquisition;

public sealed class BaselinePlannerTests
{
    private static readonly RoiSearchSpace Space = new(1, 4, 2, 4, 1); // 4 x 3 grid
    private static readonly RoiContext Context = new(0, 0, 0.5, 1);

    private static List<(double X, double Y)> Run(IRoiPlanner planner, int count)
    {
        var observations = new List<Observation>();
        var spots = new List<(double, double)>();
        for (var i = 0; i < count; i++)
        {
            var d = planner.NextRoi(observations, Context);
            spots.Add((d.Values["x_mm"], d.Values["y_mm"]));
            observations.Add(TestObservations.Make(d.Values["x_mm"], d.Values["y_mm"], 0.5, 0.5, i, planner.Strategy));
        }
        return spots;
    }

    [Fact]
    public void Raster_walks_the_grid_in_a_serpentine_and_starts_over()
    {
        var spots = Run(new RasterRoiPlanner(Space), 13);
        Assert.Equal([(1, 2), (2, 2), (3, 2), (4, 2), (4, 3), (3, 3), (2, 3), (1, 3), (1, 4), (2, 4), (3, 4), (4, 4), (1, 2)], spots);
        var decision = new RasterRoiPlanner(Space).NextRoi([], Context);
        Assert.Equal(DecisionSource.Raster, decision.Strategy);
        Assert.Equal("raster point 1 of 12 (pass 1), serpentine order", decision.Reason);
    }

    [Fact]
    public void Random_is_reproducible_for_a_seed_and_stays_on_the_grid()
    {
        var a = Run(new RandomRoiPlanner(Space, 42), 30);
        var b = Run(new RandomRoiPlanner(Space, 42), 30);
        var c = Run(new RandomRoiPlanner(Space, 43), 30);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        var grid = Space.GridPoints().ToHashSet();
        Assert.All(a, s => Assert.Contains(s, grid));
        Assert.True(a.Distinct().Count() > 6, "random choice hardly varies");
    }
}

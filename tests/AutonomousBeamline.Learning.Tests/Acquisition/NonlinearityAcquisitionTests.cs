using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Acquisition;
using Moq;

namespace AutonomousBeamline.Learning.Tests.Acquisition;

/// <summary>The LOLA-Voronoi term of <see cref="LearnerRoiPlanner"/>: frames go to the edges the measured values show.</summary>
public sealed class NonlinearityAcquisitionTests
{
    private static readonly RoiSearchSpace Space = new(0, 20, 0, 10, 0.5);
    private const double JumpXMm = 12.3;

    // A map that knows nothing about where it is wrong: the same spread everywhere, so only the data can point at the jump.
    private static IPhaseMap FlatMap()
    {
        var map = new Mock<IPhaseMap>();
        map.SetupGet(m => m.Version).Returns(1);
        map.Setup(m => m.Predict(It.IsAny<double>(), It.IsAny<double>(), It.IsAny<double>())).Returns((0.5, 0.05));
        return map.Object;
    }

    private static List<(double X, double Y)> Run(LearnerPlannerOptions options, Func<double, double, double> truth, int frames)
    {
        var map = FlatMap();
        var planner = new LearnerRoiPlanner(Space, () => map, new AxisSpeeds(2, 2), seed: 3, options);
        var observations = new List<Observation>();
        var (x, y) = (10.0, 5.0);
        for (var k = 0; k < frames; k++)
        {
            var decision = planner.NextRoi(observations, new RoiContext(x, y, 0.5, 1));
            (x, y) = (decision.Values["x_mm"], decision.Values["y_mm"]);
            observations.Add(TestObservations.Make(x, y, 0.5, truth(x, y), k));
        }
        return observations.Select(o => (o.XMm, o.YMm)).ToList();
    }

    private static readonly LearnerPlannerOptions Lola = new(MapSpreadWeight: 0, NonlinearityWeight: 1);

    [Fact]
    public void After_the_start_the_frames_concentrate_along_a_jump()
    {
        static double Jump(double x, double y) => 0.5 + 0.02 * y + (x > JumpXMm ? 0.25 : -0.15);
        var after = Run(Lola, Jump, 40).Skip(Lola.ColdStartCount).ToArray();
        // The band within 1.5 mm of the jump is 15 % of the electrode; space filling alone would put about that share there.
        var near = after.Count(s => Math.Abs(s.X - JumpXMm) <= 1.5);
        Assert.True(near >= 0.35 * after.Length, $"{near} of {after.Length} frames within 1.5 mm of the jump");

        var mapOnly = Run(LearnerPlannerOptions.Default with { DistanceWeight = 0.05 }, Jump, 40).Skip(Lola.ColdStartCount).ToArray();
        Assert.True(mapOnly.Count(s => Math.Abs(s.X - JumpXMm) <= 1.5) < near, "a map that does not know the jump should not find it as well");
    }

    [Fact]
    public void On_a_plane_the_frames_fill_the_electrode()
    {
        var spots = Run(Lola, (x, y) => 0.3 + 0.02 * x + 0.01 * y, 40);
        // The fill distance: how far the grid point least covered is from its nearest frame. Forty frames on a lattice over
        // 20 x 10 mm are 2.2 mm apart (fill distance about 1.6 mm); forty random spots typically leave a hole of 3-4 mm.
        var fill = Space.GridPoints().Max(g => spots.Min(s => Math.Sqrt((g.X - s.X) * (g.X - s.X) + (g.Y - s.Y) * (g.Y - s.Y))));
        Assert.True(fill <= 2.5, $"fill distance {fill} mm");
    }

    [Fact]
    public void The_projection_factor_spreads_the_frames_over_more_columns_and_rows()
    {
        static double Plane(double x, double y) => 0.3 + 0.02 * x + 0.01 * y;
        static int Lines(List<(double X, double Y)> spots) => spots.Select(s => s.X).Distinct().Count() + spots.Select(s => s.Y).Distinct().Count();
        var lattice = Lines(Run(Lola, Plane, 40));
        var spread = Lines(Run(Lola with { ProjectionWeight = 1 }, Plane, 40));
        Assert.True(spread > lattice + 10, $"{spread} distinct columns and rows with the factor, {lattice} without");
    }
}

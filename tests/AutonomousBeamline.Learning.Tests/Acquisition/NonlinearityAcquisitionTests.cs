using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Acquisition;
using Moq;

namespace AutonomousBeamline.Learning.Tests.Acquisition;

/// <summary>The LOLA-Voronoi term of <see cref="LearnerRoiPlanner"/>: frames go to the edges the measured values show.</summary>
public sealed class NonlinearityAcquisitionTests
{
    private static readonly RoiSearchSpace Space = new(0, 20, 0, 10, 0.5);

    // A map that does not know where it is wrong: sure of itself everywhere (a smooth fit that has not seen the jump), so only
    // the data can point at the jump.
    private static IPhaseMap FlatMap()
    {
        var map = new Mock<IPhaseMap>();
        map.SetupGet(m => m.Version).Returns(1);
        map.Setup(m => m.Predict(It.IsAny<double>(), It.IsAny<double>(), It.IsAny<double>())).Returns((0.5, 0.01));
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

    // The shipped defaults (the map term sees a flat map here), and the LOLA-Voronoi term alone.
    private static readonly LearnerPlannerOptions Shipped = LearnerPlannerOptions.Default;
    private static readonly LearnerPlannerOptions Lola = new(MapSpreadWeight: 0, NonlinearityWeight: 1, ProjectionWeight: 0);

    // A disc of radius 2.7 mm (a particle that reacts late, say) with a sharp edge: 0.4 higher inside, on a gentle tilt.
    private static double Across(double x, double y) => Math.Sqrt((x - 12.2) * (x - 12.2) + (y - 4.8) * (y - 4.8)) - 2.7;

    private static double Jump(double x, double y) => 0.5 + 0.02 * y + (Across(x, y) < 0 ? 0.25 : -0.15);

    private static double NearShare(IEnumerable<(double X, double Y)> spots)
    {
        var list = spots.ToList();
        return (double)list.Count(s => Math.Abs(Across(s.X, s.Y)) <= 1.0) / list.Count;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void After_the_start_the_frames_concentrate_along_a_jump(bool shipped)
    {
        var options = shipped ? Shipped : Lola;
        var after = Run(options, Jump, 40).Skip(options.ColdStartCount);
        var bandShare = NearShare(Space.GridPoints());
        var near = NearShare(after);
        // Space filling alone puts about the band's share of the electrode there (the map-only planner below does). Early on
        // every frame's neighbours reach across the disc, so the concentration builds up with the frames.
        Assert.True(near >= 1.4 * bandShare, $"{near:P0} of the frames within 1 mm of the jump, which covers {bandShare:P0} of the electrode");

        var mapOnly = NearShare(Run(options with { NonlinearityWeight = 0, DistanceWeight = 0.05 }, Jump, 40).Skip(options.ColdStartCount));
        Assert.True(mapOnly < near, $"a map that does not know the jump should not find it as well: {mapOnly:P0} against {near:P0}");
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
        var spread = Lines(Run(Lola with { ProjectionWeight = Shipped.ProjectionWeight }, Plane, 40));
        Assert.True(spread > lattice + 10, $"{spread} distinct columns and rows with the factor, {lattice} without");
    }
}

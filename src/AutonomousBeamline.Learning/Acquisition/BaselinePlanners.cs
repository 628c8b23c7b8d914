using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Learning.Acquisition;

/// <summary>
/// The classic scan, the baseline the learner is judged against: the grid row by row in a serpentine
/// (alternate rows reversed, so the stage never flies back across the sample). The n-th decision takes
/// the n-th grid point, counting every observation so far; after the last point it starts again.
/// </summary>
public sealed class RasterRoiPlanner : IRoiPlanner
{
    private readonly (double X, double Y)[] _order;

    public RasterRoiPlanner(RoiSearchSpace space)
    {
        var grid = RoiGrid.Points(space);
        var rows = grid.GroupBy(p => p.Y).OrderBy(g => g.Key).ToArray();
        _order = rows.SelectMany((row, j) => j % 2 == 0 ? row.OrderBy(p => p.X) : row.OrderByDescending(p => p.X)).ToArray();
    }

    public DecisionSource Strategy => DecisionSource.Raster;

    public Decision NextRoi(IReadOnlyList<Observation> observations, RoiContext context)
    {
        ArgumentNullException.ThrowIfNull(observations);
        var index = observations.Count % _order.Length;
        var pass = observations.Count / _order.Length + 1;
        var (x, y) = _order[index];
        return new Decision
        {
            Kind = DecisionKind.Roi,
            Values = RoiGrid.Values(x, y),
            Score = 0,
            Alternatives = [],
            Reason = RoiGrid.Format($"raster point {index + 1} of {_order.Length} (pass {pass}), serpentine order"),
            ModelVersion = 0,
            Strategy = Strategy,
        };
    }
}

/// <summary>
/// Uniformly random grid points: the baseline that shows what the learner adds beyond mere spreading out.
/// Seeded per decision from the observation count, so a replay of the same run chooses the same spots.
/// </summary>
public sealed class RandomRoiPlanner(RoiSearchSpace space, int seed) : IRoiPlanner
{
    private readonly (double X, double Y)[] _grid = RoiGrid.Points(space);

    public DecisionSource Strategy => DecisionSource.Random;

    public Decision NextRoi(IReadOnlyList<Observation> observations, RoiContext context)
    {
        ArgumentNullException.ThrowIfNull(observations);
        var index = RoiGrid.DecisionRandom(seed, observations.Count).Next(_grid.Length);
        var (x, y) = _grid[index];
        return new Decision
        {
            Kind = DecisionKind.Roi,
            Values = RoiGrid.Values(x, y),
            Score = 0,
            Alternatives = [],
            Reason = RoiGrid.Format($"random grid point {index + 1} of {_grid.Length} (seed {seed})"),
            ModelVersion = 0,
            Strategy = Strategy,
        };
    }
}

using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning;

namespace AutonomousBeamline.Bench;

/// <summary>Baselines only the benchmark needs: a fixed list of spots, and the coarse raster that covers the ROI once in the budget.</summary>
internal static class BenchPlanners
{
    /// <summary>The coarsest serpentine raster over <paramref name="space"/> that covers the whole rectangle once in <paramref name="frames"/>.</summary>
    public static (double X, double Y)[] CoarseRaster(RoiSearchSpace space, int frames)
    {
        var nx = Math.Max(1, (int)Math.Round(Math.Sqrt(frames)));
        var ny = Math.Max(1, (int)Math.Ceiling((double)frames / nx));
        var points = new List<(double, double)>();
        for (var j = 0; j < ny; j++)
        for (var i = 0; i < nx; i++)
        {
            var column = j % 2 == 0 ? i : nx - 1 - i;
            var px = nx == 1 ? (space.XMinMm + space.XMaxMm) / 2 : space.XMinMm + column * (space.XMaxMm - space.XMinMm) / (nx - 1);
            var py = ny == 1 ? (space.YMinMm + space.YMaxMm) / 2 : space.YMinMm + j * (space.YMaxMm - space.YMinMm) / (ny - 1);
            points.Add((px, py));
        }
        return points.Take(frames).ToArray();
    }
}

/// <summary>Visits a fixed list of spots in order (the n-th decision takes the n-th spot, counting every frame asked for so far).</summary>
internal sealed class FixedOrderPlanner((double X, double Y)[] order, string name) : IRoiPlanner
{
    private int _decisions;

    public DecisionSource Strategy => DecisionSource.Raster;

    public Decision NextRoi(IReadOnlyList<Observation> observations, RoiContext context)
    {
        var (px, py) = order[_decisions++ % order.Length];
        return new Decision
        {
            Kind = DecisionKind.Roi, Values = new Dictionary<string, double> { ["x_mm"] = px, ["y_mm"] = py },
            Score = 0, Alternatives = [], Reason = name, ModelVersion = 0, Strategy = Strategy,
        };
    }
}

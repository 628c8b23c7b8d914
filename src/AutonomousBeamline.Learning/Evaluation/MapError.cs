using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Learning.Evaluation;

/// <summary>How far a map is from the truth: overall and per state of charge, over the ROI grid.</summary>
/// <param name="Rmse">Root-mean-square error over every grid point at every state of charge.</param>
/// <param name="PerStateOfCharge">The RMSE at each evaluated state of charge.</param>
/// <param name="ModelVersion">Version of the evaluated map; 0 when there were too few observations for one.</param>
public sealed record MapErrorResult(double Rmse, IReadOnlyList<(double StateOfCharge, double Rmse)> PerStateOfCharge, int GridPoints, int ModelVersion);

/// <summary>
/// The figure of merit of a run (<c>map_error</c>): how well the phase-fraction map learned from the frames
/// reproduces the truth over the whole ROI at several states of charge. Comparing a learner run with a raster
/// run of the same number of frames, each fitted with the same surrogate, shows what the choice of spots bought.
/// </summary>
public static class MapError
{
    /// <summary>States of charge a map is judged at by default: the two-phase plateau, where the electrode is inhomogeneous.</summary>
    public static IReadOnlyList<double> DefaultStatesOfCharge { get; } = [0.2, 0.35, 0.5, 0.65, 0.8];

    /// <summary>Errors of a fitted map against <paramref name="truth"/>(x mm, y mm, state of charge) on the grid of <paramref name="space"/>.</summary>
    public static MapErrorResult Evaluate(IPhaseMap map, RoiSearchSpace space, Func<double, double, double, double> truth,
        IReadOnlyList<double>? statesOfCharge = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        return Evaluate((x, y, soc) => map.Predict(x, y, soc).Mean, space, truth, statesOfCharge, map.Version);
    }

    /// <summary>
    /// Fits a <see cref="ForestPhaseMap"/> on <paramref name="observations"/> and evaluates it. With too few
    /// observations for a forest the map is their mean (0.5 with none): an honest "learned nothing" score
    /// rather than an error, so a short run still reports a number.
    /// </summary>
    public static MapErrorResult Evaluate(IReadOnlyList<Observation> observations, RoiSearchSpace space,
        Func<double, double, double, double> truth, IReadOnlyList<double>? statesOfCharge = null, ForestPhaseMapOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(observations);
        var map = ForestPhaseMap.Fit(observations, 1, options);
        if (map is not null) return Evaluate(map, space, truth, statesOfCharge);
        var finite = observations.Where(o => double.IsFinite(o.PhaseFraction)).ToArray();
        var mean = finite.Length == 0 ? 0.5 : finite.Average(o => o.PhaseFraction);
        return Evaluate((_, _, _) => mean, space, truth, statesOfCharge, 0);
    }

    /// <summary>The overall RMSE of a fitted map; see <see cref="Evaluate(IPhaseMap, RoiSearchSpace, Func{double, double, double, double}, IReadOnlyList{double}?)"/>.</summary>
    public static double Rmse(IPhaseMap map, RoiSearchSpace space, Func<double, double, double, double> truth, IReadOnlyList<double>? statesOfCharge = null) =>
        Evaluate(map, space, truth, statesOfCharge).Rmse;

    /// <summary>The overall RMSE of a map fitted on <paramref name="observations"/>.</summary>
    public static double Rmse(IReadOnlyList<Observation> observations, RoiSearchSpace space, Func<double, double, double, double> truth,
        IReadOnlyList<double>? statesOfCharge = null, ForestPhaseMapOptions? options = null) =>
        Evaluate(observations, space, truth, statesOfCharge, options).Rmse;

    private static MapErrorResult Evaluate(Func<double, double, double, double> predict, RoiSearchSpace space,
        Func<double, double, double, double> truth, IReadOnlyList<double>? statesOfCharge, int version)
    {
        ArgumentNullException.ThrowIfNull(truth);
        statesOfCharge ??= DefaultStatesOfCharge;
        if (statesOfCharge.Count == 0) throw new ArgumentException("at least one state of charge is needed", nameof(statesOfCharge));
        var grid = RoiGrid.Points(space);
        var perSoc = new List<(double, double)>(statesOfCharge.Count);
        var total = 0.0;
        foreach (var soc in statesOfCharge)
        {
            if (!double.IsFinite(soc) || soc < 0 || soc > 1) throw new ArgumentOutOfRangeException(nameof(statesOfCharge), soc, "states of charge must lie in [0, 1]");
            var sum = 0.0;
            foreach (var (x, y) in grid)
            {
                var error = predict(x, y, soc) - truth(x, y, soc);
                sum += error * error;
            }
            total += sum;
            perSoc.Add((soc, Math.Sqrt(sum / grid.Length)));
        }
        return new MapErrorResult(Math.Sqrt(total / (grid.Length * statesOfCharge.Count)), perSoc, grid.Length, version);
    }
}

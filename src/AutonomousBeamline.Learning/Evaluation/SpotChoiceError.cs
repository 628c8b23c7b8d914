using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Learning.Evaluation;

/// <summary>
/// Scores only the choice of spots: one fixed interpolator (an interpolating thin-plate spline) is fitted to the true values
/// at the spots a strategy chose and compared with the truth over the ROI grid. No surrogate, no measurement noise: two
/// strategies differ here only in where they measured.
/// </summary>
/// <remarks>
/// For a static map the spline lives in (x, y). For an operando run it lives in (x, y, state of charge), the state of charge
/// stretched by <see cref="StateOfChargeScaleMm"/> so that a change of 1 in state of charge weighs like that many millimetres
/// on the electrode: fixed, the same for every strategy, and not derived from any strategy's model.
/// </remarks>
public static class SpotChoiceError
{
    /// <summary>Millimetres on the electrode that one unit of state of charge counts as in the operando interpolator.</summary>
    public const double StateOfChargeScaleMm = 10.0;

    /// <summary>RMSE over the grid of <paramref name="space"/> of the spline through the true values at (x, y) spots.</summary>
    public static double Static(IReadOnlyList<(double X, double Y)> spots, RoiSearchSpace space, Func<double, double, double> truth)
    {
        ArgumentNullException.ThrowIfNull(spots);
        ArgumentNullException.ThrowIfNull(truth);
        if (spots.Count == 0) throw new ArgumentException("no spots to interpolate from", nameof(spots));
        var spline = PolyharmonicSpline.Fit(spots.Select(s => new[] { s.X, s.Y }).ToArray(), spots.Select(s => truth(s.X, s.Y)).ToArray());
        var grid = RoiGrid.Points(space);
        var sum = 0.0;
        foreach (var (x, y) in grid)
        {
            var error = spline.Evaluate([x, y]) - truth(x, y);
            sum += error * error;
        }
        return Math.Sqrt(sum / grid.Length);
    }

    /// <summary>RMSE over the grid of <paramref name="space"/> at each of <paramref name="statesOfCharge"/> (default
    /// <see cref="MapError.DefaultStatesOfCharge"/>) of the spline through the true values at the (x, y, soc) spots.</summary>
    public static double Operando(IReadOnlyList<(double X, double Y, double StateOfCharge)> spots, RoiSearchSpace space,
        Func<double, double, double, double> truth, IReadOnlyList<double>? statesOfCharge = null)
    {
        ArgumentNullException.ThrowIfNull(spots);
        ArgumentNullException.ThrowIfNull(truth);
        if (spots.Count == 0) throw new ArgumentException("no spots to interpolate from", nameof(spots));
        statesOfCharge ??= MapError.DefaultStatesOfCharge;
        var spline = PolyharmonicSpline.Fit(
            spots.Select(s => new[] { s.X, s.Y, s.StateOfCharge * StateOfChargeScaleMm }).ToArray(),
            spots.Select(s => truth(s.X, s.Y, s.StateOfCharge)).ToArray());
        var grid = RoiGrid.Points(space);
        var sum = 0.0;
        foreach (var soc in statesOfCharge)
        foreach (var (x, y) in grid)
        {
            var error = spline.Evaluate([x, y, soc * StateOfChargeScaleMm]) - truth(x, y, soc);
            sum += error * error;
        }
        return Math.Sqrt(sum / (grid.Length * statesOfCharge.Count));
    }
}

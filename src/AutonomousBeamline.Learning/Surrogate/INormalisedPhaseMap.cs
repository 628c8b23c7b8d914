namespace AutonomousBeamline.Learning.Surrogate;

/// <summary>
/// The spread of a normalised map's shape over a grid, in shape units (multiply by 4·soc·(1 − soc) for the phase fraction):
/// at grid point i and distance d (mm) from the nearest observation it is
/// <c>AtData[i] + PerDistanceUnit[i] · min(d / DistanceUnitMm, MaximumDistanceUnits)</c>. The distance part is left to the
/// caller because a planner knows the distances to frames the map has not been fitted on yet.
/// </summary>
public sealed record ShapeSpreadGrid(double[] AtData, double[] PerDistanceUnit, double DistanceUnitMm, double MaximumDistanceUnits)
{
    public double Spread(int index, double nearestMm) =>
        AtData[index] + PerDistanceUnit[index] * Math.Min(nearestMm / DistanceUnitMm, MaximumDistanceUnits);
}

/// <summary>
/// A map that learns the state-of-charge-free shape (phase fraction − soc) / (4·soc·(1 − soc)) over (x, y, |C-rate|), so its
/// spread over the electrode can be computed once per model and rate and reused at every state of charge.
/// </summary>
public interface INormalisedPhaseMap : IPhaseMap
{
    /// <summary>False when the map was fitted without the normalisation; the grid then does not hold at every state of charge.</summary>
    bool IsNormalised { get; }

    /// <summary>The spread of the shape at every point of the grid xs × ys (point (i, j) at index j·xs.Length + i).</summary>
    ShapeSpreadGrid SpreadGrid(IReadOnlyList<double> xs, IReadOnlyList<double> ys, double cRate);
}

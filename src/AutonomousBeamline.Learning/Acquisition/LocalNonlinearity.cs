namespace AutonomousBeamline.Learning.Acquisition;

/// <summary>
/// How far the measured values around each observation depart from a plane through it: the local nonlinearity of
/// LOLA-Voronoi (Crombecq et al., 2011), estimated from the measurements alone, with no model. A plane is fitted through an
/// observation to its <c>k</c> nearest neighbours in the plane of the electrode (least squares on the differences, so the plane
/// passes through the observation), and what the neighbours leave over beyond their measurement noise is its nonlinearity.
/// Where a jump or a thin feature runs between an observation and its neighbours, no plane explains them and the figure is
/// about the size of the jump; on a smooth or linear stretch it is about zero, whatever the slope.
/// </summary>
/// <remarks>
/// Observations are only ever appended (as a run measures them); each append updates the neighbour lists it changes in one
/// pass over the observations so far, and a nonlinearity is recomputed only when its neighbours changed.
/// </remarks>
public sealed class LocalNonlinearity
{
    private readonly int _neighbourCount;
    private readonly List<(double X, double Y, double Value, double Noise)> _points = [];
    private readonly List<List<(int Index, double DistanceSquared)>> _neighbours = [];
    private readonly List<double> _nonlinearity = [];

    /// <param name="neighbourCount">How many nearest observations a plane is fitted to (at least 3: the plane has two slopes).</param>
    public LocalNonlinearity(int neighbourCount)
    {
        if (neighbourCount < 3) throw new ArgumentOutOfRangeException(nameof(neighbourCount), neighbourCount, "must be >= 3 (a plane through a point has two slopes)");
        _neighbourCount = neighbourCount;
    }

    /// <summary>How many observations have been added.</summary>
    public int Count => _points.Count;

    /// <summary>Adds an observation: its position (mm), its value and the standard deviation of that value's noise.</summary>
    public void Add(double xMm, double yMm, double value, double noise)
    {
        if (!double.IsFinite(xMm) || !double.IsFinite(yMm) || !double.IsFinite(value))
            throw new ArgumentException($"an observation needs a finite position and value, got x={xMm} y={yMm} value={value}");
        if (!(noise >= 0) || !double.IsFinite(noise)) throw new ArgumentOutOfRangeException(nameof(noise), noise, "must be finite and >= 0");
        var index = _points.Count;
        var own = new List<(int Index, double DistanceSquared)>(_neighbourCount + 1);
        for (var k = 0; k < index; k++)
        {
            var dx = _points[k].X - xMm; var dy = _points[k].Y - yMm;
            var d2 = dx * dx + dy * dy;
            Insert(own, (k, d2));
            // The newcomer may be nearer to an earlier observation than that one's farthest neighbour: its plane changes.
            if (Insert(_neighbours[k], (index, d2))) _nonlinearity[k] = double.NaN;
        }
        _points.Add((xMm, yMm, value, noise));
        _neighbours.Add(own);
        _nonlinearity.Add(double.NaN);
    }

    /// <summary>
    /// The observation's nonlinearity in the units of its value: the root-mean-square departure of its neighbours from the
    /// best plane through it, less what their noise and its own explain (never below 0). 0 with fewer than 3 neighbours.
    /// </summary>
    public double At(int index)
    {
        if (index < 0 || index >= _points.Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"must lie in [0, {_points.Count})");
        if (double.IsNaN(_nonlinearity[index])) _nonlinearity[index] = Compute(index);
        return _nonlinearity[index];
    }

    private double Compute(int index)
    {
        var neighbours = _neighbours[index];
        if (neighbours.Count < 3) return 0;
        var (x0, y0, v0, noise0) = _points[index];
        // Least squares for the slopes g of Δv ≈ g·Δx; a tiny ridge keeps neighbours on one line (or on the same spot) solvable.
        double sxx = 0, sxy = 0, syy = 0, sxv = 0, syv = 0;
        foreach (var (k, _) in neighbours)
        {
            var dx = _points[k].X - x0; var dy = _points[k].Y - y0; var dv = _points[k].Value - v0;
            sxx += dx * dx; sxy += dx * dy; syy += dy * dy; sxv += dx * dv; syv += dy * dv;
        }
        var ridge = 1e-12 + 1e-9 * (sxx + syy);
        sxx += ridge; syy += ridge;
        var det = sxx * syy - sxy * sxy;
        var gx = (syy * sxv - sxy * syv) / det;
        var gy = (sxx * syv - sxy * sxv) / det;
        double squares = 0, noise = 0;
        foreach (var (k, _) in neighbours)
        {
            var (x, y, v, n) = _points[k];
            var r = v - v0 - gx * (x - x0) - gy * (y - y0);
            squares += r * r;
            noise += n * n + noise0 * noise0;
        }
        // Two slopes were fitted from the neighbours, so the residuals have two fewer degrees of freedom than there are of them.
        var count = neighbours.Count;
        var excess = squares / (count - 2) - noise / count;
        return excess > 0 ? Math.Sqrt(excess) : 0;
    }

    /// <summary>Puts a candidate into a neighbour list kept sorted by distance and capped at k; true when the list changed.</summary>
    private bool Insert(List<(int Index, double DistanceSquared)> list, (int Index, double DistanceSquared) candidate)
    {
        if (list.Count == _neighbourCount && candidate.DistanceSquared >= list[^1].DistanceSquared) return false;
        var position = list.Count;
        while (position > 0 && list[position - 1].DistanceSquared > candidate.DistanceSquared) position--;
        list.Insert(position, candidate);
        if (list.Count > _neighbourCount) list.RemoveAt(list.Count - 1);
        return true;
    }
}

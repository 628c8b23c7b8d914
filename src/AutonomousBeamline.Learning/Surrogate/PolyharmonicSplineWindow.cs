using MathNet.Numerics.LinearAlgebra;

namespace AutonomousBeamline.Learning.Surrogate;

/// <summary>
/// The thin-plate splines of <see cref="PolyharmonicSpline.Fit"/> (one per smoothing, with leave-one-out residuals) over a sliding
/// window of points: points are appended at the newest end and dropped from the oldest, and the inverse of each smoothing's
/// system is updated in O(n²) per point instead of being recomputed in O((n + d + 1)³). The values are not part of the system, so
/// they can all change between fits (a hybrid map's residuals change with every forest) at the cost of one O(n²) product.
/// </summary>
/// <remarks>
/// The system, ordered [linear polynomial; centres], is M = [[0, Pᵀ], [P, K + λ·W⁻¹]]. A new centre borders it: with b its new
/// column, u = M⁻¹b and the Schur complement σ = λ/w − bᵀu, the new inverse is [[M⁻¹ + uuᵀ/σ, −u/σ], [−uᵀ/σ, 1/σ]]. Dropping centre k
/// is the reverse: with f the k-th column of M⁻¹ and g its diagonal entry, the inverse of the rest is M⁻¹ − ffᵀ/g without row and
/// column k. A point added to, or dropped from, a centre that keeps other points only changes that centre's nugget: a
/// Sherman–Morrison update. Each update's vector (u, f) is refined once against M itself, so an update carries the rounding of
/// the stored inverse forward instead of amplifying it. Leave-one-out residuals come from the updated inverse's diagonal exactly
/// as in a fresh fit (Rippa). Every fit checks the updated inverse against the system it stands for (the residual of the solve and of a fixed probe
/// vector, against what a fresh factorisation achieved); when rounding has grown past that, or an update's pivot is too small
/// for its neighbours (a near-singular system, a polynomial that lost its rank), the inverse is computed afresh. Until the
/// points carry the full linear polynomial, and whenever a fresh inverse fails, fits are <see cref="PolyharmonicSpline.Fit"/>
/// itself. Not thread-safe: one writer.
/// </remarks>
public sealed class PolyharmonicSplineWindow
{
    // An updated inverse is refreshed when its residuals exceed this many times those of the fresh inverse it started from...
    private const double DriftFactor = 100;
    // ... or this, whichever is larger. The probe's residual bounds the relative error of the inverse itself (M⁻¹ − B = M⁻¹(I − MB)).
    // With the smallest nugget a 400-centre system has κ(M) near 10⁹, so one drop of a centre alone leaves the inverse about
    // 10⁻⁷–10⁻⁶ off however carefully it is done; what the inverse is used for tolerates far more: the leave-one-out errors are an
    // error model of fractions measured to 10⁻², and the spline's weights are refined against M on every fit. At 10⁻⁴ a window of
    // 400 is refactorised rarely, and the fits stay within 10⁻⁶ of fresh ones (the tests; docs/benchmarks.md part c).
    private const double DriftFloor = 1e-4;
    // A pivot (Schur complement, diagonal of the inverse, Sherman–Morrison denominator) this small against its terms is a
    // near-singular update: refactorise rather than divide by it.
    private const double PivotTolerance = 1e-10;

    private readonly int _dimension;
    private readonly int _terms; // the full linear polynomial: 1 + dimension
    private readonly double[] _smoothings;
    private readonly Queue<WindowPoint> _points = new();
    private readonly List<Centre> _centres = [];
    private readonly Dictionary<double[], Centre> _byPlace = new(SamePlace.Comparer);
    private readonly double[][] _inverses; // per smoothing: M⁻¹, row-major with stride _stride, valid while _factorised
    private readonly double[] _baselines; // per smoothing: the residuals the fresh inverse achieved
    private double[] _kernel; // K over the centres, row-major with stride _stride (offset by nothing: centres only)
    private int _stride;
    private bool _factorised;

    /// <param name="dimension">Coordinates per point.</param>
    /// <param name="smoothings">The nuggets λ ≥ 0 to fit (see <see cref="PolyharmonicSpline.Fit"/>).</param>
    public PolyharmonicSplineWindow(int dimension, IReadOnlyList<double> smoothings)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentNullException.ThrowIfNull(smoothings);
        if (smoothings.Count == 0) throw new ArgumentException("at least one smoothing is needed", nameof(smoothings));
        if (smoothings.Any(s => !(s >= 0) || !double.IsFinite(s))) throw new ArgumentOutOfRangeException(nameof(smoothings), "smoothings must be finite and >= 0");
        _dimension = dimension;
        _terms = dimension + 1;
        _smoothings = [.. smoothings];
        _stride = 64;
        _kernel = new double[_stride * _stride];
        _inverses = _smoothings.Select(_ => new double[_stride * _stride]).ToArray();
        _baselines = new double[_smoothings.Length];
    }

    /// <summary>Points in the window, oldest first.</summary>
    public int Count => _points.Count;

    /// <summary>Distinct places among them (the splines' centres).</summary>
    public int CentreCount => _centres.Count;

    public int Dimension => _dimension;

    public IReadOnlyList<double> Smoothings => _smoothings;

    /// <summary>How many times the inverses were computed afresh (the first time included); the rest were updates.</summary>
    public int Factorisations { get; private set; }

    /// <summary>True when the last <see cref="Fit"/> used updated inverses (false: a fresh factorisation or the plain fit).</summary>
    public bool LastFitWasUpdate { get; private set; }

    /// <summary>The points, oldest first.</summary>
    public IEnumerable<double[]> Points => _points.Select(p => p.Centre.Place);

    /// <summary>Appends a point at the newest end.</summary>
    /// <param name="weight">Relative confidence (e.g. 1/σ²), as in <see cref="PolyharmonicSpline.Fit"/>.</param>
    public void Add(double[] point, double weight = 1)
    {
        ArgumentNullException.ThrowIfNull(point);
        if (point.Length != _dimension) throw new ArgumentException($"expected {_dimension} coordinates, got {point.Length}", nameof(point));
        if (point.Any(v => !double.IsFinite(v))) throw new ArgumentException("the point is not finite", nameof(point));
        if (!(weight > 0) || !double.IsFinite(weight)) throw new ArgumentOutOfRangeException(nameof(weight), weight, "must be positive and finite");
        if (_byPlace.TryGetValue(point, out var centre))
        {
            var before = centre.Weight;
            centre.Points.Enqueue(weight);
            centre.Weight = centre.SumWeights();
            if (_factorised) ChangeNugget(centre.Index, before, centre.Weight);
        }
        else
        {
            centre = new Centre((double[])point.Clone(), _centres.Count);
            centre.Points.Enqueue(weight);
            centre.Weight = weight;
            Border(centre);
        }
        _points.Enqueue(new WindowPoint(weight, centre));
    }

    /// <summary>Drops the oldest point.</summary>
    public void RemoveOldest()
    {
        if (_points.Count == 0) throw new InvalidOperationException("the window is empty");
        var centre = _points.Dequeue().Centre;
        centre.Points.Dequeue();
        if (centre.Points.Count > 0)
        {
            var before = centre.Weight;
            centre.Weight = centre.SumWeights();
            if (_factorised) ChangeNugget(centre.Index, before, centre.Weight);
            return;
        }
        if (_factorised) Unborder(centre.Index);
        RemoveKernelRow(centre.Index);
        _centres.RemoveAt(centre.Index);
        for (var k = centre.Index; k < _centres.Count; k++) _centres[k].Index = k;
        _byPlace.Remove(centre.Place);
    }

    /// <summary>
    /// One spline per smoothing, in the order given, with leave-one-out residuals: the same (to rounding) as
    /// <c>PolyharmonicSpline.Fit(points, values, smoothing, weights, leaveOneOut: true)</c> on the window's points and weights.
    /// </summary>
    /// <param name="values">One value per point, oldest first.</param>
    public IReadOnlyList<PolyharmonicSpline> Fit(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (_points.Count == 0) throw new InvalidOperationException("a spline needs at least one point");
        if (values.Count != _points.Count) throw new ArgumentException($"{_points.Count} points but {values.Count} values", nameof(values));
        for (var i = 0; i < values.Count; i++)
            if (!double.IsFinite(values[i])) throw new ArgumentException($"value {i} is not finite", nameof(values));

        // Merged values and weights exactly as PolyharmonicSpline.Fit merges them: summed in point order.
        var n = _centres.Count;
        var sums = new double[n];
        var weightSums = new double[n];
        var order = new int[n]; // first appearance among the points → centre index
        var rank = new int[n]; Array.Fill(rank, -1);
        var sourceOfCentre = new int[_points.Count];
        var seen = 0;
        var i0 = 0;
        foreach (var point in _points)
        {
            var k = point.Centre.Index;
            sums[k] += point.Weight * values[i0];
            weightSums[k] += point.Weight;
            if (rank[k] < 0) { rank[k] = seen; order[seen++] = k; }
            sourceOfCentre[i0++] = rank[k];
        }
        var merged = new double[n];
        for (var k = 0; k < n; k++) merged[k] = sums[k] / weightSums[k];

        var fresh = !_factorised;
        if (fresh) TryFactorise();
        var splines = _factorised ? SolveAll(merged, order, sourceOfCentre, fresh) : null;
        if (splines is null && _factorised && !fresh)
        {
            // Rounding has drifted past what a fresh inverse achieves: start afresh and solve again.
            fresh = true;
            TryFactorise();
            splines = _factorised ? SolveAll(merged, order, sourceOfCentre, fresh) : null;
        }
        LastFitWasUpdate = splines is not null && !fresh;
        if (splines is not null) return splines;
        // Too few places for the linear polynomial, points on a line, or a singular system: the plain fit knows what to do.
        _factorised = false;
        return PlainFits(values);
    }

    private PolyharmonicSpline[]? SolveAll(double[] merged, int[] order, int[] sourceOfCentre, bool fresh)
    {
        var splines = new PolyharmonicSpline[_smoothings.Length];
        for (var s = 0; s < _smoothings.Length; s++)
        {
            var spline = Solve(s, merged, order, sourceOfCentre, fresh);
            if (spline is null) return null;
            splines[s] = spline;
        }
        return splines;
    }

    private IReadOnlyList<PolyharmonicSpline> PlainFits(IReadOnlyList<double> values)
    {
        var points = _points.Select(p => p.Centre.Place).ToArray();
        var weights = _points.Select(p => p.Weight).ToArray();
        return _smoothings.Select(s => PolyharmonicSpline.Fit(points, values, s, weights, leaveOneOut: true)).ToArray();
    }

    /// <summary>
    /// c = M⁻¹·[0; values], checked against M: a fresh inverse sets the residuals an updated one is held to; null when an updated
    /// inverse no longer stands for its system, or the solution is not finite.
    /// </summary>
    private PolyharmonicSpline? Solve(int s, double[] merged, int[] order, int[] sourceOfCentre, bool fresh)
    {
        var n = _centres.Count;
        var m = _terms + n;
        var inverse = _inverses[s];
        var rhs = new double[m];
        Array.Copy(merged, 0, rhs, _terms, n);
        var c = Multiply(inverse, rhs, m);
        var scale = Math.Max(MaxAbs(rhs), double.Epsilon);
        var product = MultiplySystem(s, c);
        var residual = MaxAbsDifference(product, rhs) / scale;
        // One step of iterative refinement: the weights are then as good as the system allows, not as the updated inverse.
        for (var i = 0; i < m; i++) product[i] = rhs[i] - product[i];
        var correction = Multiply(inverse, product, m);
        for (var i = 0; i < m; i++) c[i] += correction[i];
        var probe = ProbeResidual(s);
        if (c.Any(v => !double.IsFinite(v)) || !double.IsFinite(residual) || !double.IsFinite(probe)) return null;
        if (fresh) _baselines[s] = Math.Max(residual, probe);
        else if (Math.Max(residual, probe) > Math.Max(DriftFactor * _baselines[s], DriftFloor)) return null;

        var centres = new double[n][];
        var weights = new double[n];
        var leaveOneOut = new double[n];
        for (var r = 0; r < n; r++)
        {
            var k = order[r];
            centres[r] = (double[])_centres[k].Place.Clone();
            weights[r] = c[_terms + k];
            // Rippa: the value predicted at k without k, minus the value at k, is −cₖ / (M⁻¹)ₖₖ.
            leaveOneOut[r] = -c[_terms + k] / inverse[(_terms + k) * _stride + _terms + k];
        }
        var polynomial = new double[_terms];
        Array.Copy(c, polynomial, _terms);
        return new PolyharmonicSpline(centres, weights, polynomial, leaveOneOut, sourceOfCentre);
    }

    /// <summary>Computes every smoothing's inverse afresh (LU, as <see cref="PolyharmonicSpline.Fit"/> does); false when the points
    /// do not carry the linear polynomial or a system is singular.</summary>
    private void TryFactorise()
    {
        _factorised = false;
        var n = _centres.Count;
        if (n <= _dimension || !PolyharmonicSpline.HasFullRank(_centres.Select(c => c.Place).ToArray(), _dimension)) return;
        var m = _terms + n;
        for (var s = 0; s < _smoothings.Length; s++)
        {
            var system = Matrix<double>.Build.Dense(m, m, (i, j) => SystemEntry(s, i, j));
            var inverse = system.Inverse();
            var target = _inverses[s];
            for (var i = 0; i < m; i++)
            for (var j = 0; j < m; j++)
            {
                var v = inverse[i, j];
                if (!double.IsFinite(v)) return;
                target[i * _stride + j] = v;
            }
        }
        Factorisations++;
        _factorised = true;
    }

    /// <summary>Entry (i, j) of smoothing s's system, ordered [polynomial; centres].</summary>
    private double SystemEntry(int s, int i, int j)
    {
        if (i < _terms && j < _terms) return 0;
        if (i < _terms) return PolynomialTerm(_centres[j - _terms].Place, i);
        if (j < _terms) return PolynomialTerm(_centres[i - _terms].Place, j);
        var a = i - _terms; var b = j - _terms;
        return a == b ? _smoothings[s] / _centres[a].Weight : _kernel[a * _stride + b];
    }

    private static double PolynomialTerm(double[] place, int term) => term == 0 ? 1 : place[term - 1];

    /// <summary>
    /// M⁻¹·v with one step of iterative refinement against M itself: an update built from the refined vector carries the rounding
    /// of the stored inverse forward instead of multiplying it, so the drift grows by addition, not geometrically.
    /// </summary>
    /// <param name="excludeLast">The newest centre is not yet part of the inverse (it is being bordered in).</param>
    /// <param name="weightOverride">A centre whose weight the inverse still has the old value of.</param>
    private double[] Refined(int s, double[] v, int m, bool excludeLast, (int Centre, double Weight)? weightOverride = null)
    {
        var inverse = _inverses[s];
        var x = Multiply(inverse, v, m);
        var residual = MultiplySystem(s, x, excludeLast ? _centres.Count - 1 : _centres.Count, weightOverride);
        for (var i = 0; i < m; i++) residual[i] = v[i] - residual[i];
        var correction = Multiply(inverse, residual, m);
        for (var i = 0; i < m; i++) x[i] += correction[i];
        return x;
    }

    /// <summary>M·x for smoothing s, from the stored kernel: O(n²).</summary>
    private double[] MultiplySystem(int s, double[] x) => MultiplySystem(s, x, _centres.Count, null);

    private double[] MultiplySystem(int s, double[] x, int n, (int Centre, double Weight)? weightOverride)
    {
        var result = new double[_terms + n];
        for (var a = 0; a < n; a++)
        {
            var place = _centres[a].Place;
            var xa = x[_terms + a];
            // Polynomial rows: Σ_a P_a,t·x_a; centre rows: Σ_t P_a,t·x_t + Σ_b K_ab·x_b + nugget·x_a.
            var row = x[0];
            result[0] += xa;
            for (var t = 1; t < _terms; t++) { result[t] += place[t - 1] * xa; row += place[t - 1] * x[t]; }
            var offset = a * _stride;
            for (var b = 0; b < n; b++) row += _kernel[offset + b] * x[_terms + b];
            var weight = weightOverride is { } o && o.Centre == a ? o.Weight : _centres[a].Weight;
            result[_terms + a] = row + _smoothings[s] / weight * xa;
        }
        return result;
    }

    /// <summary>‖M·(M⁻¹·v) − v‖∞ / ‖v‖∞ for a fixed vector of ±1 (not the data: it sees the whole inverse, not one direction).</summary>
    private double ProbeResidual(int s)
    {
        var m = _terms + _centres.Count;
        var probe = new double[m];
        for (var i = 0; i < m; i++) probe[i] = (i * 2654435761u % 7) < 4 ? 1 : -1;
        return MaxAbsDifference(MultiplySystem(s, Multiply(_inverses[s], probe, m)), probe);
    }

    /// <summary>A new centre (appended last): its kernel row, and each inverse bordered by it.</summary>
    private void Border(Centre centre)
    {
        var n = _centres.Count;
        EnsureCapacity(_terms + n + 1);
        for (var a = 0; a < n; a++)
        {
            var k = PolyharmonicSpline.Kernel(_centres[a].Place, centre.Place);
            _kernel[a * _stride + n] = k;
            _kernel[n * _stride + a] = k;
        }
        _kernel[n * _stride + n] = 0;
        _centres.Add(centre);
        _byPlace[centre.Place] = centre;
        if (!_factorised) return;

        var m = _terms + n;
        var column = new double[m];
        for (var t = 0; t < _terms; t++) column[t] = PolynomialTerm(centre.Place, t);
        for (var a = 0; a < n; a++) column[_terms + a] = _kernel[a * _stride + n];
        for (var s = 0; s < _smoothings.Length; s++)
        {
            var inverse = _inverses[s];
            var u = Refined(s, column, m, excludeLast: true);
            var nugget = _smoothings[s] / centre.Weight;
            var bu = Dot(column, u, m);
            var sigma = nugget - bu;
            if (!(Math.Abs(sigma) > PivotTolerance * (Math.Abs(nugget) + Math.Abs(bu)))) { _factorised = false; return; }
            for (var i = 0; i < m; i++)
            {
                var ui = u[i] / sigma;
                var row = i * _stride;
                for (var j = 0; j < m; j++) inverse[row + j] += ui * u[j];
                inverse[row + m] = -ui;
                inverse[m * _stride + i] = -ui;
            }
            inverse[m * _stride + m] = 1 / sigma;
        }
    }

    /// <summary>Centre k leaves: each inverse becomes M⁻¹ − ffᵀ/g without row and column k, compacted in place.</summary>
    private void Unborder(int centreIndex)
    {
        var m = _terms + _centres.Count;
        var k = _terms + centreIndex;
        var unit = new double[m];
        unit[k] = 1;
        for (var s = 0; s < _smoothings.Length; s++)
        {
            var inverse = _inverses[s];
            var f = Refined(s, unit, m, excludeLast: false);
            var g = f[k];
            var largest = 0.0;
            for (var i = 0; i < m; i++) largest = Math.Max(largest, Math.Abs(inverse[i * _stride + i]));
            if (!(Math.Abs(g) > PivotTolerance * largest)) { _factorised = false; return; }
            // Row-major in place: every entry is written at or before where it was read, so nothing unread is overwritten.
            for (var i = 0; i < m; i++)
            {
                if (i == k) continue;
                var fi = f[i] / g;
                var from = i * _stride;
                var to = (i < k ? i : i - 1) * _stride;
                for (var j = 0; j < m; j++)
                {
                    if (j == k) continue;
                    inverse[to + (j < k ? j : j - 1)] = inverse[from + j] - fi * f[j];
                }
            }
        }
    }

    /// <summary>Centre k's nugget λ/w changes with its weight: Sherman–Morrison on each inverse.</summary>
    private void ChangeNugget(int centreIndex, double weightBefore, double weightAfter)
    {
        var m = _terms + _centres.Count;
        var k = _terms + centreIndex;
        var unit = new double[m];
        unit[k] = 1;
        for (var s = 0; s < _smoothings.Length; s++)
        {
            // M still has the old nugget here: the centre's weight is restored for the refinement's product.
            var delta = _smoothings[s] / weightAfter - _smoothings[s] / weightBefore;
            if (delta == 0) continue;
            var inverse = _inverses[s];
            var f = Refined(s, unit, m, excludeLast: false, weightOverride: (centreIndex, weightBefore));
            var denominator = 1 + delta * f[k];
            if (!(Math.Abs(denominator) > PivotTolerance * (1 + Math.Abs(delta * f[k])))) { _factorised = false; return; }
            var factor = delta / denominator;
            for (var i = 0; i < m; i++)
            {
                var fi = factor * f[i];
                var row = i * _stride;
                for (var j = 0; j < m; j++) inverse[row + j] -= fi * f[j];
            }
        }
    }

    private void RemoveKernelRow(int a)
    {
        var n = _centres.Count;
        for (var i = 0; i < n; i++)
        {
            if (i == a) continue;
            var from = i * _stride;
            var to = (i < a ? i : i - 1) * _stride;
            for (var j = 0; j < n; j++)
            {
                if (j == a) continue;
                _kernel[to + (j < a ? j : j - 1)] = _kernel[from + j];
            }
        }
    }

    private void EnsureCapacity(int size)
    {
        if (size <= _stride) return;
        var stride = Math.Max(size, 2 * _stride);
        _kernel = Regrow(_kernel, _stride, stride);
        for (var s = 0; s < _inverses.Length; s++) _inverses[s] = Regrow(_inverses[s], _stride, stride);
        _stride = stride;
    }

    private static double[] Regrow(double[] matrix, int oldStride, int newStride)
    {
        var grown = new double[newStride * newStride];
        for (var i = 0; i < oldStride; i++) Array.Copy(matrix, i * oldStride, grown, i * newStride, oldStride);
        return grown;
    }

    private double[] Multiply(double[] matrix, double[] x, int m)
    {
        var result = new double[m];
        for (var i = 0; i < m; i++)
        {
            var sum = 0.0;
            var row = i * _stride;
            for (var j = 0; j < m; j++) sum += matrix[row + j] * x[j];
            result[i] = sum;
        }
        return result;
    }

    private static double Dot(double[] a, double[] b, int m)
    {
        var sum = 0.0;
        for (var i = 0; i < m; i++) sum += a[i] * b[i];
        return sum;
    }

    private static double MaxAbs(double[] x) => x.Length == 0 ? 0 : x.Max(Math.Abs);

    private static double MaxAbsDifference(double[] a, double[] b)
    {
        var worst = 0.0;
        for (var i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        return worst;
    }

    private sealed record WindowPoint(double Weight, Centre Centre);

    private sealed class Centre(double[] place, int index)
    {
        public double[] Place { get; } = place;
        public int Index { get; set; } = index;
        public double Weight { get; set; }
        /// <summary>The weights of the centre's points, oldest first.</summary>
        public Queue<double> Points { get; } = new();

        // Summed in point order, as the plain fit's merge does, so the nugget is the same to the last bit.
        public double SumWeights()
        {
            var sum = 0.0;
            foreach (var w in Points) sum += w;
            return sum;
        }
    }
}

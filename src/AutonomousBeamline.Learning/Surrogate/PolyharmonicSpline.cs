using MathNet.Numerics.LinearAlgebra;

namespace AutonomousBeamline.Learning.Surrogate;

/// <summary>
/// A thin-plate (polyharmonic, φ(r) = r²·ln r) spline with a linear polynomial, s(p) = Σ wᵢ·φ(|p − pᵢ|) + a₀ + a·p, in any
/// number of dimensions. With <c>smoothing</c> = 0 it interpolates; with a positive value it trades closeness for smoothness
/// (a nugget λ/weightᵢ on the diagonal), which is what noisy measurements need. Immutable once fitted.
/// </summary>
/// <remarks>
/// The leave-one-out residuals come without refitting n times: for the augmented system M·c = [y; 0], the residual of point i
/// left out is cᵢ / (M⁻¹)ᵢᵢ (Rippa, 1999). Points at the same place are merged (their values averaged), so a spot measured twice
/// does not make the system singular. With too few points, or points on a line, for the linear polynomial, the polynomial is
/// only a constant.
/// </remarks>
public sealed class PolyharmonicSpline
{
    private const double MinimumNugget = 1e-9;

    private readonly double[][] _centres;
    private readonly double[] _weights;
    private readonly double[] _polynomial;

    internal PolyharmonicSpline(double[][] centres, double[] weights, double[] polynomial, double[]? leaveOneOut, int[] sourceOfCentre)
    {
        _centres = centres;
        _weights = weights;
        _polynomial = polynomial;
        LeaveOneOutResiduals = leaveOneOut;
        CentreOfPoint = sourceOfCentre;
    }

    /// <summary>Distinct centres the spline was fitted on (points at the same place are one centre).</summary>
    public int CentreCount => _centres.Length;

    /// <summary>Coordinates of centre <paramref name="index"/>.</summary>
    public IReadOnlyList<double> Centre(int index) => _centres[index];

    /// <summary>Value at centre k left out minus its (merged) value, per centre; null unless asked for.</summary>
    public IReadOnlyList<double>? LeaveOneOutResiduals { get; }

    /// <summary>For each input point, the centre it was merged into.</summary>
    public IReadOnlyList<int> CentreOfPoint { get; }

    /// <param name="points">Coordinates, all of the same dimension.</param>
    /// <param name="values">One value per point.</param>
    /// <param name="smoothing">λ ≥ 0: the diagonal nugget, in the units of the values squared per unit weight.</param>
    /// <param name="weights">Relative confidence per point (e.g. 1/σ²); 1 when null. A merged centre sums its points' weights.</param>
    /// <param name="leaveOneOut">Also compute <see cref="LeaveOneOutResiduals"/> (one matrix inverse).</param>
    public static PolyharmonicSpline Fit(IReadOnlyList<double[]> points, IReadOnlyList<double> values, double smoothing = 0,
        IReadOnlyList<double>? weights = null, bool leaveOneOut = false)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(values);
        if (points.Count == 0) throw new ArgumentException("a spline needs at least one point", nameof(points));
        if (points.Count != values.Count) throw new ArgumentException($"{points.Count} points but {values.Count} values", nameof(values));
        if (weights is not null && weights.Count != points.Count) throw new ArgumentException($"{points.Count} points but {weights.Count} weights", nameof(weights));
        if (!(smoothing >= 0) || !double.IsFinite(smoothing)) throw new ArgumentOutOfRangeException(nameof(smoothing), smoothing, "must be finite and >= 0");
        var dimension = points[0].Length;
        for (var i = 0; i < points.Count; i++)
        {
            if (points[i].Length != dimension) throw new ArgumentException($"point {i} has {points[i].Length} coordinates, point 0 has {dimension}", nameof(points));
            if (points[i].Any(v => !double.IsFinite(v)) || !double.IsFinite(values[i]))
                throw new ArgumentException($"point {i} is not finite", nameof(points));
            if (weights is not null && !(weights[i] > 0 && double.IsFinite(weights[i])))
                throw new ArgumentException($"weight {i} must be positive and finite, got {weights[i]}", nameof(weights));
        }

        var (centres, merged, mergedWeights, sourceOfCentre) = Merge(points, values, weights);
        var n = centres.Length;
        var polynomialTerms = n > dimension && HasFullRank(centres, dimension) ? dimension + 1 : 1;
        var size = n + polynomialTerms;
        var m = Matrix<double>.Build.Dense(size, size);
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < i; j++)
            {
                var k = Kernel(centres[i], centres[j]);
                m[i, j] = k; m[j, i] = k;
            }
            m[i, i] = smoothing / mergedWeights[i];
            m[i, n] = 1; m[n, i] = 1;
            for (var d = 1; d < polynomialTerms; d++) { m[i, n + d] = centres[i][d - 1]; m[n + d, i] = centres[i][d - 1]; }
        }
        var rhs = Vector<double>.Build.Dense(size);
        for (var i = 0; i < n; i++) rhs[i] = merged[i];

        double[] solution;
        double[]? residuals = null;
        if (n == 1)
        {
            solution = new double[size];
            solution[n] = merged[0];
            if (leaveOneOut) residuals = [double.NaN];
        }
        else if (leaveOneOut)
        {
            var inverse = m.Inverse();
            var c = inverse * rhs;
            solution = c.ToArray();
            residuals = new double[n];
            // Rippa: the value predicted at i without i, minus the value at i, is −cᵢ / (M⁻¹)ᵢᵢ.
            for (var i = 0; i < n; i++) residuals[i] = -c[i] / inverse[i, i];
        }
        else
        {
            solution = m.LU().Solve(rhs).ToArray();
        }
        if (solution.Any(v => !double.IsFinite(v)))
        {
            // Points on a line with only a constant term can leave the interpolation system singular: a tiny nugget regularises it
            // and changes the interpolant by far less than any measurement's noise.
            if (smoothing < MinimumNugget) return Fit(points, values, MinimumNugget, weights, leaveOneOut);
            throw new InvalidOperationException($"the spline system over {n} points is singular (smoothing {smoothing})");
        }
        var polynomial = new double[dimension + 1];
        for (var d = 0; d < polynomialTerms; d++) polynomial[d] = solution[n + d];
        return new PolyharmonicSpline(centres, solution[..n], polynomial, residuals, sourceOfCentre);
    }

    /// <summary>The spline's value at <paramref name="point"/>.</summary>
    public double Evaluate(ReadOnlySpan<double> point)
    {
        if (point.Length != _polynomial.Length - 1) throw new ArgumentException($"expected {_polynomial.Length - 1} coordinates, got {point.Length}", nameof(point));
        var value = _polynomial[0];
        for (var d = 0; d < point.Length; d++) value += _polynomial[d + 1] * point[d];
        for (var i = 0; i < _centres.Length; i++) value += _weights[i] * Kernel(_centres[i], point);
        return value;
    }

    internal static double Kernel(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var r2 = 0.0;
        for (var d = 0; d < a.Length; d++) { var t = a[d] - b[d]; r2 += t * t; }
        // r²·ln r = ½·r²·ln r², and 0 at r = 0.
        return r2 <= 0 ? 0 : 0.5 * r2 * Math.Log(r2);
    }

    internal static bool HasFullRank(IReadOnlyList<double[]> centres, int dimension)
    {
        var p = Matrix<double>.Build.Dense(centres.Count, dimension + 1, (i, d) => d == 0 ? 1 : centres[i][d - 1]);
        return p.Rank() == dimension + 1;
    }

    private static (double[][] Centres, double[] Values, double[] Weights, int[] SourceOfCentre) Merge(
        IReadOnlyList<double[]> points, IReadOnlyList<double> values, IReadOnlyList<double>? weights)
    {
        var index = new Dictionary<double[], int>(SamePlace.Comparer);
        var centres = new List<double[]>();
        var sums = new List<double>();
        var weightSums = new List<double>();
        var of = new int[points.Count];
        for (var i = 0; i < points.Count; i++)
        {
            var key = points[i];
            var w = weights?[i] ?? 1.0;
            if (!index.TryGetValue(key, out var k))
            {
                k = centres.Count;
                index[key] = k;
                centres.Add((double[])points[i].Clone());
                sums.Add(0);
                weightSums.Add(0);
            }
            sums[k] += w * values[i];
            weightSums[k] += w;
            of[i] = k;
        }
        return ([.. centres], sums.Select((s, k) => s / weightSums[k]).ToArray(), [.. weightSums], of);
    }
}

/// <summary>Points at the same place: equal coordinates bit for bit, with −0 and +0 the same (what the spline merges).</summary>
internal sealed class SamePlace : IEqualityComparer<double[]>
{
    public static SamePlace Comparer { get; } = new();

    public bool Equals(double[]? a, double[]? b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a is null || b is null || a.Length != b.Length) return false;
        for (var d = 0; d < a.Length; d++)
            if (BitConverter.DoubleToInt64Bits(a[d] + 0.0) != BitConverter.DoubleToInt64Bits(b[d] + 0.0)) return false;
        return true;
    }

    public int GetHashCode(double[] point)
    {
        var hash = new HashCode();
        foreach (var v in point) hash.Add(BitConverter.DoubleToInt64Bits(v + 0.0));
        return hash.ToHashCode();
    }
}

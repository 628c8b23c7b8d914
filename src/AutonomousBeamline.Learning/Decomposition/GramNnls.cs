using MathNet.Numerics.LinearAlgebra;

namespace AutonomousBeamline.Learning.Decomposition;

/// <summary>
/// Non-negative least squares from the normal equations (Lawson and Hanson's active set in the Gram form of Bro and
/// de Jong, J. Chemometrics 11, 1997): min ‖y − A x‖ with x ≥ 0, given G = AᵀA and b = Aᵀy. MCR-ALS solves one such
/// problem per frame and per channel with the same few-column G, so forming G once and solving from it is what keeps an
/// update cheap. MathNet has no NNLS; the passive-set solves are its.
/// </summary>
internal static class GramNnls
{
    public static double[] Solve(Matrix<double> gram, double[] rhs)
    {
        var k = rhs.Length;
        var x = new double[k];
        var passive = new bool[k];
        var tolerance = 1e-12 * Math.Max(1, Enumerable.Range(0, k).Max(i => Math.Abs(gram[i, i]))) * Math.Max(1, rhs.Max(Math.Abs));
        for (var outer = 0; outer < 3 * k + 3; outer++)
        {
            var gradient = Gradient(gram, rhs, x);
            var enter = -1;
            for (var j = 0; j < k; j++)
                if (!passive[j] && gradient[j] > tolerance && (enter < 0 || gradient[j] > gradient[enter])) enter = j;
            if (enter < 0) break;
            passive[enter] = true;
            for (var inner = 0; inner < 3 * k + 3; inner++)
            {
                var s = SolvePassive(gram, rhs, passive);
                if (Enumerable.Range(0, k).All(j => !passive[j] || s[j] > 0)) { x = s; break; }
                // Step from x towards s until the first passive coefficient reaches zero, and let it go.
                var alpha = 1.0;
                for (var j = 0; j < k; j++)
                    if (passive[j] && s[j] <= 0) alpha = Math.Min(alpha, x[j] / (x[j] - s[j]));
                for (var j = 0; j < k; j++)
                {
                    x[j] += alpha * (s[j] - x[j]);
                    if (passive[j] && x[j] <= 1e-15 * Math.Max(1, Math.Abs(s[j]))) { passive[j] = false; x[j] = 0; }
                }
            }
        }
        return x;
    }

    private static double[] Gradient(Matrix<double> gram, double[] rhs, double[] x)
    {
        var g = new double[rhs.Length];
        for (var i = 0; i < rhs.Length; i++)
        {
            var s = rhs[i];
            for (var j = 0; j < rhs.Length; j++) s -= gram[i, j] * x[j];
            g[i] = s;
        }
        return g;
    }

    private static double[] SolvePassive(Matrix<double> gram, double[] rhs, bool[] passive)
    {
        var index = Enumerable.Range(0, rhs.Length).Where(j => passive[j]).ToArray();
        var sub = Matrix<double>.Build.Dense(index.Length, index.Length, (r, c) => gram[index[r], index[c]]);
        var b = Vector<double>.Build.Dense(index.Length, r => rhs[index[r]]);
        // Cholesky when the sub-problem is well posed; two nearly equal components make it singular, and then the
        // pseudo-inverse (SVD) solves it rather than throwing mid-run.
        var cholesky = sub.Cholesky();
        var solved = cholesky.Determinant > 1e-14 * Enumerable.Range(0, index.Length).Aggregate(1.0, (p, i) => p * sub[i, i])
            ? cholesky.Solve(b)
            : sub.Svd(computeVectors: true).Solve(b);
        var s = new double[rhs.Length];
        for (var r = 0; r < index.Length; r++) s[index[r]] = solved[r];
        return s;
    }
}

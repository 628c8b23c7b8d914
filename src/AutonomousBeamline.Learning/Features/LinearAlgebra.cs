namespace AutonomousBeamline.Learning.Features;

/// <summary>The little dense linear algebra the analysers need, on small (tens of columns) matrices.</summary>
internal static class LinearAlgebra
{
    /// <summary>
    /// Inverts a symmetric positive definite matrix via its Cholesky factor.
    /// Throws when the matrix is singular to working precision, naming <paramref name="what"/>.
    /// </summary>
    public static double[,] InvertSymmetricPositiveDefinite(double[,] matrix, string what)
    {
        var n = matrix.GetLength(0);
        if (matrix.GetLength(1) != n) throw new ArgumentException("matrix is not square", nameof(matrix));
        var l = new double[n, n];
        var maxDiagonal = 0.0;
        for (var i = 0; i < n; i++) maxDiagonal = Math.Max(maxDiagonal, matrix[i, i]);
        for (var j = 0; j < n; j++)
        {
            var sum = matrix[j, j];
            for (var k = 0; k < j; k++) sum -= l[j, k] * l[j, k];
            if (!(sum > 1e-12 * maxDiagonal))
                throw new InvalidOperationException($"{what}: the normal equations are singular (column {j} is not independent of the others)");
            l[j, j] = Math.Sqrt(sum);
            for (var i = j + 1; i < n; i++)
            {
                var s = matrix[i, j];
                for (var k = 0; k < j; k++) s -= l[i, k] * l[j, k];
                l[i, j] = s / l[j, j];
            }
        }
        // Invert L (lower triangular), then A⁻¹ = L⁻ᵀ L⁻¹.
        var lInv = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            lInv[i, i] = 1 / l[i, i];
            for (var j = 0; j < i; j++)
            {
                var s = 0.0;
                for (var k = j; k < i; k++) s -= l[i, k] * lInv[k, j];
                lInv[i, j] = s / l[i, i];
            }
        }
        var inverse = new double[n, n];
        for (var i = 0; i < n; i++)
        for (var j = 0; j <= i; j++)
        {
            var s = 0.0;
            for (var k = i; k < n; k++) s += lInv[k, i] * lInv[k, j];
            inverse[i, j] = s;
            inverse[j, i] = s;
        }
        return inverse;
    }
}

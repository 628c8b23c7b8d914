using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace AutonomousBeamline.Learning.Features;

/// <summary>
/// The shares of k normalised reference spectra in a normalised spectrum, with a σ that is honest when the references are not
/// quite the sample. Two models of the XANES region are fitted by least squares, the shares summing to 1:
/// <list type="bullet">
/// <item>narrow: μ − r₁ = Σᵢ₌₂..ₖ cᵢ (rᵢ − r₁) + a + b·(E − Ē), the line taking what the edge-step normalisation left over (Athena's
/// "linear term");</item>
/// <item>wide: the same plus sⱼ·drⱼ/dE for every reference, a linearised energy shift of each (Athena's "fit E0" for each
/// standard).</item>
/// </list>
/// An energy offset between references and sample looks much like a change of the shares, so the narrow fit absorbs it into them
/// with little trace in its residuals. The wide fit sees it but, its columns nearly collinear, turns any other mismatch (white lines or
/// widths off) into a larger error of the shares. So the wide fit is reported only when the data resolve the shifts (a Wald test at
/// 3σ with the jackknife covariance, as the diffraction analyser moves a peak only for a shift beyond 3σ); otherwise the narrow fit is,
/// with its variance plus an estimate of its squared bias from an unresolved offset: the squared difference of the two fits' shares
/// less the part of it their variances explain (E[(wide − narrow)²] = bias² + Var(wide) − Var(narrow) for nested fits; the bias
/// estimate of Claeskens and Hjort's focused information criterion).
/// <para>Each model's variance is its least-squares variance for the counting noise (measured apart from any mismatch, by
/// <see cref="NoiseVariance"/>) plus the excess of a leave-one-block-out jackknife (CV3) over what the same jackknife would show for
/// that noise alone. The blocks are contiguous and hold equal shares of the information on the shares. Mismatch residuals are
/// correlated along the edge and sit where the fit has its leverage; there the fit absorbs them, so the plain sandwich of residuals
/// (CV0) sees little of them, while a fit without the block must predict it. The first and last blocks hold the flat ends of the
/// region, which fix the line: leaving one out shows how much the shares lean on the line, which is where much of a mismatch's
/// error comes from (and why this jackknife overstates pure noise, so only its excess counts). Blocks must be wider than the
/// residuals' correlation length (edge and white-line widths, a few eV), which limits how many there can be: with 12 instead of 8
/// the σ came out too small again (docs/benchmarks.md, part s). Measured, not proven: a mismatch common to all references (their
/// structure above the step scaled alike) moves the shares less than the jackknife fears, and the σ is then conservative.</para>
/// </summary>
internal static class ReferenceCombination
{
    /// <summary>The line's slope is per this many eV, so that its column is on the scale of the others.</summary>
    private const double SlopeScaleEv = 10;

    /// <summary>The shifts are resolved when their Wald statistic exceeds this quantile of χ² (3σ of a normal).</summary>
    private const double ShiftConfidence = 0.9973;

    /// <param name="Fractions">Every reference's share, clipped to [0, 1].</param>
    /// <param name="Sigmas">Their σ: the root of the reported model's estimated mean squared error.</param>
    public sealed record Result(double[] Fractions, double[] Sigmas);

    /// <param name="Variances">Each share's variance: counting noise plus the jackknife's excess over what counting noise alone
    /// would give it; least squares from the residuals without blocks, or when leaving a block out leaves the model undetermined
    /// (<see cref="Jackknife"/> null).</param>
    private sealed record ModelFit(Vector<double> Coefficients, double[] Fractions, double[] Variances, Matrix<double>? Jackknife);

    /// <param name="energies">The scan's energies, ascending.</param>
    /// <param name="data">The normalised spectrum.</param>
    /// <param name="references">The normalised references on the same energies (at least two).</param>
    /// <param name="shiftSlopes">d/dE of each normalised reference, for the wide model; null fits the narrow one only.</param>
    /// <param name="inside">Indices of the points in the fit region, ascending.</param>
    /// <param name="blocks">Jackknife blocks; 0 reports the narrow model's least-squares σ alone (counting noise only).</param>
    /// <param name="noiseVariance">The counting noise's variance per point (<see cref="NoiseVariance"/>), which the jackknife's excess
    /// is measured against.</param>
    /// <returns>Null when the narrow model cannot be fitted (too few points, or references that do not differ).</returns>
    public static Result? Fit(double[] energies, double[] data, IReadOnlyList<double[]> references, IReadOnlyList<double[]>? shiftSlopes,
        int[] inside, int blocks, double noiseVariance)
    {
        var k = references.Count;
        if (k < 2) throw new ArgumentException("a combination needs at least two references", nameof(references));
        var center = inside.Average(i => energies[i]);
        var narrowColumns = new List<Func<int, double>>();
        for (var a = 1; a < k; a++)
        {
            var reference = references[a];
            narrowColumns.Add(i => reference[i] - references[0][i]);
        }
        narrowColumns.Add(_ => 1.0);
        narrowColumns.Add(i => (energies[i] - center) / SlopeScaleEv);
        var target = Vector<double>.Build.DenseOfEnumerable(inside.Select(i => data[i] - references[0][i]));

        var narrow = FitModel(Design(narrowColumns, inside), target, k, blocks, noiseVariance);
        if (narrow is null) return null;
        if (blocks == 0 || shiftSlopes is null) return Report(narrow, squaredBias: null);

        var wideColumns = new List<Func<int, double>>(narrowColumns);
        foreach (var slope in shiftSlopes) wideColumns.Add(i => slope[i]);
        var wide = FitModel(Design(wideColumns, inside), target, k, blocks, noiseVariance);
        // A wide model whose jackknife fails cannot say how wrong it is: it is neither reported nor used for the bias.
        if (wide?.Jackknife is null) return Report(narrow, squaredBias: null);

        var wald = ShiftWald(wide, first: narrowColumns.Count, count: shiftSlopes.Count);
        if (wald > ChiSquared.InvCDF(shiftSlopes.Count, ShiftConfidence)) return Report(wide, squaredBias: null);
        var squaredBias = new double[k];
        for (var a = 0; a < k; a++)
        {
            var difference = wide.Fractions[a] - narrow.Fractions[a];
            squaredBias[a] = Math.Max(0, difference * difference - Math.Max(0, wide.Variances[a] - narrow.Variances[a]));
        }
        return Report(narrow, squaredBias);
    }

    /// <summary>The Wald statistic of the shift coefficients against zero, with their jackknife covariance (0 when it is singular).</summary>
    private static double ShiftWald(ModelFit wide, int first, int count)
    {
        var shifts = wide.Coefficients.SubVector(first, count);
        var inverse = Invert(wide.Jackknife!.SubMatrix(first, count, first, count));
        return inverse is null ? 0 : shifts.DotProduct(inverse * shifts);
    }

    private static Result Report(ModelFit fit, double[]? squaredBias)
    {
        var k = fit.Fractions.Length;
        var sigmas = new double[k];
        for (var a = 0; a < k; a++) sigmas[a] = Math.Sqrt(fit.Variances[a] + (squaredBias?[a] ?? 0));
        return new Result(fit.Fractions.Select(f => Math.Clamp(f, 0, 1)).ToArray(), sigmas);
    }

    private static Matrix<double> Design(List<Func<int, double>> columns, int[] inside) =>
        Matrix<double>.Build.Dense(inside.Length, columns.Count, (row, column) => columns[column](inside[row]));

    /// <summary>Least squares of <paramref name="x"/> (its first k − 1 columns the shares of references 2..k), and each share's variance.</summary>
    private static ModelFit? FitModel(Matrix<double> x, Vector<double> target, int k, int blocks, double noiseVariance)
    {
        var (n, p) = (x.RowCount, x.ColumnCount);
        if (n < p + 2) return null;
        var normal = x.TransposeThisAndMultiply(x);
        var inverse = Invert(normal);
        if (inverse is null) return null;
        var coefficients = inverse * x.TransposeThisAndMultiply(target);
        var residuals = target - x * coefficients;
        var leastSquares = inverse * (residuals.DotProduct(residuals) / (n - p));

        // Share 1 is 1 − Σ cᵢ; share a (a ≥ 2) is c_a: each as a linear combination g of the coefficients (its constant aside).
        var shares = Enumerable.Range(0, k).Select(a =>
        {
            var g = Vector<double>.Build.Dense(p);
            if (a == 0) for (var j = 0; j < k - 1; j++) g[j] = -1;
            else g[a - 1] = 1;
            return g;
        }).ToArray();
        var fractions = new double[k];
        fractions[0] = 1 - coefficients.SubVector(0, k - 1).Sum();
        for (var a = 1; a < k; a++) fractions[a] = coefficients[a - 1];

        var jackknife = blocks > 0 && noiseVariance >= 0 ? Jackknife(x, normal, inverse, residuals, shares.Skip(1).ToArray(), blocks) : null;
        var variances = shares.Select(g =>
        {
            // Without a jackknife: least squares from the residuals, which a mismatch inflates a little.
            if (jackknife is null) return g.DotProduct(leastSquares * g);
            var counting = noiseVariance * g.DotProduct(inverse * g);
            var mismatch = g.DotProduct(jackknife.Value.Observed * g) - noiseVariance * g.DotProduct(jackknife.Value.PerUnitNoise * g);
            return counting + Math.Max(0, mismatch);
        }).ToArray();
        return new ModelFit(coefficients, fractions, variances, jackknife?.Observed);
    }

    /// <summary>
    /// The leave-one-block-out covariance of the coefficients, (B − 1)/B Σ_b δ_b δ_bᵀ with δ_b = (XᵀX − X_bᵀX_b)⁻¹ X_bᵀ r_b, the
    /// change of the fit when block b is left out; and what it would be for independent noise of unit variance alone,
    /// (B − 1)/B Σ_b A_b⁻¹ (S_b − S_b (XᵀX)⁻¹ S_b) A_b⁻¹ with S_b = X_bᵀX_b and A_b = XᵀX − S_b (the jackknife overstates counting
    /// noise where leaving a block out makes the line extrapolate). Null when leaving a block out leaves the model undetermined.
    /// </summary>
    private static (Matrix<double> Observed, Matrix<double> PerUnitNoise)? Jackknife(Matrix<double> x, Matrix<double> normal, Matrix<double> inverse,
        Vector<double> residuals, IReadOnlyList<Vector<double>> shares, int blocks)
    {
        var (n, p) = (x.RowCount, x.ColumnCount);
        var blockOf = Blocks(x, inverse, shares, blocks);
        var observed = Matrix<double>.Build.Dense(p, p);
        var perUnitNoise = Matrix<double>.Build.Dense(p, p);
        var used = 0;
        for (var b = 0; b < blocks; b++)
        {
            var rows = Enumerable.Range(0, n).Where(i => blockOf[i] == b).ToArray();
            if (rows.Length == 0) continue;
            var xb = Matrix<double>.Build.Dense(rows.Length, p, (r, c) => x[rows[r], c]);
            var rb = Vector<double>.Build.DenseOfEnumerable(rows.Select(i => residuals[i]));
            var sb = xb.TransposeThisAndMultiply(xb);
            var without = Invert(normal - sb);
            if (without is null) return null;
            var change = without * xb.TransposeThisAndMultiply(rb);
            observed += change.OuterProduct(change);
            perUnitNoise += without * (sb - sb * inverse * sb) * without;
            used++;
        }
        if (used < 2) return null;
        var factor = (used - 1.0) / used;
        return (observed * factor, perUnitNoise * factor);
    }

    /// <summary>Contiguous blocks of the rows of <paramref name="x"/> holding equal shares of the information on the
    /// <paramref name="shares"/> (each a gradient in the coefficients): each row's influence on each, squared, as a part of its total.</summary>
    private static int[] Blocks(Matrix<double> x, Matrix<double> inverse, IReadOnlyList<Vector<double>> shares, int blocks)
    {
        var n = x.RowCount;
        var weight = new double[n];
        foreach (var share in shares)
        {
            var influence = x * (inverse * share);
            var total = influence.DotProduct(influence);
            if (total > 0) for (var i = 0; i < n; i++) weight[i] += influence[i] * influence[i] / total;
        }
        var sum = weight.Sum();
        var blockOf = new int[n];
        var cumulative = 0.0;
        for (var i = 0; i < n; i++)
        {
            cumulative += weight[i];
            blockOf[i] = Math.Min(blocks - 1, (int)((cumulative - weight[i] / 2) / sum * blocks));
        }
        return blockOf;
    }

    /// <summary>
    /// How much of one least-squares estimate's mismatch error another shares: two fits of data that are the same measurement
    /// (the second's points a linear map <paramref name="secondFromFirst"/> of the first's), g₁·β₁ and g₂·β₂, each jackknifed
    /// leaving out the same stretch of energies (the second's blocks hold equal shares of its information; a first point belongs to
    /// the block whose points surround it, by <paramref name="firstBlocks"/>). Returns the two jackknife variances and their
    /// covariance, each less what independent noise of <paramref name="noiseVariance"/> per first point alone would give it (the
    /// changes are linear maps of the first's data, so that part is known exactly); null when leaving a block out leaves a fit
    /// undetermined.
    /// </summary>
    public static (double First, double Second, double Covariance)? JointMismatch(double[,] firstDesign, double[] firstTarget, double[] firstGradient,
        double[,] secondDesign, double[] secondTarget, double[] secondGradient, double[,] secondFromFirst, Func<int[], int[]> firstBlocks,
        int blocks, double noiseVariance)
    {
        var x2 = Matrix<double>.Build.DenseOfArray(secondDesign);
        var inverse2 = Invert(x2.TransposeThisAndMultiply(x2));
        if (inverse2 is null) return null;
        var g2 = Vector<double>.Build.DenseOfArray(secondGradient);
        var blocksOfSecond = Blocks(x2, inverse2, [g2], blocks);
        var first = BlockChanges(Matrix<double>.Build.DenseOfArray(firstDesign), firstTarget, firstGradient, firstBlocks(blocksOfSecond), blocks);
        var second = BlockChanges(x2, secondTarget, secondGradient, blocksOfSecond, blocks);
        if (first is null || second is null) return null;
        var map = Matrix<double>.Build.DenseOfArray(secondFromFirst);
        double v1 = 0, v2 = 0, c = 0;
        var used = 0;
        for (var b = 0; b < blocks; b++)
        {
            if (first[b] is not { } one || second[b] is not { } two) continue;
            // The second's change as a map of the first's points, for the noise the two share.
            var twoOnFirst = map.TransposeThisAndMultiply(two.Map);
            v1 += one.Change * one.Change - noiseVariance * one.Map.DotProduct(one.Map);
            v2 += two.Change * two.Change - noiseVariance * twoOnFirst.DotProduct(twoOnFirst);
            c += one.Change * two.Change - noiseVariance * one.Map.DotProduct(twoOnFirst);
            used++;
        }
        if (used < 2) return null;
        var factor = (used - 1.0) / used;
        return (v1 * factor, v2 * factor, c * factor);
    }

    /// <summary>For each block: the change of g·β when it is left out, g·(XᵀX − X_bᵀX_b)⁻¹X_bᵀr_b, and that change as a linear map of
    /// the data (a row over the points); null for an empty block, and null in all when leaving a block out leaves the fit undetermined.</summary>
    private static (double Change, Vector<double> Map)?[]? BlockChanges(Matrix<double> x, double[] target, double[] gradient, int[] blockOf, int blocks)
    {
        var normal = x.TransposeThisAndMultiply(x);
        var inverse = Invert(normal);
        if (inverse is null) return null;
        var y = Vector<double>.Build.DenseOfArray(target);
        var residuals = y - x * (inverse * x.TransposeThisAndMultiply(y));
        var g = Vector<double>.Build.DenseOfArray(gradient);
        var changes = new (double, Vector<double>)?[blocks];
        for (var b = 0; b < blocks; b++)
        {
            var rows = Enumerable.Range(0, x.RowCount).Where(i => blockOf[i] == b).ToArray();
            if (rows.Length == 0) continue;
            var xb = Matrix<double>.Build.Dense(rows.Length, x.ColumnCount, (r, col) => x[rows[r], col]);
            var without = Invert(normal - xb.TransposeThisAndMultiply(xb));
            if (without is null) return null;
            // g·A⁻¹X_bᵀ(I − X(XᵀX)⁻¹Xᵀ)_b y = s·y_b − (X_bᵀs)ᵀ(XᵀX)⁻¹Xᵀy with s = X_b A⁻¹ g.
            var s = xb * (without * g);
            var map = -(x * (inverse * xb.TransposeThisAndMultiply(s)));
            for (var r = 0; r < rows.Length; r++) map[rows[r]] += s[r];
            changes[b] = (s.DotProduct(Vector<double>.Build.DenseOfEnumerable(rows.Select(i => residuals[i]))), map);
        }
        return changes;
    }

    /// <summary>
    /// The variance of the counting noise per point, from the scatter of second differences (robust, by their median, and
    /// weighted for uneven steps): a mismatch of the references is smooth along the edge and barely touches them.
    /// </summary>
    public static double NoiseVariance(double[] energies, double[] values)
    {
        var scaled = new double[Math.Max(0, values.Length - 2)];
        for (var i = 1; i < values.Length - 1; i++)
        {
            var w = (energies[i + 1] - energies[i]) / (energies[i + 1] - energies[i - 1]);
            var difference = values[i] - (w * values[i - 1] + (1 - w) * values[i + 1]);
            scaled[i - 1] = Math.Abs(difference) / Math.Sqrt(1 + w * w + (1 - w) * (1 - w));
        }
        if (scaled.Length == 0) return double.NaN;
        Array.Sort(scaled);
        var sigma = 1.4826 * scaled[scaled.Length / 2];
        return sigma * sigma;
    }

    private static Matrix<double>? Invert(Matrix<double> normal)
    {
        try { return Matrix<double>.Build.DenseOfArray(LinearAlgebra.InvertSymmetricPositiveDefinite(normal.ToArray(), "reference combination")); }
        catch (InvalidOperationException) { return null; }
    }
}

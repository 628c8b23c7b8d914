using MathNet.Numerics.LinearAlgebra;

namespace AutonomousBeamline.Learning.Decomposition;

/// <summary>How a frame's noise behaves, which decides how the significant components are counted.</summary>
public enum NoiseModel
{
    /// <summary>Counts (a diffraction pattern, a fluorescence or TXM frame): each channel's variance is its mean.</summary>
    Poisson,
    /// <summary>The same unknown variance everywhere (a normalised absorption spectrum): estimated from the data.</summary>
    Gaussian,
}

/// <summary>The singular values of the window, the threshold they were held against, and how many cleared it.</summary>
/// <param name="SingularValues">The (weighted) window's singular values.</param>
/// <param name="Threshold">The threshold the last test was held against: that of the residual beyond <see cref="Rank"/>
/// components and their perturbations (the window's own for rank 0).</param>
/// <param name="NoiseSigma">The noise level in the (weighted) data the threshold implies: about 1 for Poisson-weighted raw counts.</param>
/// <param name="ResidualLeading">The largest singular value of that residual, held against <see cref="Threshold"/>.</param>
public sealed record RankEstimate(int Rank, IReadOnlyList<double> SingularValues, double Threshold, double NoiseSigma, double ResidualLeading = 0);

/// <summary>
/// Counts the significant components of a stack of frames by the optimal hard threshold of Gavish and Donoho
/// ("The optimal hard threshold for singular values is 4/√3", IEEE Trans. Inf. Theory 60, 2014): a singular value of
/// signal plus i.i.d. noise of level σ is kept when it exceeds λ(β)·√N·σ (β the aspect ratio, N the larger dimension),
/// σ estimated from the median singular value (ω(β)·median), which lies in the noise bulk as long as fewer than half the
/// singular values are signal.
/// <para>
/// Counts become i.i.d. noise of one level once every element is divided by the square root of its expected count. With
/// frames of one composition that is √(row sum · column sum / total) (Keenan and Kotula's weighted PCA): the column
/// (channel) mean alone is not enough when the frames' totals differ (another exposure, beam current or detector gain), since
/// a frame's noise then scales with its own total, and the rows of a window of mixed exposures are noisy to different
/// levels, which spreads the noise bulk past the threshold.
/// </para>
/// <para>
/// What is counted is components, not every coherent change: a pattern's peaks shift a little from frame to frame (strain,
/// sample height) and change width, and its background level changes, and each of these, though far too small to be a
/// phase, is coherent across the window and so a singular value above the noise. So the count grows one at a time, and a
/// further component is counted only when the residual beyond the first r components and their perturbations — each
/// component's first and second derivative along the axis, times 1, x and x² (a shift or a broadening that varies
/// smoothly along the axis, as 2θ's tan θ and q's q do), and with counts a smooth background (Chebyshev polynomials to
/// degree 8, as the diffraction fit's) — still has a singular value above the noise threshold of that residual (its
/// aspect ratio and its own median). These are the same perturbations the reference fit allows each phase (strain, width,
/// background). Nothing here is tuned to a simulator: the threshold follows from random-matrix theory and the stack's size.
/// </para>
/// The stack is not centred: the mean frame is a component like any other (a pure-noise stream of counts has rank 1).
/// </summary>
public static class SignificantComponents
{
    /// <summary>The degree of the smooth background allowed with counts (the diffraction fit's Chebyshev degree).</summary>
    public const int BackgroundDegree = 8;

    /// <param name="frames">One row per frame, one column per channel.</param>
    public static RankEstimate Estimate(Matrix<double> frames, NoiseModel noise)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.RowCount == 0 || frames.ColumnCount == 0) return new RankEstimate(0, [], 0, 0);
        var (weighted, channelScale) = noise == NoiseModel.Poisson ? PoissonWeighted(frames) : (frames, null);
        var singular = weighted.Svd(computeVectors: false).S.ToArray();
        var threshold = UnknownNoiseOmega(Beta(frames.RowCount, frames.ColumnCount)) * Median(singular);
        // ω(β)·median = λ(β)·√N·σ̂ gives the σ the threshold implies, for the record (about 1 for raw counts).
        var sigma = threshold / (KnownNoiseLambda(Beta(frames.RowCount, frames.ColumnCount)) * Math.Sqrt(Math.Max(frames.RowCount, frames.ColumnCount)));
        if (!(singular[0] > threshold)) return new RankEstimate(0, singular, threshold, sigma, singular[0]);

        // The first component is the window's leading right singular vector; each further one the leading right singular vector
        // of what the components so far and their perturbations leave (not the window's next singular vector, which may be a
        // perturbation of a component already counted, larger than a weak new phase).
        var components = new List<Vector<double>> { Unit(weighted.TransposeThisAndMultiply(Leading(weighted).Scores)) };
        var limit = Math.Min(singular.Length, frames.RowCount);
        while (components.Count < limit)
        {
            var basis = Perturbations(components, channelScale, noise);
            if (basis.ColumnCount >= frames.ColumnCount - 1) break;
            var residual = weighted - weighted * basis * basis.Transpose();
            var (leading, scores, values) = Leading(residual);
            var beta = Beta(frames.RowCount, frames.ColumnCount - basis.ColumnCount);
            threshold = UnknownNoiseOmega(beta) * Median(values);
            sigma = threshold / (KnownNoiseLambda(beta) * Math.Sqrt(Math.Max(frames.RowCount, frames.ColumnCount - basis.ColumnCount)));
            if (!(leading > threshold)) return new RankEstimate(components.Count, singular, threshold, sigma, leading);
            // The new component as the data show it (their regression on its scores), perturbations included: its own
            // derivatives are then those of the phase, not of what is left of it beside the others'.
            components.Add(Unit(weighted.TransposeThisAndMultiply(scores)));
        }
        return new RankEstimate(components.Count, singular, threshold, sigma, 0);
    }

    /// <summary>A stack's singular values (from its m × m Gram, m the frames: the channels are many) and its leading left singular vector (the frames' scores).</summary>
    private static (double Value, Vector<double> Scores, double[] Values) Leading(Matrix<double> stack)
    {
        var evd = (stack * stack.Transpose()).Evd(Symmetricity.Symmetric);
        var values = evd.EigenValues.Select(e => Math.Sqrt(Math.Max(0, e.Real))).ToArray();
        var top = Array.IndexOf(values, values.Max());
        return (values[top], evd.EigenVectors.Column(top), values.OrderDescending().ToArray());
    }

    private static Vector<double> Unit(Vector<double> v) => v.L2Norm() is var norm and > 0 ? v / norm : v;

    private static double Beta(int rows, int columns) => (double)Math.Min(rows, columns) / Math.Max(rows, columns);

    /// <summary>
    /// An orthonormal basis (channels × d) of the components so far and their perturbations:
    /// derivatives along the axis (taken on the unweighted shapes, then weighted as the data are) times 1, x, x², and with
    /// counts the smooth background.
    /// </summary>
    private static Matrix<double> Perturbations(IReadOnlyList<Vector<double>> shapes, double[]? channelScale, NoiseModel noise)
    {
        var n = shapes[0].Count;
        var x = Enumerable.Range(0, n).Select(j => n > 1 ? 2.0 * j / (n - 1) - 1 : 0).ToArray();
        var columns = new List<double[]>();
        for (var r = 0; r < shapes.Count; r++)
        {
            var shape = shapes[r].ToArray();
            columns.Add(shapes[r].ToArray());
            if (channelScale is not null) for (var j = 0; j < n; j++) shape[j] *= channelScale[j];
            var first = Derivative(shape);
            var second = Derivative(first);
            var third = Derivative(second);
            foreach (var d in new[] { first, second, third })
                for (var power = 0; power <= 2; power++)
                    columns.Add(Weighted(d.Select((v, j) => v * Math.Pow(x[j], power)).ToArray(), channelScale));
        }
        if (noise == NoiseModel.Poisson)
            for (var degree = 0; degree <= BackgroundDegree; degree++)
                columns.Add(Weighted(x.Select(t => Math.Cos(degree * Math.Acos(Math.Clamp(t, -1, 1)))).ToArray(), channelScale));
        // An orthonormal basis of their span (thin QR; the columns are far fewer than the channels).
        return Matrix<double>.Build.DenseOfColumnArrays(columns).QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin).Q;
    }

    /// <summary>Central differences (one-sided at the ends), per channel.</summary>
    private static double[] Derivative(double[] v)
    {
        var n = v.Length;
        var d = new double[n];
        if (n < 2) return d;
        d[0] = v[1] - v[0];
        d[n - 1] = v[n - 1] - v[n - 2];
        for (var j = 1; j < n - 1; j++) d[j] = (v[j + 1] - v[j - 1]) / 2;
        return d;
    }

    private static double[] Weighted(double[] raw, double[]? channelScale)
    {
        if (channelScale is null) return raw;
        for (var j = 0; j < raw.Length; j++) raw[j] = channelScale[j] > 0 ? raw[j] / channelScale[j] : 0;
        return raw;
    }

    /// <summary>
    /// Every count divided by √(its expected count were the frames of one composition): row sum · column sum / total.
    /// Returns the weighted stack and each channel's √(column mean), the factor a weighted channel is scaled down by (the row
    /// factors do not change a shape along the axis). A channel or a frame that never counted carries no noise and is left at 0.
    /// </summary>
    private static (Matrix<double> Weighted, double[] ChannelScale) PoissonWeighted(Matrix<double> frames)
    {
        var weighted = frames.Clone();
        var rows = frames.RowSums();
        var meanRow = rows.Average();
        var scale = new double[frames.ColumnCount];
        for (var j = 0; j < frames.ColumnCount; j++)
        {
            var mean = frames.Column(j).Average();
            scale[j] = mean > 0 ? Math.Sqrt(mean) : 0;
            for (var i = 0; i < frames.RowCount; i++)
                weighted[i, j] = mean > 0 && rows[i] > 0 ? weighted[i, j] / (scale[j] * Math.Sqrt(rows[i] / meanRow)) : 0;
        }
        return (weighted, scale);
    }

    /// <summary>Gavish–Donoho λ*(β), their equation (11): the threshold in units of √N·σ when σ is known.</summary>
    internal static double KnownNoiseLambda(double beta) =>
        Math.Sqrt(2 * (beta + 1) + 8 * beta / (beta + 1 + Math.Sqrt(beta * beta + 14 * beta + 1)));

    /// <summary>Gavish–Donoho ω(β), their cubic approximation (error below 1 %): the threshold in units of the median singular value.</summary>
    internal static double UnknownNoiseOmega(double beta) => 0.56 * beta * beta * beta - 0.95 * beta * beta + 1.82 * beta + 1.43;

    private static double Median(double[] values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}

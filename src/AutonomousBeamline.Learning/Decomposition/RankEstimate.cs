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
public sealed record RankEstimate(int Rank, IReadOnlyList<double> SingularValues, double Threshold, double NoiseSigma, double ResidualLeading = 0)
{
    /// <summary>Each test made: the leading singular value of what k components and their perturbations leave (k = 0: the
    /// window itself), against that residual's threshold. The rank is the first k whose test failed.</summary>
    public IReadOnlyList<RankStep> Steps { get; init; } = [];
}

/// <summary>One test of the count: the residual's leading singular value and the threshold it was held against.</summary>
public sealed record RankStep(double Leading, double Threshold);

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
        var (_, firstScores, singular) = Leading(weighted);
        var threshold = UnknownNoiseOmega(Beta(frames.RowCount, frames.ColumnCount)) * Median(singular);
        // ω(β)·median = λ(β)·√N·σ̂ gives the σ the threshold implies, for the record (about 1 for raw counts).
        var sigma = threshold / (KnownNoiseLambda(Beta(frames.RowCount, frames.ColumnCount)) * Math.Sqrt(Math.Max(frames.RowCount, frames.ColumnCount)));
        if (!(singular[0] > threshold)) return new RankEstimate(0, singular, threshold, sigma, singular[0]) { Steps = [new(singular[0], threshold)] };

        // The first component is the window's leading right singular vector; each further one the leading right singular vector
        // of what the components so far and their perturbations leave (not the window's next singular vector, which may be a
        // perturbation of a component already counted, larger than a weak new phase).
        var components = new List<Vector<double>> { weighted.TransposeThisAndMultiply(firstScores) };
        var noiseLevel = sigma;
        var steps = new List<RankStep> { new(singular[0], threshold) };
        while (components.Count < frames.RowCount - 1)
        {
            var (basis, tangents) = Perturbations(components, channelScale, noise, noiseLevel);
            if (basis.ColumnCount >= frames.ColumnCount - 1) break;
            var residual = weighted - weighted * basis * basis.Transpose();
            var (leading, scores, values) = Leading(residual);
            // Each component, a combination of the frames, takes one of the frames' dimensions with it: the noise left is
            // (m − k) × (channels − d), and the k smallest singular values of the residual are not noise to take the median of.
            var rows = frames.RowCount - components.Count;
            var columns = frames.ColumnCount - basis.ColumnCount;
            var beta = Beta(rows, columns);
            var noiseThreshold = UnknownNoiseOmega(beta) * Median(values.Take(rows).ToArray());
            sigma = noiseThreshold / (KnownNoiseLambda(beta) * Math.Sqrt(Math.Max(rows, columns)));
            threshold = Math.Sqrt(noiseThreshold * noiseThreshold + Allowance(weighted, tangents, sigma));
            steps.Add(new RankStep(leading, threshold));
            if (!(leading > threshold)) return new RankEstimate(components.Count, singular, threshold, sigma, leading) { Steps = steps };
            // The new component as the data show it (their regression on its scores), perturbations included: its own
            // derivatives are then those of the phase, not of what is left of it beside the others'.
            components.Add(weighted.TransposeThisAndMultiply(scores));
        }
        return new RankEstimate(components.Count, singular, threshold, sigma, 0) { Steps = steps };
    }

    /// <summary>
    /// An orthonormal basis (channels × d) of <paramref name="shapes"/> and what moves each from frame to frame without making
    /// it another phase: the perturbations the count allows (derivatives times 1, x, x²; with counts the smooth background),
    /// on the raw channels. What a window leaves beyond this span is what a new component must explain.
    /// </summary>
    public static Matrix<double> PerturbationSpan(IReadOnlyList<IReadOnlyList<double>> shapes, NoiseModel noise)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        if (shapes.Count == 0) throw new ArgumentException("a perturbation span needs at least one shape", nameof(shapes));
        return Perturbations(shapes.Select(s => Vector<double>.Build.DenseOfEnumerable(s)).ToList(), null, noise, 0).Basis;
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
    /// An orthonormal basis (channels × d) of the components so far and their perturbations: derivatives along the axis
    /// (taken on the unweighted shapes, then weighted as the data are) times 1, x, x², and with counts the smooth background.
    /// Also each perturbation with the share of its norm that is the component's own noise (<see cref="Allowance"/>).
    /// </summary>
    /// <param name="components">Each component unnormalised, Wᵀu for its frames' scores u (‖u‖ = 1): its noise per channel is
    /// the data's, σ, so its relative noise is σ over its norm.</param>
    private static (Matrix<double> Basis, List<(Vector<double> Tangent, double NoiseShare, int Group)> Tangents) Perturbations(
        IReadOnlyList<Vector<double>> components, double[]? channelScale, NoiseModel noise, double sigma)
    {
        var n = components[0].Count;
        var x = Enumerable.Range(0, n).Select(j => n > 1 ? 2.0 * j / (n - 1) - 1 : 0).ToArray();
        // A fixed draw of white noise: what each perturbation does to noise of unit level (a parametric bootstrap of one draw,
        // enough with thousands of channels; fixed so that the count is reproducible).
        var rng = new Random(17);
        var white = Vector<double>.Build.Dense(n, _ => MathNet.Numerics.Distributions.Normal.Sample(rng, 0, 1));
        var columns = new List<double[]>();
        var tangents = new List<(Vector<double>, double, int)>();
        // The components' own span: a perturbation's part along it (x·c' overlaps c itself) is the components', not a perturbation's.
        var span = Matrix<double>.Build.DenseOfColumnVectors(components.Select(c => c.L2Norm() > 0 ? c / c.L2Norm() : c))
            .QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin).Q;
        for (var index = 0; index < components.Count; index++)
        {
            var component = components[index];
            var norm = component.L2Norm();
            if (!(norm > 0)) continue;
            columns.Add((component / norm).ToArray());
            for (var order = 1; order <= 3; order++)
                for (var power = 0; power <= 2; power++)
                {
                    var tangent = Perturbed(component / norm, order, power, x, channelScale);
                    var noiseOfTangent = Perturbed(white, order, power, x, channelScale);
                    columns.Add(tangent);
                    // The component's noise (σ/‖Wᵀu‖ a channel) through the same perturbation, against the perturbation itself.
                    var t = Vector<double>.Build.DenseOfArray(tangent);
                    t -= span * span.TransposeThisAndMultiply(t);
                    var share = t.L2Norm() > 0 ? sigma / norm * Vector<double>.Build.DenseOfArray(noiseOfTangent).L2Norm() / t.L2Norm() : 0;
                    // One group per component and order: its three (1, x, x²) move together, with the same scores.
                    tangents.Add((t, share, 3 * index + order));
                }
        }
        if (noise == NoiseModel.Poisson)
            for (var degree = 0; degree <= BackgroundDegree; degree++)
                columns.Add(Weighted(x.Select(t => Math.Cos(degree * Math.Acos(Math.Clamp(t, -1, 1)))).ToArray(), channelScale));
        // An orthonormal basis of their span (thin QR; the columns are far fewer than the channels).
        return (Matrix<double>.Build.DenseOfColumnArrays(columns).QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin).Q, tangents);
    }

    /// <summary>The derivative of the given order of a weighted shape, taken unweighted, times x^power, weighted again.</summary>
    private static double[] Perturbed(Vector<double> weightedShape, int order, int power, double[] x, double[]? channelScale)
    {
        var shape = weightedShape.ToArray();
        if (channelScale is not null) for (var j = 0; j < shape.Length; j++) shape[j] *= channelScale[j];
        for (var d = 0; d < order; d++) shape = Derivative(shape);
        for (var j = 0; j < shape.Length; j++) shape[j] *= Math.Pow(x[j], power);
        return Weighted(shape, channelScale);
    }

    /// <summary>
    /// What the perturbations leave of the data because they are taken from noisy components: a perturbation known only
    /// to a relative noise e keeps 1/(1 + e²) of the data's energy along it, so 1 − that share of its energy beyond the noise
    /// stays in the residual though it is no new component. The perturbations of one component and order (its 1, x and x²)
    /// share their frames' scores and so add up in one direction; those of different components or orders (independent
    /// shifts and broadenings) lie along different ones, of which the largest is what the residual's leading singular value
    /// can gain. That is added to the noise threshold in quadrature.
    /// </summary>
    private static double Allowance(Matrix<double> weighted, List<(Vector<double> Tangent, double NoiseShare, int Group)> tangents, double sigma)
    {
        var groups = new Dictionary<int, double>();
        foreach (var (tangent, share, group) in tangents)
        {
            var norm = tangent.L2Norm();
            if (!(norm > 0)) continue;
            var along = weighted * (tangent / norm);
            var signal = Math.Max(0, along.DotProduct(along) - weighted.RowCount * sigma * sigma);
            groups[group] = groups.GetValueOrDefault(group) + signal * share * share / (1 + share * share);
        }
        return groups.Count > 0 ? groups.Values.Max() : 0;
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

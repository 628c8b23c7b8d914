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
/// <param name="NoiseSigma">The noise level in the (weighted) data the threshold implies: about 1 for Poisson-weighted raw counts.</param>
public sealed record RankEstimate(int Rank, IReadOnlyList<double> SingularValues, double Threshold, double NoiseSigma);

/// <summary>
/// Counts the significant components of a stack of frames by the optimal hard threshold of Gavish and Donoho
/// ("The optimal hard threshold for singular values is 4/√3", IEEE Trans. Inf. Theory 60, 2014): a singular value of
/// signal plus i.i.d. noise of level σ is kept when it exceeds λ(β)·√N·σ (β the aspect ratio, N the larger dimension).
/// Counts become i.i.d. noise once each channel is divided by the square root of its mean (Poisson weighting, as in
/// Keenan and Kotula's weighted PCA), of a level set by the detector's unknown gain; so in both models σ is estimated from
/// the median singular value, which lies in the noise bulk as long as fewer than half the singular values are signal. Nothing here is tuned to a
/// simulator: the threshold follows from random-matrix theory and the stack's own size.
/// The stack is not centred: the mean frame is a component like any other (a pure-noise stream of counts has rank 1).
/// </summary>
public static class SignificantComponents
{
    /// <param name="frames">One row per frame, one column per channel.</param>
    public static RankEstimate Estimate(Matrix<double> frames, NoiseModel noise)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.RowCount == 0 || frames.ColumnCount == 0) return new RankEstimate(0, [], 0, 0);
        var weighted = noise == NoiseModel.Poisson ? PoissonWeighted(frames) : frames;
        var singular = weighted.Svd(computeVectors: false).S.ToArray();
        var large = Math.Max(frames.RowCount, frames.ColumnCount);
        var beta = (double)Math.Min(frames.RowCount, frames.ColumnCount) / large;
        // Counts are Poisson only up to the detector's gain (a reduced pattern is counts times a factor; variance = gain·mean),
        // so the noise level of the weighted data is estimated too, from the median singular value, as for Gaussian noise.
        var threshold = UnknownNoiseOmega(beta) * Median(singular);
        // ω(β)·median = λ(β)·√N·σ̂ gives the σ the threshold implies, for the record (about 1 for raw counts).
        var sigma = threshold / (KnownNoiseLambda(beta) * Math.Sqrt(large));
        var rank = singular.Count(s => s > threshold);
        return new RankEstimate(rank, singular, threshold, sigma);
    }

    /// <summary>Each channel divided by √(its mean over the frames); a channel that never counted carries no noise and is left at 0.</summary>
    private static Matrix<double> PoissonWeighted(Matrix<double> frames)
    {
        var weighted = frames.Clone();
        for (var j = 0; j < frames.ColumnCount; j++)
        {
            var mean = frames.Column(j).Average();
            var w = mean > 0 ? 1 / Math.Sqrt(mean) : 0;
            for (var i = 0; i < frames.RowCount; i++) weighted[i, j] *= w;
        }
        return weighted;
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

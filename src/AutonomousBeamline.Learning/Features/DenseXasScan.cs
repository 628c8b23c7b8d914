using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Learning.Features;

/// <summary>
/// A dense (full-window) absorption scan of the run and what the analyser made of it: what a sparse scan's σ learns the
/// references' mismatch from (<see cref="XasEdgeAnalyzer.Analyze(IReadOnlyList{double}, IReadOnlyList{double}, IReadOnlyList{DenseXasScan}?)"/>).
/// </summary>
/// <param name="EnergiesEv">The scan's energies, ascending.</param>
/// <param name="Mu">Its μ as measured (not normalised).</param>
/// <param name="Features">Its analysis: a usable dense one, with a fraction and that fraction's σ (mismatch included).</param>
public sealed record DenseXasScan(double[] EnergiesEv, double[] Mu, XasFeatures Features)
{
    /// <summary>The scan as a dense scan to learn from; null when it is not one (sparse, flagged, or without a fraction).</summary>
    public static DenseXasScan? From(Frame frame, XasFeatures features)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return From(Enumerable.Range(0, frame.Intensities.Length).Select(frame.XAt).ToArray(), frame.Intensities.Select(v => (double)v).ToArray(), features);
    }

    /// <inheritdoc cref="From(Frame, XasFeatures)"/>
    public static DenseXasScan? From(IReadOnlyList<double> energiesEv, IReadOnlyList<double> mu, XasFeatures features)
    {
        ArgumentNullException.ThrowIfNull(energiesEv);
        ArgumentNullException.ThrowIfNull(mu);
        ArgumentNullException.ThrowIfNull(features);
        if (!features.Usable || features.Sparse || !double.IsFinite(features.OxidisedFraction) || !double.IsFinite(features.OxidisedFractionSigma)) return null;
        if (energiesEv.Count != mu.Count) throw new ArgumentException($"a dense scan needs as many μ as energies, got {mu.Count} and {energiesEv.Count}", nameof(mu));
        return new DenseXasScan(energiesEv.ToArray(), mu.ToArray(), features);
    }

    /// <summary>μ at <paramref name="energies"/> by linear interpolation (exact on the scan's own grid, where a planner's sparse scans
    /// lie); null when one of them lies outside the scan.</summary>
    internal double[]? At(double[] energies)
    {
        if (Interpolation(energies) is not { } weights) return null;
        return weights.Select(x => Mu[x.Index] + x.Weight * (Mu[x.Index + 1] - Mu[x.Index])).ToArray();
    }

    /// <summary>For each of <paramref name="energies"/>, the scan point below it and the weight of the one above (μ = (1 − w)·μ[j] +
    /// w·μ[j + 1]); null when one of them lies outside the scan.</summary>
    internal (int Index, double Weight)[]? Interpolation(double[] energies)
    {
        var weights = new (int, double)[energies.Length];
        var j = 0;
        for (var i = 0; i < energies.Length; i++)
        {
            var e = energies[i];
            if (e < EnergiesEv[0] || e > EnergiesEv[^1]) return null;
            while (j < EnergiesEv.Length - 2 && EnergiesEv[j + 1] < e) j++;
            var (e0, e1) = (EnergiesEv[j], EnergiesEv[j + 1]);
            weights[i] = (j, e1 > e0 ? (e - e0) / (e1 - e0) : 0);
        }
        return weights;
    }
}

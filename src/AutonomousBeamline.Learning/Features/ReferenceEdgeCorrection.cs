using System.Globalization;
using System.Runtime.CompilerServices;
using MathNet.Numerics.LinearAlgebra;

namespace AutonomousBeamline.Learning.Features;

public sealed partial record XasFeatures
{
    /// <summary>On a sparse scan: how its E0 was corrected for the references' energy scale (<see cref="ReferenceEdgeCorrection"/>);
    /// null on a dense scan, whose E0 is the data's own.</summary>
    public EdgeCorrection? EdgeCorrection { get; init; }
}

/// <summary>
/// What a sparse scan's E0 got for the references' energy scale: <see cref="OffsetEv"/>, how far the references' E0 of the fitted mixture
/// moves with the references moved by their energy offsets (the scan's own fit of them, its prior what the run's dense scans measured
/// as the data's own derivative E0 minus the references'), was added to it.
/// </summary>
/// <param name="OffsetEv">The correction added (0 before any dense scan).</param>
/// <param name="SigmaEv">Its standard error: large where the dense scans so far say little about this fraction's edge (an edge no
/// dense scan has seen yet has the prior's <see cref="ReferenceEdgeCorrection.PriorSigmaEv"/>).</param>
/// <param name="DenseScans">How many dense scans it rests on (none excluded).</param>
/// <param name="Note">The references' offsets it rests on, and which dense scans were left out and why.</param>
public sealed record EdgeCorrection(double OffsetEv, double SigmaEv, int DenseScans, string Note)
{
    /// <summary>The scan's fraction ± 2σ straddles the edge hop: a dense scan there could not measure the correction either (it is left out).</summary>
    public bool AtTheHop { get; init; }

    /// <summary>No dense scan has measured the edge this scan's fraction sits on: the σ is still about the prior's
    /// (<see cref="ReferenceEdgeCorrection.PriorSigmaEv"/>), and the correction cannot be trusted.</summary>
    public bool Unmeasured => !(SigmaEv < ReferenceEdgeCorrection.PriorSigmaEv / 2);
}

/// <summary>
/// Corrects a sparse scan's E0 for references whose energy scale is not the sample's. A sparse scan's E0 is the derivative maximum of
/// the references' mixture at its fitted fraction, so it carries the references' error; a dense scan (the first, the calibration ones,
/// the one after a flagged scan) measures it: its own derivative E0 minus what the same estimator finds on the references' mixture at
/// its fitted fraction on the same energies (<see cref="XasFeatures.ReferenceEdgeOffsetEv"/>; the estimator's bias from the grid cancels).
/// <para>What that offset is depends on the fraction. Below the edge hop (the fraction where the two references' derivative peaks are
/// equal and E0 jumps by their separation) E0 sits on the first reference's edge and moves with that reference's energy scale; above it,
/// with the last's; near it, the estimator's derivative blends the two peaks and both count. So the model is an energy offset δⱼ of
/// each of the first and last references, and a dense scan's offset is Σⱼ sⱼ δⱼ with sⱼ = ∂E0/∂(shift of reference j) computed by moving
/// the references (on the scan's energies, through the analyser's estimator). The δ are fitted by weighted least squares (weights
/// 1/σ²) with a prior δⱼ ~ N(0, <see cref="PriorSigmaEv"/>²), so that one dense scan fixes the offset of the edge it sits on (a
/// constant on that side of the hop) and scans on both sides fix both; the covariance is scaled up by the Birge ratio √(χ²/dof) when
/// the dense scans scatter more than their σ say. A sparse scan at fraction f gets Σⱼ sⱼ(f) δⱼ with sⱼ(f) on the fine grid that
/// defines its E0, and the σ from the δ's covariance: small on a side the dense scans have seen, the prior's on one they have not.</para>
/// <para>A dense scan is left out when its E0 could be on either edge: when its fraction ± 2σ straddles the hop, or when its own E0 sits
/// further from the references' than half the two edges' separation (its derivative maximum landed on the other peak). Each offset's
/// σ is the data E0's counting error (the scatter of the analyser's estimator over noisy copies of the references' mixture at the
/// scan's own noise level) and the fraction's σ times the slope of the references' E0 with the fraction.</para>
/// </summary>
internal static class ReferenceEdgeCorrection
{
    /// <summary>The prior σ of each reference's energy offset: a monochromator calibration or a chemical shift off by up to about an
    /// eV; far larger offsets leave the sparse fit's residuals above <see cref="XasAnalyzerOptions.MaximumReferenceMisfit"/>.</summary>
    public const double PriorSigmaEv = 1.0;

    /// <summary>The references are moved by ± this to take the derivatives sⱼ.</summary>
    private const double ShiftStepEv = 0.1;

    /// <summary>Two reference edges closer than this have one derivative peak between them (an edge is at least this wide): no hop.</summary>
    private const double MinimumSeparationEv = 1.0;

    /// <summary>A reference's offset is applied when it exceeds this many of its standard errors.</summary>
    public const double ResolvedSigmas = 2.0;

    /// <summary>The offset as applied: itself when it is resolved (beyond <see cref="ResolvedSigmas"/> σ), else 0.</summary>
    public static double Applied(double offsetEv, double variance) => Math.Abs(offsetEv) > ResolvedSigmas * Math.Sqrt(variance) ? offsetEv : 0;

    /// <summary>A dense scan's fraction ± this many σ must stay on one side of the hop.</summary>
    private const double HopSigmas = 2.0;

    /// <summary>Noisy copies of the references' mixture the estimator's σ is measured on.</summary>
    private const int NoiseDraws = 24;

    private sealed record Measured(EdgeReferences Model, double Fraction, double OffsetEv, double SigmaEv, double[] Sensitivity, string? Excluded);

    private static readonly ConditionalWeakTable<DenseXasScan, Measured> Measurements = new();
    private static readonly ConditionalWeakTable<EdgeReferences, StrongBox<(double Low, double High)>> EndEdges = new();

    /// <summary>What the run's dense scans say of the first and last references' energy offsets.</summary>
    /// <param name="Offsets">Their posterior mean (eV).</param>
    /// <param name="Covariance">Its covariance, Birge-scaled.</param>
    /// <param name="Resolved">The offsets beyond <see cref="ResolvedSigmas"/> σ, the others 0: what is applied.</param>
    private sealed record Posterior(Vector<double> Offsets, Matrix<double> Covariance, Vector<double> Resolved, int Used, string LeftOut);

    /// <summary>The first and last references' energy offsets the run's dense scans resolve (0 where they do not): the sparse fit
    /// moves the references by these.</summary>
    /// <param name="edgeOf">The analyser's derivative E0 of a spectrum (energies, μ), null where it finds none.</param>
    public static (double FirstEv, double LastEv) ResolvedOffsets(EdgeReferences model, IReadOnlyList<DenseXasScan>? denseScans, Func<double[], double[], double?> edgeOf)
    {
        var posterior = Fit(model, denseScans, edgeOf);
        return (posterior.Resolved[0], posterior.Resolved[1]);
    }

    /// <summary>What the run's dense scans say of the first and last references' energy offsets, as a prior for a sparse scan's own
    /// fit of them: the posterior mean and its (Birge-scaled) covariance; before any dense scan, 0 ± <see cref="PriorSigmaEv"/> each.</summary>
    public static (double[] MeanEv, double[,] Covariance) ShiftPrior(EdgeReferences model, IReadOnlyList<DenseXasScan>? denseScans, Func<double[], double[], double?> edgeOf)
    {
        var posterior = Fit(model, denseScans, edgeOf);
        return (posterior.Offsets.ToArray(), posterior.Covariance.ToArray());
    }

    /// <param name="fraction">The sparse scan's fitted fraction (clipped to [0, 1]), fitted with the references moved by
    /// <paramref name="appliedOffsetsEv"/>.</param>
    /// <param name="fractionSigma">Its σ: within this many of the hop (<see cref="HopSigmas"/>) a dense scan could not measure the correction either.</param>
    /// <param name="denseScans">The run's dense scans so far (empty before the first; null when the caller keeps none).</param>
    /// <param name="edgeOf">The analyser's derivative E0 of a spectrum (energies, μ), null where it finds none.</param>
    /// <param name="appliedOffsetsEv">The offsets the sparse scan's fit moved the references by: its own fit of them, with
    /// <see cref="ShiftPrior"/> as the prior (the analyser's <c>FitSparseShifts</c>); null, the dense scans' <see cref="ResolvedOffsets"/>.</param>
    /// <returns>The correction: the E0 of the mixture with its references moved by those offsets, minus the unmoved one's, with the σ
    /// the dense scans alone give it (which says whether they have measured this edge); null when the caller keeps no dense scans
    /// (null, not an empty list): then nothing is corrected and nothing claimed.</returns>
    public static EdgeCorrection? At(double fraction, double fractionSigma, EdgeReferences model, IReadOnlyList<DenseXasScan>? denseScans, Func<double[], double[], double?> edgeOf,
        (double First, double Last)? appliedOffsetsEv = null)
    {
        if (denseScans is null) return null;
        var p = Fit(model, denseScans, edgeOf);
        var fine = FineSensitivity(model, fraction);
        var here = Vector<double>.Build.DenseOfArray(fine.Select(v => double.IsFinite(v) ? v : 0).ToArray());
        var applied = appliedOffsetsEv ?? (p.Resolved[0], p.Resolved[1]);
        var offset = applied is (0, 0) ? 0 : model.EdgeEnergyEv(fraction, applied.First, applied.Last) - model.EdgeEnergyEv(fraction);
        // Every moved E0 hopped (the fraction sits on the hop): what the offsets do here is not known.
        var sigma = fine.All(double.IsFinite) ? Math.Sqrt(Math.Max(0, here.DotProduct(p.Covariance * here))) : double.PositiveInfinity;
        var note = p.Used == 0
            ? Inv($"no dense scan yet{p.LeftOut}")
            : Inv($"the references' edges off by {model.First.Name} {p.Offsets[0]:+0.000;-0.000} ± {Math.Sqrt(p.Covariance[0, 0]):0.000} eV, {model.Last.Name} {p.Offsets[1]:+0.000;-0.000} ± {Math.Sqrt(p.Covariance[1, 1]):0.000} eV (prior ± {PriorSigmaEv:0.#} eV; moved by those beyond {ResolvedSigmas:0}σ) over {p.Used} dense scan(s); here ∂E0/∂shift = {here[0]:0.00}, {here[1]:0.00}{p.LeftOut}");
        if (appliedOffsetsEv is { } own)
            note += Inv($"; this scan's own fit (the above its prior) moved {model.First.Name} by {own.First:+0.000;-0.000} eV, {model.Last.Name} by {own.Last:+0.000;-0.000} eV (0: not resolved at {ResolvedSigmas:0}σ)");
        return new EdgeCorrection(offset, sigma, p.Used, note) { AtTheHop = StraddlesHop(model, fraction, fractionSigma) };
    }

    private static Posterior Fit(EdgeReferences model, IReadOnlyList<DenseXasScan>? denseScans, Func<double[], double[], double?> edgeOf)
    {
        var measured = (denseScans ?? []).Select(d => Measure(d, model, edgeOf)).ToArray();
        var used = measured.Where(m => m.Excluded is null).ToArray();
        var left = measured.Where(m => m.Excluded is not null).ToArray();
        var leftOut = left.Length == 0 ? "" : Inv($"; {left.Length} dense scan(s) left out ({string.Join("; ", left.Select(m => m.Excluded).Distinct())})");

        // Posterior of the two offsets: prior precision on the diagonal plus each dense scan's s sᵀ / σ².
        var precision = Matrix<double>.Build.DenseIdentity(2) / (PriorSigmaEv * PriorSigmaEv);
        var information = Vector<double>.Build.Dense(2);
        foreach (var m in used)
        {
            var s = Vector<double>.Build.DenseOfArray(m.Sensitivity);
            var w = 1 / (m.SigmaEv * m.SigmaEv);
            precision += s.OuterProduct(s) * w;
            information += s * (w * m.OffsetEv);
        }
        var covariance = precision.Inverse();
        var offsets = covariance * information;
        var chi2 = used.Sum(m => Math.Pow((m.OffsetEv - Vector<double>.Build.DenseOfArray(m.Sensitivity).DotProduct(offsets)) / m.SigmaEv, 2));
        if (used.Length > 2) covariance *= Math.Max(1, chi2 / (used.Length - 2));
        // An offset the dense scans do not resolve at 2σ is not applied (as the reference check before this asked): the data
        // E0 it rests on has an error of its own, which would otherwise move every later scan.
        var resolved = Vector<double>.Build.Dense(2, j => Applied(offsets[j], covariance[j, j]));
        return new Posterior(offsets, covariance, resolved, used.Length, leftOut);
    }

    /// <summary>sⱼ on the fine grid that defines a sparse scan's E0: how far it moves per eV that reference j moves.</summary>
    private static double[] FineSensitivity(EdgeReferences model, double fraction) =>
        Sensitivity((first, last) => model.EdgeEnergyEv(fraction, first, last), HopEv(model));

    /// <summary>
    /// sⱼ = ∂E0/∂(shift of reference j) by differences of ± <see cref="ShiftStepEv"/>; a moved E0 that hopped to the other peak (further
    /// than <paramref name="hopEv"/> from the unmoved one) is not a derivative, and the difference is taken on the other side only.
    /// </summary>
    private static double[] Sensitivity(Func<double, double, double> edge, double hopEv)
    {
        var unmoved = edge(0, 0);
        double Derivative(double up, double down)
        {
            var (upOk, downOk) = (Math.Abs(up - unmoved) < hopEv, Math.Abs(down - unmoved) < hopEv);
            return upOk && downOk ? (up - down) / (2 * ShiftStepEv)
                : upOk ? (up - unmoved) / ShiftStepEv
                : downOk ? (unmoved - down) / ShiftStepEv
                : double.NaN;
        }
        return [Derivative(edge(ShiftStepEv, 0), edge(-ShiftStepEv, 0)), Derivative(edge(0, ShiftStepEv), edge(0, -ShiftStepEv))];
    }

    /// <summary>Whether the references' E0 at fraction ± <see cref="HopSigmas"/> σ lies on two edges (false when the edges are one peak).</summary>
    private static bool StraddlesHop(EdgeReferences model, double fraction, double sigma)
    {
        var (low, high) = Ends(model);
        if (Math.Abs(high - low) < MinimumSeparationEv || !double.IsFinite(sigma)) return false;
        int Side(double x) => Math.Abs(model.EdgeEnergyEv(Math.Clamp(x, 0, 1), 0.01) - low) <= Math.Abs(model.EdgeEnergyEv(Math.Clamp(x, 0, 1), 0.01) - high) ? -1 : 1;
        return Side(fraction - HopSigmas * sigma) != Side(fraction + HopSigmas * sigma);
    }

    /// <summary>Half the first and last references' edge separation: an E0 that moved further hopped to the other peak.</summary>
    private static double HopEv(EdgeReferences model)
    {
        var (low, high) = Ends(model);
        return Math.Max(MinimumSeparationEv, Math.Abs(high - low)) / 2;
    }

    /// <summary>A dense scan's offset, its σ and its sⱼ, or why it cannot speak for either edge. Cached per scan.</summary>
    private static Measured Measure(DenseXasScan scan, EdgeReferences model, Func<double[], double[], double?> edgeOf)
    {
        if (Measurements.TryGetValue(scan, out var cached) && ReferenceEquals(cached.Model, model)) return cached;
        var measured = MeasureAnew(scan, model, edgeOf);
        Measurements.AddOrUpdate(scan, measured);
        return measured;
    }

    private static Measured MeasureAnew(DenseXasScan scan, EdgeReferences model, Func<double[], double[], double?> edgeOf)
    {
        var f = scan.Features;
        var fraction = Math.Clamp(f.OxidisedFraction, 0, 1);
        var offset = f.ReferenceEdgeOffsetEv;
        Measured Excluded(string why) => new(model, fraction, offset, double.NaN, [0, 0], why);
        if (!double.IsFinite(offset)) return Excluded("no references' edge");
        var sigmaF = f.OxidisedFractionSigma;
        if (StraddlesHop(model, fraction, sigmaF)) return Excluded(Inv($"fraction {fraction:0.000} ± {HopSigmas:0}σ straddles the edge hop"));
        if (Math.Abs(offset) > HopEv(model))
            return Excluded(Inv($"its own E0 {f.EdgeEnergyEv:0.00} eV is on the other edge than the references' {f.ReferenceEdgeEv:0.00} eV"));

        // The sⱼ and the slope on the fine grid: the estimator's own response to a shift smaller than its grid step is the grid's, not the edge's.
        var sensitivity = FineSensitivity(model, fraction);
        var (below, above) = (Math.Clamp(fraction - sigmaF, 0, 1), Math.Clamp(fraction + sigmaF, 0, 1));
        var slope = above > below ? (model.EdgeEnergyEv(above) - model.EdgeEnergyEv(below)) / (above - below) : 0;
        if (!sensitivity.All(double.IsFinite)) return Excluded(Inv($"fraction {fraction:0.000} sits on the edge hop"));
        var sigma = Math.Sqrt(Math.Pow(EstimatorSigma(scan, fraction, model, edgeOf), 2) + Math.Pow(slope * sigmaF, 2));
        if (!double.IsFinite(sigma)) return Excluded("the estimator finds no edge on the references' mixture with this scan's noise");
        // A σ of zero (noise-free data) would take all the weight: a thousandth of an eV is below any grid's reach.
        return new Measured(model, fraction, offset, Math.Max(sigma, 1e-3), sensitivity, null);
    }

    /// <summary>
    /// The counting error of the data's E0 as the analyser's estimator makes it: the standard deviation of its E0 over
    /// <see cref="NoiseDraws"/> copies of the references' mixture at the scan's fraction, on its energies, each with Gaussian noise of
    /// the scan's own level (measured from its second differences), from a seed fixed by the scan. Unlike a propagation through the
    /// final cubic, it sees the derivative maximum change points or peaks (near the hop the two peaks are close in height).
    /// </summary>
    private static double EstimatorSigma(DenseXasScan scan, double fraction, EdgeReferences model, Func<double[], double[], double?> edgeOf)
    {
        var e = scan.EnergiesEv;
        var noise = Math.Sqrt(ReferenceCombination.NoiseVariance(e, scan.Mu));
        if (!double.IsFinite(noise)) return double.PositiveInfinity;
        // The μ is as measured (not normalised): the references' mixture is scaled to the scan's edge step.
        var step = scan.Features.EdgeStep;
        var clean = e.Select(x => step * model.Mu(x, fraction)).ToArray();
        var rng = new Random(e.Length * 7919 + (int)(1000 * fraction));
        var edges = new List<double>();
        for (var k = 0; k < NoiseDraws; k++)
        {
            var noisy = clean.Select(v => v + noise * MathNet.Numerics.Distributions.Normal.Sample(rng, 0, 1)).ToArray();
            if (edgeOf(e, noisy) is { } found) edges.Add(found);
        }
        return edges.Count < NoiseDraws / 2 ? double.PositiveInfinity : MathNet.Numerics.Statistics.Statistics.StandardDeviation(edges);
    }

    /// <summary>The first and last references' own E0 (the mixture at 0 and at 1).</summary>
    private static (double Low, double High) Ends(EdgeReferences model) =>
        EndEdges.GetValue(model, m => new StrongBox<(double, double)>((m.EdgeEnergyEv(0), m.EdgeEnergyEv(1)))).Value;

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Core.Materials;

namespace AutonomousBeamline.Learning.Features;

/// <summary>
/// What one Fe K-edge spectrum says. <see cref="Flag"/> is null for a usable spectrum; otherwise it names why not.
/// </summary>
/// <param name="EdgeEnergyEv">E0, the maximum of dμ/dE.</param>
/// <param name="WhiteLineEnergyEv">Energy of the normalised absorption maximum above the edge.</param>
/// <param name="WhiteLineHeight">Normalised μ at the white line (1 is the edge step).</param>
/// <param name="EdgeStep">Post-edge minus pre-edge line at E0, in the frame's units.</param>
/// <param name="OxidisedFraction">The last reference's share (Fe3+, FePO4, by default) from the linear combination fit, clipped to [0, 1]; NaN without references.</param>
public sealed partial record XasFeatures(double EdgeEnergyEv, double WhiteLineEnergyEv, double WhiteLineHeight, double EdgeStep,
    double OxidisedFraction, double OxidisedFractionSigma, string? Flag)
{
    public bool Usable => Flag is null;

    /// <summary>Every reference's share, in the configured order (empty without references); <see cref="OxidisedFraction"/> is the last's.</summary>
    public IReadOnlyList<double> Fractions { get; init; } = [];

    /// <summary>The σ of each of <see cref="Fractions"/>, in the same order; <see cref="OxidisedFractionSigma"/> is the last's.</summary>
    public IReadOnlyList<double> FractionSigmas { get; init; } = [];

    /// <summary>
    /// On a scan dense enough for a derivative: where the references put the edge of the mixture the fit found (their
    /// derivative maximum at <see cref="OxidisedFraction"/>); NaN on a sparse scan (whose E0 is that value) or without a mixture.
    /// </summary>
    public double ReferenceEdgeEv { get; init; } = double.NaN;

    /// <summary>A sparse scan, fitted as a mixture of the references (<see cref="XasAnalyzerOptions.SparseEdgeStepEv"/>).</summary>
    public bool Sparse { get; init; }

    /// <summary>On a sparse scan: the part of <see cref="OxidisedFractionSigma"/> the references' mismatch adds, as the run's dense
    /// scans measured it; NaN on a dense scan (whose σ holds its mismatch by itself).</summary>
    public double MismatchSigma { get; init; } = double.NaN;

    /// <summary>On a sparse scan: how many dense scans <see cref="MismatchSigma"/> was measured on. 0: none yet, the mismatch is
    /// unknown and <see cref="MismatchSigma"/> is that of a fraction known only to lie in [0, 1] (1/√12).</summary>
    public int MismatchDenseScans { get; init; }

    /// <summary>The data's own E0 minus the references' (NaN unless both are known): how far off the references' energy scale is.</summary>
    public double ReferenceEdgeOffsetEv => EdgeEnergyEv - ReferenceEdgeEv;
}

/// <summary>Settings of <see cref="XasEdgeAnalyzer"/>. Energies are relative to the edge found in the data.</summary>
/// <param name="PreEdgeEndEv">Pre-edge line fitted below E0 + this (negative).</param>
/// <param name="PostEdgeStartEv">Post-edge line fitted above E0 + this.</param>
/// <param name="EdgeSearchMarginEv">E0 is searched within this distance of the reference edges, away from the pre-edge peak.</param>
/// <param name="FitFromEv">Linear combination fit from E0(Fe2+) + this (negative)...</param>
/// <param name="FitToEv">...to E0(Fe3+) + this, the XANES region where the two references differ.</param>
/// <param name="DerivativeHalfWindow">Points on each side of the local quadratic that gives the derivative.</param>
/// <param name="MinimumStepToNoise">The edge step must exceed this many times the pre-edge scatter.</param>
/// <param name="EdgeFitHalfWidthEv">E0 is refined as the inflection point of a cubic fitted to the normalised μ within ± this of the
/// derivative maximum; 0 keeps the derivative maximum. The derivative's own parabola is biased by the grid and by the white line's
/// flank; the cubic uses every point on the edge and is centred on it. Needs at least five points in the window (so more than
/// ±1 eV on a 0.5 eV grid); 1.2 eV lowered the edge error on 0.5 eV scans from 0.15 to 0.11 eV (docs/benchmarks.md, part b).</param>
/// <param name="SparseEdgeStepEv">A scan whose widest step between points in the edge search region exceeds this is sparse: too coarse
/// for a derivative, so its Fe3+ fraction is fitted with the two references and E0 is that mixture's derivative maximum. Infinity never
/// does this, 0 always does.</param>
/// <param name="MaximumReferenceMisfit">On that path, a residual RMS above this fraction of the edge step means the references do not
/// describe the spectrum (another material, an energy offset, a glitch) and the scan is flagged, so the planner falls back to a full scan.</param>
/// <param name="MismatchBlocks">The fit region is cut into this many blocks holding equal shares of the information on the fractions, for the
/// jackknife that makes a fraction's σ see references that are not quite the sample (<see cref="ReferenceCombination"/>); 0 keeps the
/// least-squares σ alone (counting noise only). Blocks must be wider than the mismatch's correlation length along the edge (a few eV):
/// with 12 the σ came out too small again (docs/benchmarks.md, part s). A sparse scan's σ jackknifes the run's dense scans, cut down
/// to its energies, in as many blocks; 0 leaves that out too.</param>
/// <param name="FitReferenceShifts">Offer the combination a model in which every reference may be shifted in energy (a small calibration
/// offset), reported when the data resolve the shifts at 3σ and otherwise used to widen the σ; needs <see cref="MismatchBlocks"/> &gt; 0.</param>
/// <param name="FitSparseShifts">A sparse scan fits the first and last references' energy offsets itself, with what the run's dense
/// scans measured of them as the prior (wide, ± 1 eV, on an edge they have not measured), and E0 moves with the fitted offsets; false
/// moves the references only by the offsets the dense scans resolve (docs/materials.md, "sparse scans").</param>
public sealed record XasAnalyzerOptions(
    double PreEdgeEndEv = -15,
    double PostEdgeStartEv = 35,
    double EdgeSearchMarginEv = 6,
    double FitFromEv = -15,
    double FitToEv = 35,
    int DerivativeHalfWindow = 2,
    double MinimumStepToNoise = 10,
    double EdgeFitHalfWidthEv = 1.2,
    double SparseEdgeStepEv = 0.75,
    double MaximumReferenceMisfit = 0.05,
    int MismatchBlocks = 8,
    bool FitReferenceShifts = true,
    bool FitSparseShifts = true)
{
    public static XasAnalyzerOptions Default { get; } = new();
}

/// <summary>
/// Reduces an Fe K-edge spectrum: pre-/post-edge line normalisation, E0 at the derivative maximum,
/// white-line position and height, and the Fe3+ fraction by linear combination of the Fe2+ and Fe3+ references, its σ owning up to
/// references that are not quite the sample (<see cref="ReferenceCombination"/>).
/// A scan too sparse across the edge for a derivative (<see cref="XasAnalyzerOptions.SparseEdgeStepEv"/>) is instead fitted as a
/// background line plus a mixture of the references, and E0, white line and height are those of the fitted mixture. Its few points
/// per region leave no blocks to judge a mismatch by, so its fraction's σ takes the mismatch from the run's dense scans, passed in:
/// each is cut down to the sparse scan's energies, and the error that makes is the sparse scan's own (<see cref="SparseMismatch"/>).
/// </summary>
public sealed class XasEdgeAnalyzer
{
    public const string FlagWrongKind = "wrong-kind";
    public const string FlagWrongLength = "wrong-length";
    public const string FlagNonFinite = "non-finite";
    public const string FlagUnsorted = "unsorted-energies";
    public const string FlagEmpty = "empty";
    public const string FlagIncomplete = "incomplete-scan";
    public const string FlagFlat = "flat";
    public const string FlagReferenceMisfit = "reference-misfit";

    private const int MinimumPointsPerLine = 3;

    private readonly EdgeReferences _model;
    private readonly XasAnalyzerOptions _options;

    /// <param name="model">Edge references; <see cref="BatteryMaterials.FeKEdge"/> when null.</param>
    /// <param name="options">Regions and thresholds; <see cref="XasAnalyzerOptions.Default"/> when null.</param>
    public XasEdgeAnalyzer(FeKEdgeModel? model = null, XasAnalyzerOptions? options = null)
        : this(model is null ? BatteryMaterials.FeKAbsorption : BatteryMaterials.FeKAbsorption with { References = [model.Reduced, model.Oxidised] }, options)
    {
    }

    /// <param name="materials">The edge (element and kind) and the reference spectra, any number (none: E0, white line and step only).</param>
    public XasEdgeAnalyzer(AbsorptionMaterials materials, XasAnalyzerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(materials);
        _model = new EdgeReferences(materials);
        _options = options ?? XasAnalyzerOptions.Default;
        if (_options.DerivativeHalfWindow < 1) throw new ArgumentOutOfRangeException(nameof(options), _options.DerivativeHalfWindow, "derivative half window must be >= 1");
        if (!(_options.SparseEdgeStepEv >= 0)) throw new ArgumentOutOfRangeException(nameof(options), _options.SparseEdgeStepEv, "sparse edge step must be >= 0");
        if (!(_options.MaximumReferenceMisfit > 0)) throw new ArgumentOutOfRangeException(nameof(options), _options.MaximumReferenceMisfit, "maximum reference misfit must be positive");
        if (_options.MismatchBlocks is < 3 and not 0) throw new ArgumentOutOfRangeException(nameof(options), _options.MismatchBlocks, "mismatch blocks must be 0 (off) or at least 3");
    }

    /// <summary>The edge this analyser looks for.</summary>
    public AbsorptionEdge Edge => _model.Edge;

    /// <summary>The names of the reference spectra, in the order of <see cref="XasFeatures.Fractions"/>.</summary>
    public IReadOnlyList<string> ReferenceNames => _model.References.Select(r => r.Name).ToArray();

    /// <param name="denseScans">The run's dense scans so far, which a sparse scan's σ learns the references' mismatch from; without
    /// any, a sparse scan's σ says the mismatch is unknown (<see cref="XasFeatures.MismatchDenseScans"/> 0).</param>
    public XasFeatures Analyze(Frame frame, IReadOnlyList<DenseXasScan>? denseScans = null)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.Header.Kind != FrameKind.Xas) return Flagged(FlagWrongKind);
        var n = frame.Intensities.Length;
        if (n != frame.Header.N || (frame.X is not null && frame.X.Length != n)) return Flagged(FlagWrongLength);
        if (frame.X is null && (frame.Header.XStart is null || frame.Header.XStep is null)) return Flagged(FlagWrongLength);
        var energies = new double[n];
        var mu = new double[n];
        for (var i = 0; i < n; i++)
        {
            energies[i] = frame.XAt(i);
            mu[i] = frame.Intensities[i];
        }
        return Analyze(energies, mu, denseScans);
    }

    /// <param name="denseScans">As for <see cref="Analyze(Frame, IReadOnlyList{DenseXasScan}?)"/>; dense scans ignore it.</param>
    public XasFeatures Analyze(IReadOnlyList<double> energiesEv, IReadOnlyList<double> mu, IReadOnlyList<DenseXasScan>? denseScans = null)
    {
        ArgumentNullException.ThrowIfNull(energiesEv);
        ArgumentNullException.ThrowIfNull(mu);
        var n = mu.Count;
        if (energiesEv.Count != n || n < 4 * MinimumPointsPerLine) return Flagged(FlagWrongLength);
        var e = energiesEv.ToArray();
        var y = mu.ToArray();
        for (var i = 0; i < n; i++)
        {
            if (!double.IsFinite(e[i]) || !double.IsFinite(y[i])) return Flagged(FlagNonFinite);
            if (i > 0 && !(e[i] > e[i - 1])) return Flagged(FlagUnsorted);
        }
        if (y.Max() - y.Min() <= 0) return Flagged(FlagEmpty);

        // The edge is searched only near where Fe can have it, so the pre-edge peak or a glitch cannot win.
        var searchFrom = _model.LowEdgeEv - _options.EdgeSearchMarginEv;
        var searchTo = _model.HighEdgeEv + _options.EdgeSearchMarginEv;
        if (e[0] > searchFrom + _options.PreEdgeEndEv || e[^1] < searchTo + _options.PostEdgeStartEv) return Flagged(FlagIncomplete);
        if (WidestStep(e, searchFrom, searchTo) > _options.SparseEdgeStepEv)
            return _model.HasMixture ? AnalyzeByReferences(e, y, searchFrom, searchTo, denseScans) : Flagged(FlagIncomplete);

        if (DerivativeEdge(e, y, searchFrom, searchTo, out var failure) is not { } found) return Flagged(failure!);
        var (edge, normalised, step) = found;

        var whiteLineEnergy = ArgMaxEnergy(e, normalised, edge, edge + 20, out var whiteLineHeight) ?? double.NaN;

        var (fractions, sigmas) = LinearCombination(e, normalised, edge);
        // The check a sparse scan cannot make: the data's own edge against the one the references give this mixture.
        // The references' mixture goes through the same estimator on the same energies, so the estimator's own bias cancels.
        var referenceEdge = _model.HasMixture && fractions.Length > 0 && double.IsFinite(fractions[^1])
            ? MixtureEdge(e, Math.Clamp(fractions[^1], 0, 1), searchFrom, searchTo) : double.NaN;
        return new XasFeatures(edge, whiteLineEnergy, whiteLineHeight, step,
            fractions.Length > 0 ? fractions[^1] : double.NaN, sigmas.Length > 0 ? sigmas[^1] : double.NaN, null)
        { Fractions = fractions, FractionSigmas = sigmas, ReferenceEdgeEv = referenceEdge };
    }

    /// <summary>The references' mixture at <paramref name="fraction"/>, noise-free on <paramref name="e"/>, through <see cref="DerivativeEdge"/>.</summary>
    private double MixtureEdge(double[] e, double fraction, double searchFrom, double searchTo) =>
        DerivativeEdge(e, e.Select(x => _model.Mu(x, fraction)).ToArray(), searchFrom, searchTo, out _)?.Edge ?? double.NaN;

    /// <summary>E0 from the data's own derivative: its maximum in [from, to] on the raw then the normalised μ, refined by the
    /// inflection of a cubic; with the normalised μ and the edge step. Null (and the flag) when the scan has no edge there.</summary>
    private (double Edge, double[] Normalised, double Step)? DerivativeEdge(double[] e, double[] y, double searchFrom, double searchTo, out string? flag)
    {
        flag = FlagIncomplete;
        var slope = Derivative(e, y, _options.DerivativeHalfWindow);
        var roughEdge = ArgMaxEnergy(e, slope, searchFrom, searchTo, out _);
        if (roughEdge is null) return null;

        var normalisation = Normalise(e, y, roughEdge.Value);
        if (normalisation is null) return null;
        var (normalised, step, preEdgeScatter) = normalisation.Value;
        if (!(step > _options.MinimumStepToNoise * preEdgeScatter) || !(step > 0)) { flag = FlagFlat; return null; }

        // Refine on the normalised data: same positions, but the parabola now sees a well-scaled derivative.
        var normalisedSlope = Derivative(e, normalised, _options.DerivativeHalfWindow);
        var edge = ArgMaxEnergy(e, normalisedSlope, searchFrom, searchTo, out _) ?? roughEdge.Value;
        edge = InflectionOfCubic(e, normalised, edge, _options.EdgeFitHalfWidthEv) ?? edge;

        flag = null;
        return (edge, normalised, step);
    }

    /// <summary>The largest energy gap that overlaps [from, to] (the gaps into and out of it included); infinity when the scan does not reach it.</summary>
    private static double WidestStep(double[] e, double from, double to)
    {
        var widest = double.PositiveInfinity;
        var inside = false;
        for (var i = 1; i < e.Length; i++)
        {
            if (e[i] < from || e[i - 1] > to) continue;
            widest = inside ? Math.Max(widest, e[i] - e[i - 1]) : e[i] - e[i - 1];
            inside = true;
        }
        return widest;
    }

    /// <summary>
    /// A sparse scan: its fraction by <see cref="FitMixture"/>, and E0, white line and height those of the fitted mixture. Its σ is
    /// the fit's least-squares σ plus what the run's dense scans say the references' mismatch adds (<see cref="SparseMismatch"/>).
    /// </summary>
    private XasFeatures AnalyzeByReferences(double[] e, double[] y, double searchFrom, double searchTo, IReadOnlyList<DenseXasScan>? denseScans)
    {
        // The references moved by their energy offsets (a shift looks like a change of fraction): fitted on this scan with what the
        // run's dense scans measured as the prior, or (without the fit, or when it fails) the dense scans' resolved offsets alone.
        Func<double[], double[], double?> edgeOf = (x, mu) => DerivativeEdge(x, mu, searchFrom, searchTo, out _)?.Edge;
        var fitted = _options.FitSparseShifts && denseScans is not null
            ? FitShifts(e, y, searchFrom, searchTo, ReferenceEdgeCorrection.ShiftPrior(_model, denseScans, edgeOf)) : null;
        var offsets = fitted?.Applied ?? ReferenceEdgeCorrection.ResolvedOffsets(_model, denseScans, edgeOf);
        var fit = FitMixture(e, y, searchFrom, searchTo, out var flag, offsets);
        if (fit is null) return Flagged(flag!);
        var fraction = Math.Clamp(fit.Value.Fraction, 0, 1);
        var mismatch = SparseMismatch(e, fraction, searchFrom, searchTo, denseScans, offsets);
        var shiftVariance = fitted is { } own ? ShiftVariance(e, y, searchFrom, searchTo, offsets, own.Covariance) : 0;
        var sigma = Math.Sqrt(fit.Value.Sigma * fit.Value.Sigma + mismatch.Variance + shiftVariance);

        var edge = _model.EdgeEnergyEv(fraction);
        var (whiteLine, whiteLineHeight) = ModelWhiteLine(fraction, edge);
        // E0 moves with the references' offsets the fit used (the dense scans' measurement against the data's own derivative, and this scan's fit).
        var correction = ReferenceEdgeCorrection.At(fraction, sigma, _model, denseScans, edgeOf, fitted?.Applied);
        var moved = correction?.OffsetEv ?? 0;
        return new XasFeatures(edge + moved, whiteLine + moved, whiteLineHeight, fit.Value.Step, fraction, sigma, null)
        {
            EdgeCorrection = correction,
            Fractions = [1 - fraction, fraction], FractionSigmas = [sigma, sigma], Sparse = true,
            MismatchSigma = Math.Sqrt(mismatch.Variance), MismatchDenseScans = mismatch.DenseScans,
        };
    }

    /// <summary>
    /// What the references' mismatch adds to the variance of a sparse scan's fraction, measured on the run's dense scans, each cut
    /// down to this scan's energies and fitted as this scan is; its error e there is this scan's. Two estimates, each blind where the
    /// other sees, and the larger is taken:
    /// <list type="bullet">
    /// <item>the jackknife's excess over counting noise of that restricted fit (<see cref="SharedMismatch"/>), with the dense scan's
    /// own noise: how far the fraction would move were the mixture fixed by fewer of these energies. It sees what these energies see
    /// of a mismatch; like the dense analyser's narrow fit, it is blind to an energy shift, which looks like a change of the shares.</item>
    /// <item>from the restricted fit's difference d from the dense scan's own fraction, e = d + e_dense: E[e²] = E[d²] + (2ρ − 1)·E[e²_dense]
    /// with ρ the regression of e on e_dense, how much of the dense error the sparse energies share (<see cref="SharedMismatch"/>),
    /// E[e²_dense] the dense fraction's σ², and the restricted fit's counting variance taken off d². It sees a shift the dense fit
    /// resolved. ρ = 1 (the sparse scan inherits the dense error, d independent of it) was the σ before, and counted the dense
    /// error twice where the sparse energies see little of the mismatch: with white lines off, d ≈ −e_dense (correlation −0.96 over
    /// <c>SparseScanSigmaTests</c>' runs) and the σ came out four times the error; with widths off the two fits share their error
    /// (ρ near 1).</item>
    /// </list>
    /// The dense scans nearest in fraction weigh most (the restriction's error follows the mixture: at either end it is one
    /// reference's mismatch); a dense scan the references cannot fit as a mixture is left out. Without a dense scan to learn from
    /// the mismatch is unknown, and the variance is that of a fraction known only to lie in [0, 1] (1/12), so the σ says so
    /// rather than being the least-squares one.
    /// </summary>
    private (double Variance, int DenseScans) SparseMismatch(double[] e, double fraction, double searchFrom, double searchTo, IReadOnlyList<DenseXasScan>? denseScans,
        (double First, double Last) offsetsEv = default)
    {
        double jackknife = 0, difference = 0, weights = 0;
        var used = 0;
        foreach (var scan in denseScans ?? [])
        {
            if (scan.At(e) is not { } restricted || FitMixture(e, restricted, searchFrom, searchTo, out _, offsetsEv) is not { } fit) continue;
            // Without blocks nothing says how much is shared: ρ = 1/2 takes neither side, E[e²] = E[d²].
            var shared = _options.MismatchBlocks > 0 ? SharedMismatch(scan, e, restricted, fit, searchFrom, searchTo, offsetsEv) : (Jackknife: 0, Share: 0.5);
            if (shared is not { } known) continue;
            var (excess, share) = known;
            var d = Math.Clamp(fit.Fraction, 0, 1) - scan.Features.OxidisedFraction;
            var distance = scan.Features.OxidisedFraction - fraction;
            var weight = 1 / (distance * distance + MismatchFractionScale * MismatchFractionScale);
            jackknife += weight * excess;
            difference += weight * (d * d - fit.Sigma * fit.Sigma + (2 * share - 1) * Math.Pow(scan.Features.OxidisedFractionSigma, 2));
            weights += weight;
            used++;
        }
        return used == 0 ? (UnknownMismatchVariance, 0) : (Math.Max(0, Math.Max(jackknife, difference) / weights), used);
    }

    /// <summary>
    /// A joint jackknife (<see cref="ReferenceCombination.JointMismatch"/>) of two mixture fits of one dense scan, over all its points
    /// and over those at a sparse scan's energies <paramref name="e"/>, leaving out the same stretches of energy (a dense point goes
    /// with the nearest sparse one), with the dense scan's own counting noise: the restricted fit's mismatch variance, and ρ, the
    /// regression of its error on the whole fit's, clipped to [0, 1] (1/2 when the whole fit shows no mismatch beyond its noise).
    /// Null when the references cannot fit the whole scan as a mixture or leaving a block out leaves a fit undetermined.
    /// </summary>
    private (double Jackknife, double Share)? SharedMismatch(DenseXasScan scan, double[] e, double[] restricted, MixtureFit fit, double searchFrom, double searchTo,
        (double First, double Last) offsetsEv)
    {
        var energies = scan.EnergiesEv;
        if (FitMixture(energies, scan.Mu, searchFrom, searchTo, out _, offsetsEv) is not { } whole || scan.Interpolation(e) is not { } interpolation) return null;
        var fromWhole = new double[e.Length, energies.Length];
        for (var i = 0; i < e.Length; i++)
        {
            fromWhole[i, interpolation[i].Index] += 1 - interpolation[i].Weight;
            if (interpolation[i].Weight > 0) fromWhole[i, interpolation[i].Index + 1] += interpolation[i].Weight;
        }
        int[] WholeBlocks(int[] sparseBlocks) => energies.Select(x =>
        {
            var nearest = 0;
            for (var i = 1; i < e.Length; i++)
                if (Math.Abs(e[i] - x) < Math.Abs(e[nearest] - x)) nearest = i;
            return sparseBlocks[nearest];
        }).ToArray();
        if (ReferenceCombination.JointMismatch(MixtureDesign(energies, offsetsEv), scan.Mu, whole.Gradient, MixtureDesign(e, offsetsEv), restricted, fit.Gradient,
                fromWhole, WholeBlocks, _options.MismatchBlocks, ReferenceCombination.NoiseVariance(energies, scan.Mu)) is not { } joint) return null;
        return (Math.Max(0, joint.Second), joint.First > 0 ? Math.Clamp(joint.Covariance / joint.First, 0, 1) : 0.5);
    }

    /// <summary>The variance of a fraction known only to lie in [0, 1] (uniform): a sparse scan's mismatch before any dense scan.</summary>
    private const double UnknownMismatchVariance = 1.0 / 12;

    /// <summary>Dense scans within about this much of a sparse scan's fraction weigh most in its mismatch.</summary>
    private const double MismatchFractionScale = 0.2;

    /// <summary>A sparse scan's mixture fit: the fraction (unclipped), its least-squares σ, the edge step, and the fraction's
    /// gradient in the coefficients of <see cref="MixtureDesign"/>.</summary>
    private readonly record struct MixtureFit(double Fraction, double Sigma, double Step, double[] Gradient, double Rss);

    /// <summary>A sparse scan's own fit of the references' offsets: their posterior mean and its covariance.</summary>
    private readonly record struct ShiftFit(double FirstEv, double LastEv, double[,] Covariance);

    /// <summary>
    /// The first and last references' energy offsets a sparse scan's mixture fit moves them by (<see cref="XasAnalyzerOptions.FitSparseShifts"/>):
    /// the scan's own fit of them (<see cref="MinimiseShifts"/>) with the dense scans' posterior (<see cref="ReferenceEdgeCorrection.ShiftPrior"/>)
    /// as the prior, each applied where that fit resolves it at <see cref="ReferenceEdgeCorrection.ResolvedSigmas"/> σ and 0 otherwise, as
    /// the dense scans' own offsets are. The sparse points do carry the edge (2.5 eV steps across both references' edges, a point on it
    /// and three over the white line), so a scan on an edge no dense scan has measured yet, or measured badly (near the hop), corrects
    /// its offset itself. Null when the mixture cannot be fitted at the prior's mean.
    /// </summary>
    private ((double First, double Last) Applied, double[,] Covariance)? FitShifts(double[] e, double[] y, double searchFrom, double searchTo, (double[] MeanEv, double[,] Covariance) prior)
    {
        if (MinimiseShifts(e, y, searchFrom, searchTo, prior.MeanEv, prior.Covariance) is not { } fit) return null;
        return ((ReferenceEdgeCorrection.Applied(fit.FirstEv, fit.Covariance[0, 0]), ReferenceEdgeCorrection.Applied(fit.LastEv, fit.Covariance[1, 1])), fit.Covariance);
    }

    /// <summary>
    /// The variance the offsets' own uncertainty adds to a sparse scan's fraction: gᵀ C g, g the fraction's change per eV of each
    /// offset (differences of ± 0.05 eV about those applied) and C the offsets' posterior covariance. A shift looks like a change of
    /// fraction, so the fraction fitted at one offset is only as sure as that offset is.
    /// </summary>
    private double ShiftVariance(double[] e, double[] y, double searchFrom, double searchTo, (double First, double Last) at, double[,] covariance)
    {
        const double d = 0.05;
        double FractionAt(double first, double last) => FitMixture(e, y, searchFrom, searchTo, out _, (first, last))?.Fraction ?? double.NaN;
        var centre = FractionAt(at.First, at.Last);
        // A central difference, or a one-sided one where the fit fails on one side (never a silent 0: that would understate σ).
        double Slope(double plus, double minus) =>
            double.IsFinite(plus) && double.IsFinite(minus) ? (plus - minus) / (2 * d)
            : double.IsFinite(plus) ? (plus - centre) / d
            : double.IsFinite(minus) ? (centre - minus) / d
            : double.NaN;
        var g1 = Slope(FractionAt(at.First + d, at.Last), FractionAt(at.First - d, at.Last));
        var g2 = Slope(FractionAt(at.First, at.Last + d), FractionAt(at.First, at.Last - d));
        // Only an offset that was applied: one left at 0 (unresolved) is the dense scans' case, whose error the mismatch measures.
        if (at.First == 0) g1 = 0;
        if (at.Last == 0) g2 = 0;
        var variance = g1 * g1 * covariance[0, 0] + 2 * g1 * g2 * covariance[0, 1] + g2 * g2 * covariance[1, 1];
        // No slope at all: the fraction is known only to lie in [0, 1] as far as the offsets go.
        return double.IsFinite(variance) ? Math.Max(0, variance) : 1.0 / 12;
    }

    /// <summary>
    /// The minimum over the offsets t of J(t) = RSS(t)/s² + (t − δ)ᵀΣ⁻¹(t − δ), RSS(t) the residuals of the mixture fit with the
    /// references moved by t (the line and the two shares fitted anew at each t) and s² = RSS(δ)/(n − 6), the residual variance per
    /// point at the prior's mean (noise and whatever else of the sample the references miss, which should weigh the data down too).
    /// J is −2 log of the posterior, so the covariance is twice the inverse of its Hessian. Newton's method on differences of
    /// ± 0.02 eV, each step halved until it lowers J. Null when the mixture cannot be fitted at the prior's mean or the Hessian at
    /// the minimum is not positive definite.
    /// <para>Measured on part b with its seeds widened to 24 charges a row (a local edit, one shot): estimating s² again at the minimum and minimising once more cost the
    /// 0.1 s dwell row 0.015 eV (0.059 → 0.074) and gained the mismatched rows 0–0.02 eV.</para>
    /// </summary>
    private ShiftFit? MinimiseShifts(double[] e, double[] y, double searchFrom, double searchTo, double[] mean, double[,] covariance)
    {
        var c = covariance;
        var det = c[0, 0] * c[1, 1] - c[0, 1] * c[1, 0];
        if (!(det > 0)) return null;
        double[,] precision = { { c[1, 1] / det, -c[0, 1] / det }, { -c[1, 0] / det, c[0, 0] / det } };
        if (FitMixture(e, y, searchFrom, searchTo, out _, (mean[0], mean[1])) is not { } start) return null;
        // The line, the two shares and the two offsets; a floor keeps noise-free data from an infinite weight.
        const int parameters = 6;
        var variance = Math.Max(start.Rss / Math.Max(1, e.Length - parameters), Math.Pow(1e-4 * start.Step, 2));
        double Objective(double t1, double t2)
        {
            if (FitMixture(e, y, searchFrom, searchTo, out _, (t1, t2)) is not { } fit) return double.PositiveInfinity;
            var (d1, d2) = (t1 - mean[0], t2 - mean[1]);
            return fit.Rss / variance + d1 * d1 * precision[0, 0] + 2 * d1 * d2 * precision[0, 1] + d2 * d2 * precision[1, 1];
        }
        const double h = 0.02, maximumStepEv = 0.5;
        (double H11, double H22, double H12, double G1, double G2) Derivatives(double x1, double x2, double value)
        {
            var (p1, m1, p2, m2) = (Objective(x1 + h, x2), Objective(x1 - h, x2), Objective(x1, x2 + h), Objective(x1, x2 - h));
            var (pp, pm, mp, mm) = (Objective(x1 + h, x2 + h), Objective(x1 + h, x2 - h), Objective(x1 - h, x2 + h), Objective(x1 - h, x2 - h));
            return ((p1 - 2 * value + m1) / (h * h), (p2 - 2 * value + m2) / (h * h), (pp - pm - mp + mm) / (4 * h * h), (p1 - m1) / (2 * h), (p2 - m2) / (2 * h));
        }
        var (x1, x2) = (mean[0], mean[1]);
        var value = Objective(x1, x2);
        for (var iteration = 0; iteration < 12; iteration++)
        {
            var (h11, h22, h12, g1, g2) = Derivatives(x1, x2, value);
            if (!double.IsFinite(g1 + g2 + h11 + h22 + h12)) break;
            var hessianDet = h11 * h22 - h12 * h12;
            // Newton where J is convex here, otherwise a gradient step scaled by the curvature.
            var (s1, s2) = h11 > 0 && hessianDet > 0
                ? (-(h22 * g1 - h12 * g2) / hessianDet, -(h11 * g2 - h12 * g1) / hessianDet)
                : (-g1 / Math.Max(Math.Abs(h11), 1), -g2 / Math.Max(Math.Abs(h22), 1));
            var length = Math.Sqrt(s1 * s1 + s2 * s2);
            if (length > maximumStepEv) (s1, s2) = (s1 * maximumStepEv / length, s2 * maximumStepEv / length);
            var moved = false;
            for (var halving = 0; halving < 6; halving++)
            {
                var next = Objective(x1 + s1, x2 + s2);
                if (next < value) { (x1, x2, value, moved) = (x1 + s1, x2 + s2, next, true); break; }
                (s1, s2) = (s1 / 2, s2 / 2);
            }
            if (!moved || Math.Sqrt(s1 * s1 + s2 * s2) < 1e-3) break;
        }
        var (a11, a22, a12, _, _) = Derivatives(x1, x2, value);
        var (b11, b22, b12) = (a11 / 2, a22 / 2, a12 / 2);
        var information = b11 * b22 - b12 * b12;
        // A fit that failed near the minimum makes a difference infinite: no covariance then, rather than a NaN one.
        if (!double.IsFinite(b11) || !double.IsFinite(b22) || !double.IsFinite(b12) || !(b11 > 0) || !(information > 0)) return null;
        return new ShiftFit(x1, x2, new[,] { { b22 / information, -b12 / information }, { -b12 / information, b11 / information } });
    }

    /// <summary>The columns of the mixture fit at every energy: 1, (E − Ē)/10 eV, μ of the first and of the last reference (each moved
    /// by its offset, when the dense scans have measured one: <see cref="ReferenceEdgeCorrection"/>).</summary>
    private double[,] MixtureDesign(double[] e, (double First, double Last) offsetsEv = default)
    {
        var center = e.Average();
        const double backgroundScaleEv = 10;
        var design = new double[e.Length, 4];
        for (var i = 0; i < e.Length; i++)
        {
            design[i, 0] = 1;
            design[i, 1] = (e[i] - center) / backgroundScaleEv;
            design[i, 2] = _model.First.Mu(e[i] - offsetsEv.First);
            design[i, 3] = _model.Last.Mu(e[i] - offsetsEv.Last);
        }
        return design;
    }

    /// <summary>
    /// μ = a + b·(E − Ē) + c2·μ(Fe2+) + c3·μ(Fe3+) by linear least squares over every point, the line taking the
    /// background and c2 + c3 the edge step. Every spectrum of the electrode is such a mixture, so the points need not resolve the
    /// edge's shape, only carry contrast between the references; and where the mixture's derivative maximum hops from the Fe2+ to
    /// the Fe3+ edge the hop follows from the fraction, not from which peak the points happened to sample.
    /// </summary>
    private MixtureFit? FitMixture(double[] e, double[] y, double searchFrom, double searchTo, out string? flag, (double First, double Last) offsetsEv = default)
    {
        flag = FlagIncomplete;
        // The lines are where both references are: below the Fe2+ edge and above the Fe3+ edge by the normalisation's margins.
        var below = e.Count(x => x <= _model.LowEdgeEv + _options.PreEdgeEndEv);
        var above = e.Count(x => x >= _model.HighEdgeEv + _options.PostEdgeStartEv);
        var onEdge = e.Count(x => x >= searchFrom && x <= searchTo);
        // Three points per line (as the normalisation needs) and four across the edge, so the fit has more points than parameters everywhere it matters.
        if (below < MinimumPointsPerLine || above < MinimumPointsPerLine || onEdge < 4) return null;

        var design = MixtureDesign(e, offsetsEv);
        var columns = new double[e.Length][];
        for (var i = 0; i < e.Length; i++) columns[i] = [design[i, 0], design[i, 1], design[i, 2], design[i, 3]];
        var normal = new double[4, 4];
        var rhs = new double[4];
        for (var i = 0; i < e.Length; i++)
        for (var r = 0; r < 4; r++)
        {
            rhs[r] += columns[i][r] * y[i];
            for (var c = 0; c < 4; c++) normal[r, c] += columns[i][r] * columns[i][c];
        }
        double[,] inverse;
        try { inverse = LinearAlgebra.InvertSymmetricPositiveDefinite(normal, "reference fit"); }
        catch (InvalidOperationException) { return null; }
        var coefficients = new double[4];
        for (var r = 0; r < 4; r++)
        for (var c = 0; c < 4; c++) coefficients[r] += inverse[r, c] * rhs[c];
        var rss = 0.0;
        for (var i = 0; i < e.Length; i++)
        {
            var fitted = 0.0;
            for (var r = 0; r < 4; r++) fitted += coefficients[r] * columns[i][r];
            rss += (y[i] - fitted) * (y[i] - fitted);
        }
        var scatter = Math.Sqrt(rss / (e.Length - 4));
        var (c2, c3) = (coefficients[2], coefficients[3]);
        var step = c2 + c3;
        // No edge: the step is not distinguishable from zero given its own standard error. An edge the references cannot
        // reproduce (a significant step but large residuals) is a misfit instead, so the two failures are told apart.
        var stepSigma = scatter * Math.Sqrt(Math.Max(0, inverse[2, 2] + inverse[3, 3] + 2 * inverse[2, 3]));
        flag = FlagFlat;
        if (!(step > 0) || !(step > _options.MinimumStepToNoise * stepSigma)) return null;
        flag = FlagReferenceMisfit;
        if (scatter > _options.MaximumReferenceMisfit * step) return null;

        // f = c3 / (c2 + c3); its variance by the delta method from the coefficients' covariance σ²·(XᵀX)⁻¹.
        double[] gradient = [0, 0, -c3 / (step * step), c2 / (step * step)];
        var variance = 0.0;
        for (var r = 0; r < 4; r++)
        for (var c = 0; c < 4; c++) variance += gradient[r] * inverse[r, c] * gradient[c];
        flag = null;
        return new MixtureFit(c3 / step, scatter * Math.Sqrt(Math.Max(0, variance)), step, gradient, rss);
    }

    /// <summary>The fitted mixture's normalised maximum within 20 eV above E0, as <see cref="Analyze(IReadOnlyList{double}, IReadOnlyList{double}, IReadOnlyList{DenseXasScan}?)"/> reports it from dense data.</summary>
    private (double Energy, double Height) ModelWhiteLine(double fraction, double edge)
    {
        const double resolutionEv = 0.01;
        var (best, height) = (edge, double.NegativeInfinity);
        for (var k = 0; k <= 2000; k++)
        {
            var energy = edge + k * resolutionEv;
            var mu = _model.Mu(energy, fraction);
            if (mu > height) (best, height) = (energy, mu);
        }
        return (best, height);
    }

    /// <summary>
    /// The shares of the k references in the normalised spectrum, summing to 1, by <see cref="ReferenceCombination"/> over the XANES
    /// region: the references go through the same normalisation as the data, and their energy-shift derivatives too. No references: empty.
    /// </summary>
    private (double[] Fractions, double[] Sigmas) LinearCombination(double[] e, double[] normalised, double edge)
    {
        var k = _model.References.Count;
        if (k == 0) return ([], []);
        if (k == 1) return ([1.0], [0.0]);
        // The references go through the same normalisation as the data, so any bias of the line fits cancels.
        double[] Normalised(Func<double, double> mu)
        {
            var raw = e.Select(mu).ToArray();
            return Normalise(e, raw, edge)?.Normalised ?? raw;
        }
        var references = _model.References.Select(r => Normalised(r.Mu)).ToArray();
        // A central difference over ±0.25 eV: far below the narrowest edge (~1 eV), so it is the derivative, yet it reaches past
        // the spacing of a reference file (a tabulated reference's own slope between its points would be as good, not better).
        const double shiftStepEv = 0.25;
        var shiftSlopes = _options.FitReferenceShifts
            ? _model.References.Select(r =>
            {
                var above = Normalised(x => r.Mu(x + shiftStepEv));
                var below = Normalised(x => r.Mu(x - shiftStepEv));
                return above.Select((v, i) => (v - below[i]) / (2 * shiftStepEv)).ToArray();
            }).ToArray()
            : null;
        var from = _model.LowEdgeEv + _options.FitFromEv;
        var to = _model.HighEdgeEv + _options.FitToEv;
        var inside = Enumerable.Range(0, e.Length).Where(i => e[i] >= from && e[i] <= to).ToArray();
        var fit = inside.Length > 0 ? ReferenceCombination.Fit(e, normalised, references, shiftSlopes, inside,
            _options.MismatchBlocks, ReferenceCombination.NoiseVariance(e, normalised)) : null;
        return fit is null
            ? (Enumerable.Repeat(double.NaN, k).ToArray(), Enumerable.Repeat(double.NaN, k).ToArray())
            : (fit.Fractions, fit.Sigmas);
    }

    /// <summary>Subtracts the pre-edge line and divides by the edge step at E0 (the post- minus pre-edge line there).</summary>
    private (double[] Normalised, double Step, double PreEdgeScatter)? Normalise(double[] e, double[] y, double edge)
    {
        var pre = FitLine(e, y, double.NegativeInfinity, edge + _options.PreEdgeEndEv);
        var post = FitLine(e, y, edge + _options.PostEdgeStartEv, double.PositiveInfinity);
        if (pre is null || post is null) return null;
        var step = post.Value.At(edge) - pre.Value.At(edge);
        var normalised = new double[e.Length];
        for (var i = 0; i < e.Length; i++) normalised[i] = (y[i] - pre.Value.At(e[i])) / step;
        return (normalised, step, pre.Value.Scatter);
    }

    private readonly record struct Line(double Intercept, double Slope, double Center, double Scatter)
    {
        public double At(double x) => Intercept + Slope * (x - Center);
    }

    private static Line? FitLine(double[] e, double[] y, double from, double to)
    {
        double sx = 0, sy = 0; var m = 0;
        for (var i = 0; i < e.Length; i++)
            if (e[i] >= from && e[i] <= to) { sx += e[i]; sy += y[i]; m++; }
        if (m < MinimumPointsPerLine) return null;
        var cx = sx / m; var cy = sy / m;
        double sxx = 0, sxy = 0;
        for (var i = 0; i < e.Length; i++)
            if (e[i] >= from && e[i] <= to) { sxx += (e[i] - cx) * (e[i] - cx); sxy += (e[i] - cx) * (y[i] - cy); }
        var slope = sxx > 0 ? sxy / sxx : 0;
        var rss = 0.0;
        for (var i = 0; i < e.Length; i++)
            if (e[i] >= from && e[i] <= to) { var r = y[i] - cy - slope * (e[i] - cx); rss += r * r; }
        return new Line(cy, slope, cx, Math.Sqrt(rss / Math.Max(1, m - 2)));
    }

    /// <summary>
    /// dy/dE at each point from a local quadratic fit over ±<paramref name="halfWindow"/> points (a Savitzky-Golay
    /// derivative that also works on unevenly spaced energies), which tames noise without shifting a symmetric peak.
    /// </summary>
    private static double[] Derivative(double[] e, double[] y, int halfWindow)
    {
        var n = e.Length;
        var d = new double[n];
        for (var i = 0; i < n; i++)
        {
            var from = Math.Max(0, i - halfWindow);
            var to = Math.Min(n - 1, i + halfWindow);
            // Solve the 3x3 normal equations of y = c0 + c1 t + c2 t², t = e - e[i]; the slope at e[i] is c1.
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, t0 = 0, t1 = 0, t2 = 0;
            for (var k = from; k <= to; k++)
            {
                var t = e[k] - e[i]; var t2k = t * t;
                s0 += 1; s1 += t; s2 += t2k; s3 += t2k * t; s4 += t2k * t2k;
                t0 += y[k]; t1 += y[k] * t; t2 += y[k] * t2k;
            }
            if (to - from < 2)
            {
                d[i] = (y[to] - y[from]) / (e[to] - e[from]);
                continue;
            }
            var det = s0 * (s2 * s4 - s3 * s3) - s1 * (s1 * s4 - s3 * s2) + s2 * (s1 * s3 - s2 * s2);
            var detC1 = s0 * (t1 * s4 - s3 * t2) - t0 * (s1 * s4 - s3 * s2) + s2 * (s1 * t2 - t1 * s2);
            d[i] = detC1 / det;
        }
        return d;
    }

    /// <summary>The energy of the largest value in [from, to], refined by a parabola through it and its neighbours.</summary>
    private static double? ArgMaxEnergy(double[] e, double[] values, double from, double to, out double peakValue)
    {
        var best = -1;
        for (var i = 0; i < e.Length; i++)
            if (e[i] >= from && e[i] <= to && (best < 0 || values[i] > values[best])) best = i;
        peakValue = best >= 0 ? values[best] : double.NaN;
        if (best < 0) return null;
        if (best == 0 || best == e.Length - 1) return e[best];
        double x0 = e[best - 1], x1 = e[best], x2 = e[best + 1];
        double y0 = values[best - 1], y1 = values[best], y2 = values[best + 1];
        var denominator = (x0 - x1) * (x0 - x2) * (x1 - x2);
        var a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denominator;
        var b = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / denominator;
        if (!(a < 0)) return e[best];
        var vertex = -b / (2 * a);
        if (vertex < x0 || vertex > x2) return e[best];
        var c = y0 - a * x0 * x0 - b * x0;
        peakValue = a * vertex * vertex + b * vertex + c;
        return vertex;
    }

    /// <summary>The inflection point of a least-squares cubic through the points within ± <paramref name="halfWidth"/> of <paramref name="center"/>,
    /// when the cubic has one (falling curvature) inside the window; null otherwise.</summary>
    private static double? InflectionOfCubic(double[] e, double[] y, double center, double halfWidth)
    {
        if (!(halfWidth > 0)) return null;
        var a = new double[4, 4];
        var b = new double[4];
        var m = 0;
        for (var i = 0; i < e.Length; i++)
        {
            var t = e[i] - center;
            if (Math.Abs(t) > halfWidth) continue;
            Span<double> powers = [1, t, t * t, t * t * t];
            for (var r = 0; r < 4; r++)
            {
                b[r] += powers[r] * y[i];
                for (var c = 0; c < 4; c++) a[r, c] += powers[r] * powers[c];
            }
            m++;
        }
        if (m < 5) return null;
        double[,] inverse;
        try { inverse = LinearAlgebra.InvertSymmetricPositiveDefinite(a, "edge cubic"); }
        catch (InvalidOperationException) { return null; }
        var coefficients = new double[4];
        for (var r = 0; r < 4; r++)
        for (var c = 0; c < 4; c++) coefficients[r] += inverse[r, c] * b[c];
        var (c2, c3) = (coefficients[2], coefficients[3]);
        // μ' = c1 + 2 c2 t + 3 c3 t² peaks at t = −c2 / (3 c3) when c3 < 0.
        if (!(c3 < 0)) return null;
        var shift = -c2 / (3 * c3);
        return Math.Abs(shift) <= halfWidth ? center + shift : null;
    }

    private static XasFeatures Flagged(string flag) => new(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, flag);
}

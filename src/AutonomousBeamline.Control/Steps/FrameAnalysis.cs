using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Decomposition;
using AutonomousBeamline.Learning.Features;

namespace AutonomousBeamline.Control.Steps;

/// <summary>What a frame said: an observation, or the analysis' reason for not using it.</summary>
/// <param name="Xas">The spectrum's features (usable or not), for the energy planner.</param>
/// <param name="Components">What the reference-free decomposition made of the frame, when it was decomposed.</param>
/// <param name="Stream">How the decomposition stream of the frame's kind began, when the frame was decomposed.</param>
public sealed record AnalysisResult(Observation? Observation, string? Flag, XasFeatures? Xas, FrameComponents? Components = null,
    DecompositionStream? Stream = null);

/// <summary>The cell and the sample when a frame was taken, as the observation records them.</summary>
/// <param name="StateOfChargeAt">The charge-counted state of charge at a moment (the middle of the exposure).</param>
public sealed record FrameContext(long Sequence, SpotMm Position, double CRate, Func<DateTimeOffset, double> StateOfChargeAt, DecisionSource Source);

/// <summary>Turns a frame into an observation with the analysers the run was given. Pure: no I/O.</summary>
/// <param name="target">What the observation's value is (config <c>learning.target</c>); the FePO4 fraction when null.</param>
/// <param name="roi">Where the sample may be: a frame whose header places it outside is no observation (a wrong or hostile
/// header must not put a point on the map where no frame was taken). Null: not checked.</param>
/// <param name="decomposition">Decomposes, without references, every sound frame of a component-score target's kind; of any
/// other kind, every sound frame from the first the references leave unexplained on, seeded with the explained ones before it
/// (<see cref="DecompositionFeed"/>). Null: no decomposition.</param>
public sealed class FrameAnalysis(IXrdAnalyzer xrd, XasEdgeAnalyzer? xas, AxisRoles axes, ObservationTarget? target = null, RoiPlan? roi = null,
    IFrameDecomposition? decomposition = null)
{
    /// <summary>The flag of a frame whose header puts the sample outside the ROI.</summary>
    public const string FlagOutsideRoi = "position-outside-roi";

    /// <summary>How far outside the ROI a header's position may lie (a stage's read-back, not a commanded value).</summary>
    private const double PositionToleranceMm = 0.05;

    private readonly ObservationTarget _target = target ?? ObservationTarget.Default;
    private readonly DecompositionFeed? _feed = decomposition is null ? null : new DecompositionFeed(decomposition, target ?? ObservationTarget.Default);

    /// <summary>What the observations' values are.</summary>
    public ObservationTarget Target => _target;

    /// <param name="denseScans">The run's dense absorption scans so far, which a sparse scan's σ learns the references' mismatch from.</param>
    public AnalysisResult Analyze(Frame frame, FrameContext context, IReadOnlyList<DenseXasScan>? denseScans = null)
    {
        var header = frame.Header;
        double fraction, sigma;
        double? edge = null, whiteLine = null;
        string? flag;
        XasFeatures? spectrum = null;
        IReadOnlyDictionary<string, double>? features;
        if (header.Kind == FrameKind.Xas)
        {
            spectrum = (xas ?? throw new InvalidOperationException("an absorption spectrum arrived, but this run was given no XAS analyser")).Analyze(frame, denseScans);
            (fraction, sigma) = _target.From(spectrum, xas.ReferenceNames);
            (edge, whiteLine, flag) = (spectrum.EdgeEnergyEv, spectrum.WhiteLineEnergyEv, spectrum.Flag);
            features = ObservationTarget.FeaturesOf(spectrum, xas.ReferenceNames);
        }
        else
        {
            var pattern = xrd.Analyze(frame);
            (fraction, sigma) = _target.From(pattern);
            flag = pattern.Flag;
            features = ObservationTarget.FeaturesOf(pattern);
        }
        // A frame the references leave unexplained may still become a component-score observation, so its position is checked too.
        if (flag is (null or XrdPhaseAnalyzer.FlagMisfit or XasEdgeAnalyzer.FlagReferenceMisfit) && OutsideRoi(header.Positions)) flag = FlagOutsideRoi;
        var (components, stream) = (default(FrameComponents), default(DecompositionStream));
        if (_feed is not null && ForDecomposition(frame, flag) is ({ } decomposed, var explained))
        {
            (components, stream) = _feed.Offer(decomposed, flag);
            if (components is not null && explained is not null) components = ReferenceResidual.InSharesOfTheSignal(components, explained);
        }
        if (_target.Kind == TargetKind.ComponentScore && header.Kind == _target.MeasuredBy)
        {
            // The references' verdict does not matter to a reference-free target; a frame the decomposition could not take does.
            if (flag is XrdPhaseAnalyzer.FlagMisfit or XasEdgeAnalyzer.FlagReferenceMisfit) flag = null;
            if (flag is null && components is null) flag = FlagNotDecomposed;
            if (flag is null) (fraction, sigma) = _target.From(components!.Update);
        }
        if (flag is not null) return new AnalysisResult(null, flag, spectrum, components, stream);

        var midExposure = header.TStart + TimeSpan.FromSeconds((header.ExposureS ?? 0) / 2);
        var observation = new Observation
        {
            Sequence = context.Sequence,
            Frame = header.Frame,
            Time = midExposure,
            Kind = header.Kind,
            // Where the detector says the sample was; where the loop sent it if the header does not say.
            XMm = header.Positions.GetValueOrDefault(axes.X, context.Position.X),
            YMm = header.Positions.GetValueOrDefault(axes.Y, context.Position.Y),
            StateOfCharge = context.StateOfChargeAt(midExposure),
            CRate = context.CRate,
            PhaseFraction = fraction,
            PhaseFractionSigma = sigma,
            BeamCurrentMa = header.BeamCurrentMa,
            Source = context.Source,
            ExposureS = header.ExposureS,
            EdgeEnergyEv = edge,
            WhiteLineEnergyEv = whiteLine,
            Target = header.Kind == _target.MeasuredBy ? _target.ToString() : null,
            TargetUnit = header.Kind == _target.MeasuredBy ? _target.UnitOf(header.XUnit) : null,
            Features = features.Count > 0 ? features : null,
        };
        return new AnalysisResult(observation, null, spectrum, components, stream);
    }

    /// <summary>
    /// A resumed run's earlier frame, taken again for what the analysis remembers of it (and nothing else: no observation, no
    /// record): its place in the reference-free decomposition (<see cref="DecompositionFeed.Recall"/>) and, for an absorption
    /// spectrum, its features, which the caller keeps as the planner's and the sparse scans' memory. Frames in the order the
    /// run took them, then <see cref="EndRecall"/>.
    /// </summary>
    /// <param name="storedFlag">The flag the frame was stored with: null for an observation.</param>
    /// <returns>The spectrum's features; null for a diffraction pattern.</returns>
    public XasFeatures? Recall(Frame frame, string? storedFlag, IReadOnlyList<DenseXasScan> denseScans)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (_feed is not null && ForDecomposition(frame, storedFlag).Decomposed is { } decomposed) _feed.Recall(decomposed, storedFlag);
        return frame.Header.Kind == FrameKind.Xas && xas is not null ? xas.Analyze(frame, denseScans) : null;
    }

    /// <inheritdoc cref="DecompositionFeed.EndRecall"/>
    public void EndRecall(IReadOnlyDictionary<FrameKind, PublishedComponents> published, IReadOnlyDictionary<FrameKind, DecompositionStream> began) =>
        _feed?.EndRecall(published, began);

    /// <summary>
    /// The frame as the decomposition takes it. A diffraction pattern whose references follow a moving phase (a solid
    /// solution) goes as what the references leave (<see cref="ReferenceResidual"/>), with the fit its shares are read back
    /// against; a pattern nothing of the references fits then has no residual and is not decomposed. Any other frame goes as
    /// it is.
    /// </summary>
    private (Frame? Decomposed, ReferenceExplanation? Explained) ForDecomposition(Frame frame, string? flag)
    {
        if (frame.Header.Kind != FrameKind.Xrd || !xrd.FollowsMovingPhases) return (frame, null);
        // A frame flagged for itself (no beam, saturated, outside the ROI) is not decomposed anyway: it needs no fit.
        if (flag is not (null or XrdPhaseAnalyzer.FlagMisfit)) return (frame, null);
        return xrd.Explain(frame) is { } explained ? (ReferenceResidual.Of(frame, explained), explained) : (null, null);
    }

    /// <summary>The flag of a component-score frame the decomposition could not take (on another axis or grid than the stream's).</summary>
    public const string FlagNotDecomposed = "not-decomposed";

    private bool OutsideRoi(IReadOnlyDictionary<string, double> positions)
    {
        if (roi is null) return false;
        var x = positions.TryGetValue(axes.X, out var px) ? px : (double?)null;
        var y = positions.TryGetValue(axes.Y, out var py) ? py : (double?)null;
        return x is { } vx && (!double.IsFinite(vx) || vx < roi.XMinMm - PositionToleranceMm || vx > roi.XMaxMm + PositionToleranceMm)
            || y is { } vy && (!double.IsFinite(vy) || vy < roi.YMinMm - PositionToleranceMm || vy > roi.YMaxMm + PositionToleranceMm);
    }
}

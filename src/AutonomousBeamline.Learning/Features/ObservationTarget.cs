using System.Globalization;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Learning.Features;

/// <summary>What the learner maps (config <c>learning.target</c>).</summary>
public enum TargetKind
{
    /// <summary>A phase's share of a diffraction pattern.</summary>
    PhaseFraction,
    /// <summary>A lattice phase's refined cell length a (Å).</summary>
    LatticeParameter,
    /// <summary>The position of a phase's strongest peak, in the detector axis' unit.</summary>
    PeakPosition,
    /// <summary>The absorption edge E0 (eV).</summary>
    EdgePosition,
    /// <summary>A reference spectrum's share of an absorption spectrum.</summary>
    XasFraction,
    /// <summary>A reference-free component's share of a frame (<see cref="Decomposition.IncrementalDecomposition"/>).</summary>
    ComponentScore,
}

/// <summary>
/// The learner's target: which number of which frame the map is made of, with its σ. An observation carries it as its value
/// (<see cref="Observation.PhaseFraction"/> holds the target value, whatever it is); every other number the analysis
/// produced goes into <see cref="Observation.Features"/>. Frames of the other modality are still observations, but never
/// pooled into the same map (<see cref="Measures"/>).
/// </summary>
/// <param name="Of">The phase or reference the target is of; the last configured when null.</param>
/// <param name="NormaliseTwoPhase">Whether the map divides the spread by 4·soc·(1 − soc), a two-phase reaction's shape.</param>
/// <param name="Component">For a component score: the component's id (1 for the first component the decomposition found).</param>
/// <param name="Modality">For a component score: the kind of frame decomposed (diffraction unless the run takes only spectra).</param>
public sealed record ObservationTarget(TargetKind Kind, string? Of, bool NormaliseTwoPhase, int? Component = null, FrameKind Modality = FrameKind.Xrd)
{
    /// <summary>The shipped default: the FePO4 fraction of the diffraction patterns, normalised as a two-phase reaction.</summary>
    public static ObservationTarget Default { get; } = new(TargetKind.PhaseFraction, null, true);

    public static ObservationTarget Parse(string kind, string? of, bool? normaliseTwoPhase, int? component = null, FrameKind modality = FrameKind.Xrd)
    {
        var parsed = kind switch
        {
            "phase_fraction" => TargetKind.PhaseFraction,
            "lattice_parameter" => TargetKind.LatticeParameter,
            "peak_position" => TargetKind.PeakPosition,
            "edge_position" => TargetKind.EdgePosition,
            "xas_fraction" => TargetKind.XasFraction,
            "component_score" => TargetKind.ComponentScore,
            _ => throw new ArgumentException($"learning.target.kind '{kind}' is not a target"),
        };
        if (parsed == TargetKind.ComponentScore && component is not >= 1)
            throw new ArgumentException($"learning.target.component must be a component id from 1 up, got {component?.ToString(CultureInfo.InvariantCulture) ?? "none"}");
        return new ObservationTarget(parsed, of, normaliseTwoPhase ?? parsed == TargetKind.PhaseFraction,
            parsed == TargetKind.ComponentScore ? component : null, modality);
    }

    /// <summary>A fraction (0..1) that follows the local state of charge, as a map learning the deviation from it assumes.</summary>
    public bool IsFraction => Kind is TargetKind.PhaseFraction or TargetKind.XasFraction;

    /// <summary>The kind of frame that measures the target.</summary>
    public FrameKind MeasuredBy => Kind switch
    {
        TargetKind.EdgePosition or TargetKind.XasFraction => FrameKind.Xas,
        TargetKind.ComponentScore => Modality,
        _ => FrameKind.Xrd,
    };

    /// <summary>The target's value and σ in a decomposed frame: the component's share, 0 while the decomposition has not
    /// (or no longer) resolved it (the frame then holds none of it that the model can tell).</summary>
    public (double Value, double Sigma) From(Decomposition.DecompositionUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        return update.ScoreOf(Component ?? 1) is { } score ? (score.Fraction, score.FractionSigma) : (0, 1);
    }

    /// <summary>True when the observation is of the target's modality (the map learns from it).</summary>
    public bool Measures(Observation observation) => observation.Kind == MeasuredBy;

    public override string ToString() => Kind switch
    {
        TargetKind.PhaseFraction => $"fraction of {Of ?? "the last phase"}",
        TargetKind.LatticeParameter => $"lattice parameter a of {Of ?? "the last phase"}",
        TargetKind.PeakPosition => $"peak position of {Of ?? "the last phase"}",
        TargetKind.EdgePosition => "edge position",
        TargetKind.ComponentScore => $"share of component {Component}",
        _ => $"absorption fraction of {Of ?? "the last reference"}",
    };

    /// <summary>
    /// The unit of the target's values as the run's files spell it (<see cref="Units"/>): Å for a lattice parameter, eV for an
    /// edge, the detector axis' own unit for a peak position (<paramref name="axisUnit"/>, the frame header's <c>x_unit</c>),
    /// none for a share or a score.
    /// </summary>
    public string UnitOf(string? axisUnit) => Kind switch
    {
        TargetKind.LatticeParameter => "angstrom",
        TargetKind.PeakPosition => Units.Canonical(axisUnit),
        TargetKind.EdgePosition => "eV",
        _ => "",
    };

    /// <summary>What a map of this target holds: its name and unit (<see cref="UnitOf"/>).</summary>
    public MapQuantity Quantity(string? axisUnit) => new(ToString(), UnitOf(axisUnit));

    /// <summary>
    /// What a map of these observations holds, as the newest of them that is of the target says (the unit of a peak position
    /// is the detector axis', which only the frames tell); from the target alone when none says.
    /// </summary>
    public MapQuantity QuantityOf(IEnumerable<Observation> observations)
    {
        ArgumentNullException.ThrowIfNull(observations);
        return observations.LastOrDefault(o => o.Target is not null) is { } o ? new MapQuantity(o.Target!, o.TargetUnit ?? UnitOf(null)) : Quantity(null);
    }

    /// <summary>The map's options for this target: the two-phase normalisation as the target says, and the deviation from the
    /// state of charge learnt only for a fraction (a lattice parameter or an edge energy does not follow the state of charge's scale,
    /// and must not be clipped to 0..1).</summary>
    public Surrogate.ForestPhaseMapOptions MapOptions(int seed) => new()
    {
        Seed = seed,
        NormaliseByTwoPhaseWeight = NormaliseTwoPhase,
        LearnDeviationFromStateOfCharge = IsFraction,
    };

    /// <summary>The target's value and σ in a pattern; for an absorption target, the reported fraction (the pattern's own number).</summary>
    public (double Value, double Sigma) From(XrdFeatures features)
    {
        var phase = Of is null ? features.Phases.LastOrDefault() : features.Phases.FirstOrDefault(p => p.Name == Of);
        if (phase is null) return (features.PhaseFraction, features.PhaseFractionSigma);
        return Kind switch
        {
            TargetKind.LatticeParameter when phase.LatticeA is { } a => (a, (phase.LatticeA.Value / (1 + phase.Strain)) * phase.StrainSigma),
            TargetKind.PeakPosition => (phase.PeakPosition, Math.Abs(phase.PeakPosition * phase.StrainSigma)),
            _ => (phase.Fraction, phase.FractionSigma),
        };
    }

    /// <summary>The target's value and σ in a spectrum; for a diffraction target, the spectrum's own reported fraction.</summary>
    public (double Value, double Sigma) From(XasFeatures features, IReadOnlyList<string> referenceNames)
    {
        if (Kind == TargetKind.EdgePosition) return (features.EdgeEnergyEv, EdgeSigmaEv);
        if (Kind == TargetKind.XasFraction && Of is not null && referenceNames.ToList().IndexOf(Of) is var i and >= 0 && i < features.Fractions.Count)
            return (features.Fractions[i], i < features.FractionSigmas.Count ? features.FractionSigmas[i] : features.OxidisedFractionSigma);
        return (features.OxidisedFraction, features.OxidisedFractionSigma);
    }

    /// <summary>The edge position's σ: the analyser's resolution on a 0.5 eV grid (docs/benchmarks.md, the XAS rows).</summary>
    public const double EdgeSigmaEv = 0.1;

    /// <summary>Every finite number of a pattern, by name, for the observation record.</summary>
    public static IReadOnlyDictionary<string, double> FeaturesOf(XrdFeatures features)
    {
        var values = new Dictionary<string, double>();
        foreach (var p in features.Phases)
        {
            values[$"fraction:{p.Name}"] = p.Fraction;
            values[$"fraction_sigma:{p.Name}"] = p.FractionSigma;
            values[$"strain:{p.Name}"] = p.Strain;
            values[$"peak_position:{p.Name}"] = p.PeakPosition;
            if (p.LatticeA is { } a) values[$"lattice_a:{p.Name}"] = a;
        }
        values["unexplained"] = features.Unexplained;
        return Finite(values);
    }

    /// <summary>Every finite number of a spectrum, by name.</summary>
    public static IReadOnlyDictionary<string, double> FeaturesOf(XasFeatures features, IReadOnlyList<string> referenceNames)
    {
        var values = new Dictionary<string, double>
        {
            ["edge_ev"] = features.EdgeEnergyEv,
            ["white_line_ev"] = features.WhiteLineEnergyEv,
            ["white_line_height"] = features.WhiteLineHeight,
            ["edge_step"] = features.EdgeStep,
        };
        // A sparse scan's σ says what of it is the references' mismatch and how many dense scans measured that (0: none yet).
        if (features.Sparse) (values["mismatch_sigma"], values["mismatch_dense_scans"]) = (features.MismatchSigma, features.MismatchDenseScans);
        // Beside the data, what corrected a sparse scan's E0 for the references' energy scale, and what a dense scan measured of it.
        if (features.EdgeCorrection is { } c) (values["edge_correction_ev"], values["edge_correction_sigma_ev"], values["edge_correction_dense_scans"]) = (c.OffsetEv, c.SigmaEv, c.DenseScans);
        values["reference_edge_offset_ev"] = features.ReferenceEdgeOffsetEv;
        for (var i = 0; i < features.Fractions.Count && i < referenceNames.Count; i++) values[$"fraction:{referenceNames[i]}"] = features.Fractions[i];
        return Finite(values);
    }

    // JSON has no NaN: a number the analysis could not give is left out.
    private static Dictionary<string, double> Finite(Dictionary<string, double> values) =>
        values.Where(kv => double.IsFinite(kv.Value)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
}

namespace AutonomousBeamline.Core.Domain;

/// <summary>
/// One measurement the learner may use: where and when it was taken, the state of the cell then,
/// and the feature extracted from the frame.
/// </summary>
public sealed record Observation
{
    public required long Sequence { get; init; }
    public required long Frame { get; init; }
    public required DateTimeOffset Time { get; init; }
    public required FrameKind Kind { get; init; }
    public required double XMm { get; init; }
    public required double YMm { get; init; }
    /// <summary>State of charge estimated by charge counting, 0..1.</summary>
    public required double StateOfCharge { get; init; }
    /// <summary>C-rate of the cycling step running when the frame was taken (signed: + charge).</summary>
    public required double CRate { get; init; }
    /// <summary>
    /// The learner's target value extracted from the frame (config <c>learning.target</c>; by default the FePO4, i.e. the last
    /// phase's, fraction 0..1). Kept under its historical name so journals of earlier runs still read.
    /// </summary>
    public required double PhaseFraction { get; init; }
    public required double PhaseFractionSigma { get; init; }
    public required double BeamCurrentMa { get; init; }
    /// <summary>Who chose this spot.</summary>
    public DecisionSource Source { get; init; } = DecisionSource.Learner;
    /// <summary>Seconds of beam on the spot for this frame (the exposure, or the sum of an XAS scan's dwells); counts against a per-spot dose budget. Null when not recorded.</summary>
    public double? ExposureS { get; init; }
    /// <summary>Fe K-edge energy (E0, eV) of an XAS observation; null for a diffraction frame.</summary>
    public double? EdgeEnergyEv { get; init; }
    /// <summary>White-line energy (eV) of an XAS observation; null for a diffraction frame.</summary>
    public double? WhiteLineEnergyEv { get; init; }
    /// <summary>What <see cref="PhaseFraction"/> holds, e.g. "fraction of FePO4"; null in journals written before targets were configurable.</summary>
    public string? Target { get; init; }
    /// <summary>The unit of <see cref="PhaseFraction"/> and its σ where they are the target's (<see cref="Units"/>: "angstrom",
    /// "degree", "eV"; "" for a share or a score); null where the observation is not of the target, and in older journals.</summary>
    public string? TargetUnit { get; init; }
    /// <summary>Every other number the analysis gave, by name (fraction:PHASE, strain:PHASE, peak_position:PHASE, lattice_a:PHASE,
    /// unexplained; edge_ev, white_line_ev, fraction:REFERENCE; component:N from the decomposition); null when none were kept.</summary>
    public IReadOnlyDictionary<string, double>? Features { get; init; }
}

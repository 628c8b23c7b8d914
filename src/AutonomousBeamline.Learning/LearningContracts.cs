using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Learning;

/// <summary>
/// What one diffraction pattern says. <see cref="Flag"/> is null for a usable frame; otherwise it names
/// why the frame must not be learned from ("flat", "empty", "saturated", "non-finite", ...).
/// </summary>
/// <param name="PhaseFraction">The reported phase's share of the fitted phase amounts (by default the last configured phase: FePO4).</param>
public sealed record XrdFeatures(double PhaseFraction, double PhaseFractionSigma, string? Flag)
{
    public bool Usable => Flag is null;

    /// <summary>Every configured phase: its share, its peak shift and where its strongest peak sits (empty when flagged).</summary>
    public IReadOnlyList<PhaseResult> Phases { get; init; } = [];

    /// <summary>
    /// How much of the pattern's structure the references leave unexplained: √(residual beyond noise / fitted phase signal).
    /// Near 0 when the references describe the frame; near 1 or more for the wrong X-ray energy, the wrong axis or a phase
    /// no reference has. NaN when flagged before the fit.
    /// </summary>
    public double Unexplained { get; init; } = double.NaN;
}

/// <summary>One phase of a fitted pattern.</summary>
/// <param name="Fraction">Its fitted amount over the sum of all phases' amounts (scattered intensity share), 0..1.</param>
/// <param name="Strain">Relative change of its spacings from the reference (the peak shift); + is an expanded lattice.</param>
/// <param name="PeakPosition">Where its strongest peak is in this frame, in the detector axis' unit.</param>
/// <param name="LatticeA">Its refined cell length a (Å), for a phase given as a lattice; null for a measured pattern.</param>
public sealed record PhaseResult(string Name, double Fraction, double FractionSigma, double Strain, double StrainSigma, double PeakPosition, double? LatticeA);

/// <summary>What the references explain of one diffraction pattern, channel by channel, in the pattern's counts.</summary>
/// <param name="Fitted">The whole fit: every phase at its fitted amount, shift and width, and the background.</param>
/// <param name="Phases">The phases' part of it alone (the fit less its background): the pattern's diffracted signal the
/// references account for.</param>
public sealed record ReferenceExplanation(double[] Fitted, double[] Phases);

/// <summary>Turns a fresh diffraction frame into features. Pure: no I/O.</summary>
public interface IXrdAnalyzer
{
    XrdFeatures Analyze(Frame frame);

    /// <summary>True when a reference phase may move far (a solid solution, allowed a lattice change well beyond jitter): a
    /// decomposition of fixed shapes cannot follow such a phase, so it is given what the references leave instead.</summary>
    bool FollowsMovingPhases => false;

    /// <summary>What the references explain of the frame; null when they explain nothing of it (no phase fits, or the frame
    /// is not one the analyser can fit) or the analyser cannot say.</summary>
    ReferenceExplanation? Explain(Frame frame) => null;
}

/// <summary>The electrode rectangle the planner may choose from, on a grid of <see cref="StepMm"/>.</summary>
public sealed record RoiSearchSpace(double XMinMm, double XMaxMm, double YMinMm, double YMaxMm, double StepMm)
{
    public IEnumerable<(double X, double Y)> GridPoints()
    {
        var nx = (int)Math.Floor((XMaxMm - XMinMm) / StepMm + 1e-9) + 1;
        var ny = (int)Math.Floor((YMaxMm - YMinMm) / StepMm + 1e-9) + 1;
        for (var j = 0; j < ny; j++)
        for (var i = 0; i < nx; i++)
            yield return (XMinMm + i * StepMm, YMinMm + j * StepMm);
    }
}

/// <summary>Where the beam is now and the state of the cell: what the next ROI decision is made at.</summary>
public sealed record RoiContext(double CurrentXMm, double CurrentYMm, double StateOfCharge, double CRate);

/// <summary>Chooses the next spot on the electrode. Pure: observations in, a ranked decision out.</summary>
public interface IRoiPlanner
{
    DecisionSource Strategy { get; }

    Decision NextRoi(IReadOnlyList<Observation> observations, RoiContext context);

    /// <summary>A region an operator excluded: a planner that can plan around it does; the caller enforces it for the rest.</summary>
    void Exclude(Acquisition.RoiRectangle region) { }
}

/// <summary>A fitted map of the phase fraction over (x, y, state of charge), with its spread.</summary>
public interface IPhaseMap
{
    int Version { get; }
    (double Mean, double Spread) Predict(double xMm, double yMm, double stateOfCharge);
}

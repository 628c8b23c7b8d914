using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Control.Steps;

/// <summary>What a step does once its attempts are used up.</summary>
public enum StepErrorAction
{
    /// <summary>The beamline failed: close the shutter, probe the devices with back-off, then decide afresh (never replay).</summary>
    Recover,
    /// <summary>Give the step up and decide afresh at once.</summary>
    Skip,
    /// <summary>End the run, the cell safe.</summary>
    EndRun,
}

/// <summary>
/// One error policy for every step, as NINA's sequencer has it: how many attempts, what to do when they are used up,
/// and a watchdog that bounds each attempt on the experiment's clock (a move that never settles, a frame that never
/// comes), beyond the devices' own wall-clock time-outs.
/// </summary>
public sealed record StepErrorPolicy(int Attempts, StepErrorAction OnError, TimeSpan Watchdog)
{
    public StepErrorPolicy Validated()
    {
        if (Attempts < 1) throw new ArgumentOutOfRangeException(nameof(Attempts), Attempts, "a step gets at least one attempt");
        if (Watchdog <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(Watchdog), Watchdog, "a watchdog must be positive");
        return this;
    }
}

/// <summary>
/// One measurement: a move (when it has a <see cref="Target"/>) and one frame. The engine runs its parts in their own
/// states (Moving, Acquiring, Analyzing), under its <see cref="ErrorPolicy"/>; the step knows what to ask the detector.
/// </summary>
public interface IMeasurementStep
{
    /// <summary>What the journal and the console call it, e.g. "xrd at (2.5, 7.5) mm".</summary>
    string Name { get; }

    FrameKind Kind { get; }

    /// <summary>Why this step: the decision it carries out.</summary>
    Decision Decision { get; }

    /// <summary>Where the sample goes first; null to measure where it is.</summary>
    SpotMm? Target { get; }

    /// <summary>Who chose the spot the frame is taken at: what its observation records as its source.</summary>
    DecisionSource ChosenBy { get; }

    /// <summary>Seconds of beam on the sample the frame costs (its exposure, or the scan's dwell times).</summary>
    double BeamSeconds { get; }

    StepErrorPolicy ErrorPolicy { get; }

    Task<Frame> AcquireAsync(IDetector detector, CancellationToken cancellationToken);
}

/// <summary>A diffraction pattern at a chosen spot.</summary>
public sealed record XrdStep(Decision Decision, SpotMm Spot, double ExposureS, StepErrorPolicy ErrorPolicy) : IMeasurementStep
{
    public string Name => $"xrd at {Spot}";
    public FrameKind Kind => FrameKind.Xrd;
    public SpotMm? Target => Spot;
    public DecisionSource ChosenBy => Decision.Strategy;
    public double BeamSeconds => ExposureS;

    public Task<Frame> AcquireAsync(IDetector detector, CancellationToken cancellationToken) =>
        detector.AcquireXrdAsync(ExposureS, cancellationToken);
}

/// <summary>An absorption scan over the planned energies: at a chosen spot, or (<see cref="Target"/> null) where the sample is.</summary>
public sealed record XasStep(Decision Decision, IReadOnlyList<double> EnergiesEv, double DwellS, SpotMm? Target, DecisionSource ChosenBy,
    StepErrorPolicy ErrorPolicy) : IMeasurementStep
{
    public string Name => FormattableString.Invariant($"xas scan of {EnergiesEv.Count} points") + (Target is { } t ? $" at {t}" : "");
    public FrameKind Kind => FrameKind.Xas;
    public double BeamSeconds => DwellS * EnergiesEv.Count;

    public Task<Frame> AcquireAsync(IDetector detector, CancellationToken cancellationToken) =>
        detector.AcquireXasAsync(new XasScanRequest(EnergiesEv, null, DwellS), cancellationToken);
}

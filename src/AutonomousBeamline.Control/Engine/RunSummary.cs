using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Control.Engine;

/// <summary>The learner's map against the truth, and a raster scan's with the same number of frames (dry run only).</summary>
public sealed record MapErrorSummary(double LearnerRmse, double RasterRmse, int Frames, string Method, double? CoarseRasterRmse = null);

/// <summary>summary.json: what a person reads first the next morning.</summary>
public sealed record RunSummary
{
    public required string RunId { get; init; }
    /// <summary>"dry-run" or "live".</summary>
    public required string Mode { get; init; }
    public required ExitStatus ExitStatus { get; init; }
    public required string Reason { get; init; }
    public required string Experiment { get; init; }
    public required RoiStrategy Strategy { get; init; }
    public required int Observations { get; init; }
    public required IReadOnlyDictionary<DecisionKind, int> Decisions { get; init; }
    public required int Faults { get; init; }
    public required int Frames { get; init; }
    public required int FramesRejected { get; init; }
    public required int FramesStored { get; init; }
    public required int ProtocolSteps { get; init; }
    /// <summary>Times the run suspended (beam loss, an operator, unusable data, ...).</summary>
    public required int Suspensions { get; init; }
    /// <summary>Observations whose frame was taken below the beam threshold. Must always be 0.</summary>
    public required int ObservationsWithoutBeam { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset EndedAt { get; init; }
    public required double VirtualDurationS { get; init; }
    public required double WallS { get; init; }
    public MapErrorSummary? MapError { get; init; }
    /// <summary>Times the simulated cell was outside its window (dry run only; must be 0).</summary>
    public int? SafetyViolations { get; init; }
    /// <summary>Faults the simulators injected on schedule (dry run only).</summary>
    public int? FaultsInjected { get; init; }

    public static RunSummary From(RunOutcome outcome, string runId, RunPlan plan, double wallS) => new()
    {
        RunId = runId,
        Mode = plan.Mode.Name(),
        ExitStatus = outcome.ExitStatus,
        Reason = outcome.Reason,
        Experiment = plan.Experiment,
        Strategy = plan.Acquisition.Strategy,
        Observations = outcome.Observations.Count,
        Decisions = outcome.Decisions,
        Faults = outcome.Faults,
        Frames = outcome.FramesAcquired,
        FramesRejected = outcome.FramesRejected,
        FramesStored = outcome.FramesStored,
        ProtocolSteps = outcome.ProtocolSteps,
        Suspensions = outcome.Suspensions,
        ObservationsWithoutBeam = outcome.Observations.Count(o => o.BeamCurrentMa < plan.Beam.ThresholdMa),
        StartedAt = outcome.StartedAt,
        EndedAt = outcome.EndedAt,
        VirtualDurationS = (outcome.EndedAt - outcome.StartedAt).TotalSeconds,
        WallS = wallS,
    };
}

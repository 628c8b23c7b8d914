using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Control.Engine;

/// <summary>How the run ended and what it produced.</summary>
public sealed record RunOutcome
{
    public required ExitStatus ExitStatus { get; init; }
    public required string Reason { get; init; }
    public required IReadOnlyList<Observation> Observations { get; init; }
    public required IReadOnlyDictionary<DecisionKind, int> Decisions { get; init; }
    public required int Faults { get; init; }
    public required int FramesAcquired { get; init; }
    public required int FramesRejected { get; init; }
    public required int FramesStored { get; init; }
    public required int ProtocolSteps { get; init; }
    public required int Suspensions { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset EndedAt { get; init; }

    /// <summary>
    /// A run that would end as a success but made no usable observation learned nothing: it says so (exit status
    /// <see cref="ExitStatus.NoData"/>), whatever it spent, so that nobody mistakes it for a finished experiment.
    /// </summary>
    public static (ExitStatus Status, string Reason) Judge((ExitStatus Status, string Reason) end, Status.RunCounts counts) =>
        end.Status == ExitStatus.Success && counts.Observations == 0
            ? (ExitStatus.NoData, $"{end.Reason}, but not one of the {counts.FramesAcquired} frames taken gave a usable observation " +
                                  $"({counts.FramesRejected} were rejected): the run learned nothing")
            : end;

    public static RunOutcome Of(ExitStatus exit, string reason, IReadOnlyList<Observation> observations, Status.RunCounts counts, int framesStored,
        int protocolSteps, DateTimeOffset startedAt, DateTimeOffset endedAt) => new()
    {
        ExitStatus = exit, Reason = reason, Observations = observations, Decisions = counts.Decisions, Faults = counts.Faults,
        FramesAcquired = counts.FramesAcquired, FramesRejected = counts.FramesRejected, FramesStored = framesStored,
        ProtocolSteps = protocolSteps, Suspensions = counts.Suspensions, StartedAt = startedAt, EndedAt = endedAt,
    };
}

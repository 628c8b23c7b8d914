namespace AutonomousBeamline.Control.Operator;

/// <summary>The cell as last measured.</summary>
public sealed record CellSnapshotView(double VoltageV, double CurrentA, double StateOfCharge, double CRate, string Step, int Cycle, bool OutputOn);

/// <summary>A decision as an operator sees it.</summary>
public sealed record DecisionView(DateTimeOffset Time, string Kind, IReadOnlyDictionary<string, double> Values, double Score, string Reason, int ModelVersion, string Strategy);

/// <summary>The model's spread over the ROI grid at the present state of charge (row-major, y rows of x).</summary>
public sealed record UncertaintyGrid(double XMinMm, double YMinMm, double StepMm, int Nx, int Ny, double[] Spread)
{
    /// <summary>What the map is of (config <c>learning.target</c>, e.g. "peak position of NMC811"); null from a controller that does not say.</summary>
    public string? Quantity { get; init; }

    /// <summary>The unit of the spread, as the run's files spell units ("degree", "angstrom", "eV"; "" for a share or a score);
    /// null from a controller that does not say.</summary>
    public string? Unit { get; init; }
}

/// <summary>A fault as an operator sees it.</summary>
public sealed record FaultView(DateTimeOffset Time, string Source, string Message);

/// <summary>Everything the console shows, at one moment. Immutable; taken under the controller's lock.</summary>
public sealed record ExperimentSnapshot
{
    public required DateTimeOffset Time { get; init; }
    public required string RunId { get; init; }
    public required string State { get; init; }
    public required CellSnapshotView Cell { get; init; }
    public required double BeamCurrentMa { get; init; }
    public required bool ShutterOpen { get; init; }
    public required double XMm { get; init; }
    public required double YMm { get; init; }
    public required IReadOnlyList<DecisionView> RecentDecisions { get; init; }
    /// <summary>The decision waiting for approval, if the approval window is open.</summary>
    public DecisionView? PendingDecision { get; init; }
    public required double ApprovalWindowS { get; init; }
    public UncertaintyGrid? Uncertainty { get; init; }
    public required int FramesUsed { get; init; }
    public required int FramesBudget { get; init; }
    public required double BeamTimeUsedS { get; init; }
    public required double BeamTimeBudgetS { get; init; }
    public required int Observations { get; init; }
    public required IReadOnlyList<FaultView> RecentFaults { get; init; }
    public required IReadOnlyList<string> LockedKnobs { get; init; }
}

/// <summary>
/// What the operator endpoint needs from a running controller. Both members are thread-safe and never
/// block the run: <see cref="Apply"/> validates and queues, the loop acts at its next safe point.
/// </summary>
public interface IExperimentOperations
{
    CommandOutcome Apply(OperatorCommand command);
    ExperimentSnapshot Snapshot();
}

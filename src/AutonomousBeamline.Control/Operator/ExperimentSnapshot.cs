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

/// <summary>How the map's intervals held on the newest frames it had not been fitted on: <paramref name="Coverage"/> of the
/// last <paramref name="Checked"/> fell inside the <paramref name="Nominal"/> interval.</summary>
public sealed record MapCalibrationView(double Nominal, double Coverage, int Checked)
{
    /// <summary>"90 % intervals held on 88 % of the last 50 new frames".</summary>
    public override string ToString() =>
        FormattableString.Invariant($"{Nominal:P0} intervals held on {Coverage:P0} of the last {Checked} new frames");
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
    /// <summary>Whether the uncertainty can be trusted: null before the first map has met a new frame.</summary>
    public MapCalibrationView? MapCalibration { get; init; }
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

namespace AutonomousBeamline.Core.Domain;

/// <summary>A candidate the planner weighed, with its score.</summary>
public sealed record DecisionOption(IReadOnlyDictionary<string, double> Values, double Score);

/// <summary>
/// What the planner chose, why, and what else it considered. Stored in the journal beside the data
/// so that a person can audit the reasoning afterwards.
/// </summary>
public sealed record Decision
{
    public required DecisionKind Kind { get; init; }
    public required IReadOnlyDictionary<string, double> Values { get; init; }
    public required double Score { get; init; }
    public required IReadOnlyList<DecisionOption> Alternatives { get; init; }
    public required string Reason { get; init; }
    public required int ModelVersion { get; init; }
    public DecisionSource Strategy { get; init; } = DecisionSource.Learner;
}

namespace AutonomousBeamline.Core.Domain;

/// <summary>The three things the learner decides.</summary>
public static class DecisionKinds
{
    public const string Roi = "roi";
    public const string CRate = "c_rate";
    public const string EnergyRange = "energy_range";
}

/// <summary>A candidate the planner weighed, with its score.</summary>
public sealed record DecisionOption(IReadOnlyDictionary<string, double> Values, double Score);

/// <summary>
/// What the planner chose, why, and what else it considered. Stored in the journal beside the data
/// so that a person can audit the reasoning afterwards.
/// </summary>
public sealed record Decision
{
    public required string Kind { get; init; }
    public required IReadOnlyDictionary<string, double> Values { get; init; }
    public required double Score { get; init; }
    public required IReadOnlyList<DecisionOption> Alternatives { get; init; }
    public required string Reason { get; init; }
    public required int ModelVersion { get; init; }
    public string Strategy { get; init; } = "learner";
}

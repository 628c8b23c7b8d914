namespace AutonomousBeamline.EndToEnd.Tests;

/// <summary>
/// Whole dry runs with real-time time-outs and injected faults (soaks, fault schedules, kills): run one at a time,
/// so that on a 2-core machine they do not starve each other into time-outs that no real night would see.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyRuns
{
    public const string Name = "heavy dry runs";
}

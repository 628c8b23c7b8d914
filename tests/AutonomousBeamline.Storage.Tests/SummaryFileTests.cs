using AutonomousBeamline.Control.Plan;
using System.Text.Json.Nodes;
using AutonomousBeamline.Control.Engine;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Storage.Tests;

public sealed class SummaryFileTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static RunSummary Summary(string reason) => new()
    {
        RunId = "20261124-210000-lfp-a1b2c3", Mode = "dry-run", ExitStatus = ExitStatus.Success, Reason = reason, Experiment = "lfp", Strategy = RoiStrategy.Learner,
        Observations = 80, Decisions = new Dictionary<DecisionKind, int> { [DecisionKind.Roi] = 80, [DecisionKind.CRate] = 2, [DecisionKind.EnergyRange] = 16 },
        Faults = 1, Frames = 82, FramesRejected = 1, FramesStored = 82, ProtocolSteps = 5, Suspensions = 2, ObservationsWithoutBeam = 0,
        StartedAt = TestClock.Start, EndedAt = TestClock.Start.AddHours(1), VirtualDurationS = 3600, WallS = 12.5, SafetyViolations = 0,
    };

    [Fact]
    public void The_summary_is_written_in_the_run_folders_json_and_replaces_an_earlier_one_whole()
    {
        var path = _folder.File(RunFolder.SummaryFileName);
        SummaryFile.Write(path, Summary("first"));

        SummaryFile.Write(path, Summary("frame budget spent"));

        var summary = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.Equal("frame budget spent", (string?)summary["reason"]);
        Assert.Equal("20261124-210000-lfp-a1b2c3", (string?)summary["run_id"]);
        Assert.Equal(0, (int?)summary["observations_without_beam"]);
        Assert.Equal(["roi", "c_rate", "energy_range"], summary["decisions"]!.AsObject().Select(d => d.Key));
        Assert.Equal(0, (int?)summary["safety_violations"]);
        Assert.False(summary.ContainsKey("map_error"));
        Assert.Contains("\n  \"run_id\"", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(_folder.Path));
    }
}

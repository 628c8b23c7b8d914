using System.Text.Json.Nodes;
using AutonomousBeamline.Cli;
using AutonomousBeamline.Cli.Replay;

namespace AutonomousBeamline.EndToEnd.Tests;

/// <summary><c>beamline replay</c> on a recorded dry run: the decision engine again on the journal's observations.</summary>
public sealed class ReplayTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replay-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static List<JsonNode> Decisions(string directory) =>
        File.ReadLines(Path.Combine(directory, ReplayCommand.DecisionsFileName)).Select(l => JsonNode.Parse(l)!).ToList();

    [Fact]
    public async Task Replaying_a_learner_run_with_the_learner_chooses_every_recorded_spot_again_and_another_strategy_chooses_others()
    {
        var runDir = await ReportTests.ShortDryRunAsync(_dir, frames: 12);
        var learner = Path.Combine(_dir, "learner");
        Assert.Equal(Commands.Success, ReplayCommand.Run(runDir, "learner", seed: null, learner));
        var same = Decisions(learner);
        Assert.Equal(10, same.Count);
        Assert.All(same, d => Assert.Equal(0, (double)d["distance_mm"]!));
        Assert.True(File.Exists(Path.Combine(learner, "index.html")));

        var raster = Path.Combine(_dir, "raster");
        Assert.Equal(Commands.Success, ReplayCommand.Run(runDir, "raster", seed: null, raster));
        var other = Decisions(raster);
        Assert.Contains(other, d => (double)d["distance_mm"]! > 0);
        Assert.All(other, d => Assert.Equal("raster", (string?)d["replayed"]!["strategy"]));
    }

    [Fact]
    public async Task The_same_replay_gives_the_same_decisions()
    {
        var runDir = await ReportTests.ShortDryRunAsync(_dir, frames: 8);
        var first = Path.Combine(_dir, "first");
        var second = Path.Combine(_dir, "second");
        Assert.Equal(Commands.Success, ReplayCommand.Run(runDir, "random", seed: 9, first));
        Assert.Equal(Commands.Success, ReplayCommand.Run(runDir, "random", seed: 9, second));
        Assert.Equal(File.ReadAllText(Path.Combine(first, ReplayCommand.DecisionsFileName)), File.ReadAllText(Path.Combine(second, ReplayCommand.DecisionsFileName)));
    }

    [Fact]
    public void A_folder_that_is_no_run_or_an_unknown_strategy_is_refused()
    {
        Assert.Equal(Commands.BadConfig, ReplayCommand.Run(_dir, "learner", null, null));
        Assert.Equal(Commands.BadConfig, ReplayCommand.Run(_dir, "clever", null, null));
    }
}

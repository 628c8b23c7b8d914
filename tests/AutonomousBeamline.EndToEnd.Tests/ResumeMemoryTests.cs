using System.Text.Json.Nodes;
using AutonomousBeamline.Cli;

namespace AutonomousBeamline.EndToEnd.Tests;

/// <summary>
/// What a resumed run remembers of the frames it took before the crash, beyond its observations: the absorption scans
/// (the energy planner's memory, and the dense scans a sparse scan's σ learns the references' mismatch from). The shipped
/// dry run, cut after frame 40 as a crash would leave it (<see cref="CrashedRunFolder"/>), then resumed.
/// </summary>
public sealed class ResumeMemoryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("resume-memory-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static bool IsXas(JsonObject r) => (string?)r["type"] == "observation" && (string?)r["kind"] == "xas";

    /// <summary>A sparse scan's observation says from how many dense scans its mismatch was learnt; a dense scan's does not.</summary>
    private static int? DenseScansBehind(JsonObject r) => (int?)(double?)r["features"]?["mismatch_dense_scans"];

    [Fact]
    public async Task A_resumed_runs_sparse_scans_learn_from_the_dense_scans_taken_before_the_crash()
    {
        var yaml = File.ReadAllText(DryRunTests.RepoFile("configs/dry-run.yaml")).Replace("endpoint: tcp://127.0.0.1:5560", "endpoint: \"\"");
        var config = Path.Combine(_dir, "dry-run.yaml");
        File.WriteAllText(config, yaml);
        var runs = Path.Combine(_dir, "runs");
        Assert.Equal(Commands.Success, await Commands.DryRunAsync(config, runs, seed: 42, CancellationToken.None));
        var runDir = Assert.Single(Directory.GetDirectories(runs));
        CrashedRunFolder.CutAfterFrame(runDir, 40);
        var before = File.ReadLines(Path.Combine(runDir, "journal.jsonl")).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();
        var denseBefore = before.Where(IsXas).Count(r => DenseScansBehind(r) is null);
        Assert.True(denseBefore >= 1, "no dense scan before the cut");

        Assert.Equal(Commands.Success, await Commands.DryRunAsync("unused", null, null, CancellationToken.None, resumeDir: runDir));

        var after = File.ReadLines(Path.Combine(runDir, "journal.jsonl")).Skip(before.Count).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();
        var scansAfter = after.Where(IsXas).ToList();
        var firstSparse = scansAfter.FindIndex(r => DenseScansBehind(r) is not null);
        Assert.True(firstSparse >= 0, "the resumed run took no sparse scan");
        var denseAfter = scansAfter.Take(firstSparse).Count(r => DenseScansBehind(r) is null);
        // Every dense scan so far counts, those before the crash too (a resumed run that forgot them would count only its own).
        Assert.Equal(denseBefore + denseAfter, DenseScansBehind(scansAfter[firstSparse]));
    }
}

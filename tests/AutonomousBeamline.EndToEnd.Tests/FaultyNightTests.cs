using System.Text.Json.Nodes;
using AutonomousBeamline.Cli;

namespace AutonomousBeamline.EndToEnd.Tests;

/// <summary>
/// configs/dry-run-faults.yaml end to end: beam dumps and faults in every device, over the real transports, with the
/// simulators in our own wire habits and in the foreign profile (noise, CR LF, late and duplicated replies, re-sent
/// frames). Device time-outs are shortened so that the lost replies and frames cost little wall time.
/// </summary>
[Collection(HeavyRuns.Name)]
public sealed class FaultyNightTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("faults-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Theory]
    [InlineData("native")]
    [InlineData("foreign")]
    public async Task Every_observation_is_taken_with_beam_none_lost_or_duplicated_and_every_fault_is_journalled(string profile)
    {
        var yaml = File.ReadAllText(DryRunTests.RepoFile("configs/dry-run-faults.yaml"))
            .Replace("\nsimulation:\n", $"\nsimulation:\n  profile: {profile}\n")
            .Replace("endpoint: tcp://127.0.0.1:5560", "endpoint: \"\"")
            .Replace("    timeout_s: 2\n    retries: 3", "    timeout_s: 0.5\n    retries: 3")
            // The foreign peers add their own delays (up to 250 ms) to every detector reply: a second more for a frame.
            .Replace("    timeout_s: 5\n    retries: 3", profile == "foreign" ? "    timeout_s: 2\n    retries: 3" : "    timeout_s: 1\n    retries: 3");
        var path = Path.Combine(_dir, "faults.yaml");
        File.WriteAllText(path, yaml);
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(4));

        var exit = await Commands.DryRunAsync(path, Path.Combine(_dir, "runs"), seed: 11, guard.Token);

        var runDir = Assert.Single(Directory.GetDirectories(Path.Combine(_dir, "runs")));
        var summary = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json")))!;
        Assert.True(exit == Commands.Success, $"exit {exit}: {summary["exit_status"]}: {summary["reason"]}");
        var journal = File.ReadLines(Path.Combine(runDir, "journal.jsonl")).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();
        List<JsonObject> Of(string type) => journal.Where(r => (string?)r["type"] == type).ToList();

        Assert.Equal(0, (int)summary["observations_without_beam"]!);
        Assert.Equal(0, (int)summary["safety_violations"]!);
        // Two beam dumps, the dropped interlock and the overheating cell.
        Assert.Equal(4, (int)summary["suspensions"]!);
        Assert.Equal(16, (int)summary["faults_injected"]!);
        Assert.True((int)summary["frames_rejected"]! >= 4, $"frames_rejected {summary["frames_rejected"]}");

        // Each fault and each suspension is in the journal.
        Assert.Equal(16, Of("fault_injected").Count);
        Assert.Equal(["beam", "beam", "interlock", "temperature"], Of("suspend").Select(s => (string)s["suspender"]!).Order());
        Assert.Equal(4, Of("resume").Count);
        Assert.Equal(Of("fault").Count, Of("recovered").Count);
        Assert.NotEmpty(Of("frame_rejected"));

        // None lost, none duplicated: every observation has its own frame, stored, and taken with beam.
        var observations = Of("observation");
        Assert.Equal((int)summary["observations"]!, observations.Count);
        Assert.Equal(observations.Count, observations.Select(o => (long)o["frame"]!).Distinct().Count());
        Assert.All(observations, o => Assert.True((double)o["beam_current_ma"]! >= 10));
        var stored = File.ReadLines(Path.Combine(runDir, "frames.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        var storedObservations = stored.Where(f => (string?)f["disposition"] == "observation").Select(f => (long)f["header"]!["frame"]!).ToHashSet();
        Assert.True(observations.All(o => storedObservations.Contains((long)o["frame"]!)));

        if (profile != "foreign") return;
        // The foreign peers' habits were met and handled, each with its reason in the journal.
        var retries = Of("device_retry").Select(r => ((string)r["device"]!, (string)r["message"]!)).ToList();
        Assert.Contains(retries, r => r.Item1 == "potentiostat" && r.Item2.Contains("not believed"));
        Assert.Contains(retries, r => r.Item1 is "motion" or "detector" && r.Item2.Contains("discarded"));
    }
}

using System.Text.Json.Nodes;
using AutonomousBeamline.Cli;

namespace AutonomousBeamline.EndToEnd.Tests;

/// <summary>
/// configs/dry-run-protocol.yaml end to end: CC charge → CV hold → rest → CC discharge → GITT, two cycles,
/// the C-rate raised for the second cycle, with glitches and refused settings injected on the serial line.
/// </summary>
[Collection(HeavyRuns.Name)]
public sealed class ProtocolDryRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("protocol-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task A_multi_step_protocol_runs_to_its_end_inside_the_window_with_faults_injected()
    {
        var yaml = File.ReadAllText(DryRunTests.RepoFile("configs/dry-run-protocol.yaml"));
        var path = Path.Combine(_dir, "protocol.yaml");
        File.WriteAllText(path, yaml + "\noperator:\n  endpoint: \"\"\n");
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(4));

        var exit = await Commands.DryRunAsync(path, Path.Combine(_dir, "runs"), seed: 2, guard.Token);

        var runDir = Assert.Single(Directory.GetDirectories(Path.Combine(_dir, "runs")));
        var summary = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json")))!;
        Assert.True(exit == Commands.Success, $"exit {exit}: {summary["reason"]}");
        var journal = File.ReadLines(Path.Combine(runDir, "journal.jsonl")).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();
        List<JsonObject> Of(string type) => journal.Where(r => (string?)r["type"] == type).ToList();

        Assert.Equal("the cycling protocol is complete", (string?)summary["reason"]);
        Assert.Equal(10, (int)summary["protocol_steps"]!);
        Assert.Equal(0, (int)summary["safety_violations"]!);
        Assert.Equal(7, (int)summary["faults_injected"]!);

        var ends = Of("step_end");
        Assert.Equal(10, ends.Count);
        Assert.All(ends, e => Assert.False(string.IsNullOrWhiteSpace((string?)e["reason"])));
        Assert.Equal(
            ["voltage_cutoff", "current_below_limit", "dv_dt_below_threshold", "charge_limit", "max_pulses"],
            ends.Take(5).Select(e => (string)e["ended_by"]!));

        // The C-rate changed between cycles: 1C charge in cycle 1, 2C in cycle 2.
        var charges = Of("step_start").Where(s => (string?)s["step"] == "charge").ToList();
        Assert.Equal([1.0, 2.0], charges.Select(s => Math.Abs((double)s["c_rate"]!)));
        Assert.NotEmpty(Of("device_retry"));
    }
}

using System.Text.Json.Nodes;
using AutonomousBeamline.Cli;

namespace AutonomousBeamline.EndToEnd.Tests;

/// <summary>
/// The whole closed loop over the real transports: the potentiostat simulator on a pseudo-terminal
/// opened through System.IO.Ports, the motion and detector simulators over loopback ZeroMQ, the
/// controller on the virtual clock. Short budgets keep it to seconds.
/// </summary>
public sealed class DryRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dry-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    internal static string RepoFile(string relative)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AutonomousBeamline.sln"))) dir = dir.Parent;
        return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("repository root not found"), relative);
    }

    private string ShortConfig(int frames, string strategy = "learner")
    {
        var yaml = File.ReadAllText(RepoFile("configs/dry-run.yaml"))
            .Replace("frames: 80", $"frames: {frames}")
            .Replace("strategy: learner", $"strategy: {strategy}")
            .Replace("endpoint: tcp://127.0.0.1:5560", "endpoint: tcp://127.0.0.1:0"); // tests run in parallel: free ports
        var path = Path.Combine(_dir, "short.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private static List<JsonObject> Journal(string runDir) =>
        File.ReadLines(Path.Combine(runDir, "journal.jsonl")).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();

    [Fact]
    public async Task A_short_dry_run_closes_the_loop_and_writes_journal_and_summary()
    {
        var exit = await Commands.DryRunAsync(ShortConfig(12), Path.Combine(_dir, "runs"), seed: 3, CancellationToken.None);
        Assert.Equal(Commands.Success, exit);

        var runDir = Assert.Single(Directory.GetDirectories(Path.Combine(_dir, "runs")));
        var summary = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json")))!;
        Assert.Equal("dry-run", (string?)summary["mode"]);
        Assert.Equal("success", (string?)summary["exit_status"]);
        Assert.Equal(12, (int)summary["frames"]!);
        var observations = (int)summary["observations"]!;
        Assert.InRange(observations, 10, 12);
        // xrd+xas with an XAS scan at every fifth spot: 10 spots, 2 scans; the learner chose the first C-rate.
        Assert.Equal(10, (int)summary["decisions"]!["roi"]!);
        Assert.Equal(2, (int)summary["decisions"]!["energy_range"]!);
        Assert.Equal(1, (int)summary["decisions"]!["c_rate"]!);
        Assert.Equal(0, (int)summary["safety_violations"]!);
        Assert.True((double)summary["map_error"]!["learner_rmse"]! > 0);
        Assert.True((double)summary["map_error"]!["raster_rmse"]! > 0);

        var journal = Journal(runDir);
        var seq = journal.Select(r => (long)r["seq"]!).ToList();
        Assert.Equal(Enumerable.Range(1, seq.Count).Select(i => (long)i), seq);

        var states = journal.Where(r => (string?)r["type"] == "transition").Select(r => (string)r["to"]!).ToList();
        Assert.Equal(["Preflight", "Deciding", "Moving", "Acquiring", "Analyzing", "Deciding"], states.Take(6));
        Assert.Equal(["Completing", "Completed"], states.TakeLast(2));

        var decisions = journal.Where(r => (string?)r["type"] == "decision").ToList();
        Assert.Equal(13, decisions.Count);
        Assert.Equal(["c_rate", "energy_range", "roi"], decisions.Select(d => (string)d["kind"]!).Distinct().Order());
        Assert.All(decisions, d =>
        {
            Assert.NotNull(d["score"]);
            Assert.NotNull(d["model_version"]);
            Assert.NotEmpty(d["alternatives"]!.AsArray());
            Assert.False(string.IsNullOrWhiteSpace((string?)d["reason"]));
        });
        Assert.Equal(2, journal.Count(r => (string?)r["type"] == "observation" && (string?)r["kind"] == "xas"));
        // Each scan at a spot diffraction had just measured: the FePO4 (and LiFePO4) fractions of both compared, never pooled.
        var compared = journal.Where(r => (string?)r["type"] == "modalities_compared" && (string?)r["quantity"] == "fraction of FePO4").ToList();
        Assert.Equal(2, compared.Count);
        Assert.All(compared, c => Assert.Equal((double)c["xas"]! - (double)c["xrd"]!, (double)c["difference"]!, 9));
        Assert.Equal(observations, journal.Count(r => (string?)r["type"] == "observation"));
        Assert.Contains(journal, r => (string?)r["type"] == "cell" && (double)r["voltage_v"]! > 3.0);
        Assert.Contains(journal, r => (string?)r["type"] == "step_start" && (string?)r["step"] == "charge");
        Assert.Contains(journal, r => (string?)r["type"] == "preflight");

        // Every frame is stored, observation or not; preflight's pattern and spectrum too, marked as theirs.
        var stored = File.ReadLines(Path.Combine(runDir, "frames.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(12, stored.Count(f => (string?)f["disposition"] != "preflight"));
        Assert.Equal(["xrd", "xas"], stored.Where(f => (string?)f["disposition"] == "preflight").Select(f => (string?)f["header"]!["kind"]));
        Assert.Equal(["preflight", "preflight"], stored.Take(2).Select(f => (string?)f["disposition"]));
        Assert.Equal(2, journal.Count(r => (string?)r["type"] == "reference_check" && (bool)r["explained"]!));
    }

    [Fact]
    public async Task A_config_with_an_error_exits_with_the_config_code_and_runs_nothing()
    {
        var path = ShortConfig(5);
        File.WriteAllText(path, File.ReadAllText(path).Replace("voltage_max_v: 4.0", "voltage_max_v: 1.0"));
        var exit = await Commands.DryRunAsync(path, Path.Combine(_dir, "runs"), seed: null, CancellationToken.None);
        Assert.Equal(Commands.BadConfig, exit);
        Assert.False(Directory.Exists(Path.Combine(_dir, "runs")));
    }
}

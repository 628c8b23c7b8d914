using System.Text.Json.Nodes;
using AutonomousBeamline.Cli;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.EndToEnd.Tests.OperatorConsole;
using AutonomousBeamline.Operator;

namespace AutonomousBeamline.EndToEnd.Tests.Console;

/// <summary>
/// An operator's console attached over the wire (ZeroMQ, the operator endpoint) to a paced dry run: it overrides
/// an ROI and a C-rate, vetoes a decision in the approval window, pauses and resumes, detaches, and the journal
/// audits all of it with who did it.
/// </summary>
[Collection(HeavyRuns.Name)]
public sealed class ConsoleAttachedToDryRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("console-e2e-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task An_operator_attaches_overrides_vetoes_pauses_resumes_and_detaches()
    {
        var yaml = File.ReadAllText(DryRunTests.RepoFile("configs/dry-run.yaml"))
            .Replace("frames: 80", "frames: 20")
            .Replace("endpoint: tcp://127.0.0.1:5560", "endpoint: tcp://127.0.0.1:0");
        var config = Path.Combine(_dir, "console.yaml");
        File.WriteAllText(config, yaml);
        var runs = Path.Combine(_dir, "runs");
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(4));

        // 25 virtual seconds per wall second: a frame takes about a wall second, time enough to act.
        var run = Task.Run(() => Commands.DryRunAsync(config, runs, seed: 4, guard.Token, pace: 25));

        var operatorFile = await WaitForAsync(() => Directory.Exists(runs)
            ? Directory.GetDirectories(runs).Select(d => Path.Combine(d, "operator.json")).FirstOrDefault(File.Exists)
            : null, guard.Token);
        var endpoint = (string)JsonNode.Parse(await File.ReadAllTextAsync(operatorFile, guard.Token))!["endpoint"]!;
        var bob = new OperatorIdentity("bob", "console-host");
        string journalPath;
        using (var console = new OperatorClient(endpoint, bob))
        {
            await WaitForAsync(async () => (await console.SnapshotAsync(guard.Token)).Observations >= 1 ? "" : null, guard.Token);

            Assert.True((await console.SendLineAsync("goto 1.5 8.5", guard.Token)).Ok);
            Assert.True((await console.SendLineAsync("c-rate 0.5", guard.Token)).Ok);
            var refused = await console.SendLineAsync("c-rate 9", guard.Token);
            Assert.False(refused.Ok);
            Assert.Contains("safety window", refused.Message);
            Assert.Throws<ArgumentException>(() => { console.SendLineAsync("goto here", guard.Token).GetAwaiter().GetResult(); });

            // The forced spot is measured before the approval window opens (a veto would refuse it too).
            // (The operator's decision was made, and the sample has left the spot again.)
            await WaitForAsync(async () =>
            {
                var now = await console.SnapshotAsync(guard.Token);
                return now.RecentDecisions.Any(d => d.Strategy == "operator") && (now.XMm, now.YMm) != (1.5, 8.5) ? "" : null;
            }, guard.Token);

            // Approval mode: wait for a pending decision and veto it, then run unattended again.
            Assert.True((await console.SendLineAsync("approval 120", guard.Token)).Ok);
            await WaitForAsync(async () => (await console.SnapshotAsync(guard.Token)).PendingDecision is not null ? "" : null, guard.Token);
            Assert.True((await console.SendLineAsync("veto", guard.Token)).Ok);
            Assert.True((await console.SendLineAsync("approval 0", guard.Token)).Ok);

            Assert.True((await console.SendLineAsync("pause", guard.Token)).Ok);
            await WaitForAsync(async () => (await console.SnapshotAsync(guard.Token)).State == "Paused" ? "" : null, guard.Token);
            Assert.True((await console.SendLineAsync("resume", guard.Token)).Ok);
            await WaitForAsync(async () => (await console.SnapshotAsync(guard.Token)).State != "Paused" ? "" : null, guard.Token);
            journalPath = Path.Combine(Path.GetDirectoryName(operatorFile)!, "journal.jsonl");
        } // detach: the run goes on

        Assert.Equal(Commands.Success, await run);
        var journal = File.ReadLines(journalPath).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();
        List<JsonObject> Of(string type) => journal.Where(r => (string?)r["type"] == type).ToList();

        var audited = Of("operator_command");
        Assert.All(audited, r => Assert.Equal("bob@console-host", (string?)r["by"]));
        Assert.Contains(audited, r => (string?)r["command"] == "GotoRoi" && (bool)r["accepted"]!);
        Assert.Contains(audited, r => (string?)r["command"] == "SetCRate" && !(bool)r["accepted"]! && ((string)r["message"]!).Contains("safety window"));
        Assert.Contains(audited, r => (string?)r["command"] == "Veto" && (bool)r["accepted"]!);
        Assert.Contains(audited, r => (string?)r["command"] == "Pause");
        Assert.Contains(audited, r => (string?)r["command"] == "Resume");

        var roi = Assert.Single(Of("override"), r => (string?)r["what"] == "roi");
        Assert.Equal("bob@console-host", (string?)roi["by"]);
        Assert.NotNull(roi["replaced"]);
        Assert.Contains(Of("observation"), o => (double)o["x_mm"]! == 1.5 && (double)o["y_mm"]! == 8.5 && (string?)o["source"] == "operator");
        Assert.Single(Of("override"), r => (string?)r["what"] == "veto");
        Assert.Contains(Of("c_rate_requested"), r => (double)r["c_rate"]! == 0.5 && (string?)r["requested_by"] == "bob@console-host");
        var states = Of("transition").Select(r => (string)r["to"]!).ToList();
        Assert.Equal("Deciding", states[states.IndexOf("Paused") + 1]);
    }

    private static async Task<string> WaitForAsync(Func<string?> probe, CancellationToken ct)
    {
        while (true)
        {
            if (probe() is { } found) return found;
            await Task.Delay(50, ct);
        }
    }

    private static async Task WaitForAsync(Func<Task<string?>> probe, CancellationToken ct)
    {
        while (await probe() is null) await Task.Delay(50, ct);
    }
}

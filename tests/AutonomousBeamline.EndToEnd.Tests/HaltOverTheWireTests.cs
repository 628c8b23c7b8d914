using System.Text.Json.Nodes;
using AutonomousBeamline.Cli;
using AutonomousBeamline.Cli.OperatorConsole;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Operator;

namespace AutonomousBeamline.EndToEnd.Tests;

/// <summary>
/// `halt` as a console sends it: over the run's operator endpoint (ZeroMQ), found through the run folder's
/// operator.json, with the run id. The run aborts at once with the cell safe, and the command is journalled with who
/// sent it and what it was.
/// </summary>
[Collection(HeavyRuns.Name)]
public sealed class HaltOverTheWireTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("halt-wire-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task A_halt_over_the_operator_endpoint_aborts_the_run_with_the_cell_safe_and_is_journalled()
    {
        var yaml = File.ReadAllText(DryRunTests.RepoFile("configs/dry-run.yaml"))
            .Replace("frames: 80", "frames: 40")
            .Replace("endpoint: tcp://127.0.0.1:5560", "endpoint: tcp://127.0.0.1:0");
        var config = Path.Combine(_dir, "halt.yaml");
        File.WriteAllText(config, yaml);
        var runs = Path.Combine(_dir, "runs");
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        Task<OperatorReply>? halt = null;

        // Paced, so that the halt (sent from another thread once the third observation is journalled) lands mid-run.
        var exit = await Commands.DryRunAsync(config, runs, seed: 5, guard.Token, engine => engine.Journal.Recorded += r =>
        {
            if (r.Record is not ObservationMade { Observation.Sequence: 3 } || halt is not null) return;
            var target = RunLocator.FromRunFolder(Assert.Single(Directory.GetDirectories(runs)));
            halt = Task.Run(async () =>
            {
                using var client = new OperatorClient(target.Endpoint, new OperatorIdentity("ada", "ws-7"), new OperatorClientOptions { RunId = target.RunId });
                return await client.SendAsync(new HaltCommand { By = client.Identity });
            });
        }, pace: 20);

        Assert.Equal(Commands.Aborted, exit);
        var reply = await halt!;
        Assert.True(reply.Ok, reply.Message);
        var runDir = Assert.Single(Directory.GetDirectories(runs));
        var journal = File.ReadLines(Path.Combine(runDir, "journal.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var command = Assert.Single(journal, r => (string?)r["type"] == "operator_command");
        Assert.Equal("ada@ws-7", (string?)command["by"]);
        Assert.True((bool)command["accepted"]!);
        var haltedAt = journal.IndexOf(command);
        Assert.Contains(journal.Skip(haltedAt), r => (string?)r["type"] == "safe_state");
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json")))!;
        Assert.Equal("emergency halt by ada@ws-7", (string?)summary["reason"]);
        Assert.InRange((int)summary["frames"]!, 3, 6);
    }
}

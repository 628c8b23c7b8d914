using System.Text.Json.Nodes;
using AutonomousBeamline.Cli;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Control.Engine;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.StateMachine;

namespace AutonomousBeamline.EndToEnd.Tests;

/// <summary>
/// An operator acting on a dry run through <see cref="IExperimentOperations"/> (what the console's endpoint
/// calls): overrides, a veto in the approval window, pause and resume, refusals, halt and skip to end.
/// Commands are issued from the journal's record events, so they land at the same point of the run every time.
/// </summary>
public sealed class OperatorOverrideTests : IDisposable
{
    private static readonly OperatorIdentity Alice = new("alice", "beamline-console-1");
    private readonly string _dir = Directory.CreateTempSubdirectory("operator-").FullName;

    /// <summary>A run that hangs is aborted (and the test fails on its exit code) instead of hanging the suite.</summary>
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromMinutes(3));
    private CancellationToken Guard => _guard.Token;

    public void Dispose()
    {
        _guard.Dispose();
        Directory.Delete(_dir, true);
    }

    private string Config(int frames)
    {
        var yaml = File.ReadAllText(DryRunTests.RepoFile("configs/dry-run.yaml"))
            .Replace("frames: 80", $"frames: {frames}")
            .Replace("endpoint: tcp://127.0.0.1:5560", "endpoint: \"\"");
        var path = Path.Combine(_dir, "operator.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private (string RunDir, List<JsonObject> Journal, JsonObject Summary) Results()
    {
        var runDir = Assert.Single(Directory.GetDirectories(Path.Combine(_dir, "runs")));
        var journal = File.ReadLines(Path.Combine(runDir, "journal.jsonl")).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();
        var summary = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json")))!;
        return (runDir, journal, summary);
    }

    private static int Observations(JournalEntry entry) => entry.Record is ObservationMade { Observation: var o } ? (int)o.Sequence : -1;

    [Fact]
    public async Task Overrides_veto_pause_and_resume_are_applied_and_audited()
    {
        var outcomes = new List<(string What, CommandOutcome Outcome)>();
        void Attach(RunEngine c)
        {
            void Do(string what, OperatorCommand command) => outcomes.Add((what, c.Apply(command)));
            c.Journal.Recorded += r =>
            {
                switch (Observations(r))
                {
                    case 2:
                        Do("goto", new GotoRoiCommand(2.5, 7.5) { By = Alice });
                        Do("goto outside", new GotoRoiCommand(25, 7.5) { By = Alice });
                        Do("c-rate", new SetCRateCommand(2) { By = Alice });
                        Do("c-rate too high", new SetCRateCommand(10) { By = Alice });
                        Do("veto with nothing pending", new VetoCommand { By = Alice });
                        break;
                    case 4:
                        Do("approval", new SetApprovalWindowCommand(30) { By = Alice });
                        break;
                    case 6:
                        Do("approval off", new SetApprovalWindowCommand(0) { By = Alice });
                        Do("pause", new PauseCommand { By = Alice });
                        break;
                }
                if (r.Record is StateTransition { To: RunState.AwaitingApproval } && !outcomes.Any(o => o.What == "veto"))
                    Do("veto", new VetoCommand { By = Alice });
                if (r.Record is StateTransition { To: RunState.Paused })
                    Do("resume", new ResumeCommand { By = Alice });
            };
        }

        var exit = await Commands.DryRunAsync(Config(10), Path.Combine(_dir, "runs"), seed: 5, Guard, Attach);
        Assert.Equal(Commands.Success, exit);
        var (_, journal, summary) = Results();

        Assert.True(outcomes.Single(o => o.What == "goto").Outcome.Accepted);
        Assert.Contains("outside the ROI", outcomes.Single(o => o.What == "goto outside").Outcome.Message);
        Assert.True(outcomes.Single(o => o.What == "c-rate").Outcome.Accepted);
        Assert.Contains("outside the safety window", outcomes.Single(o => o.What == "c-rate too high").Outcome.Message);
        Assert.False(outcomes.Single(o => o.What == "veto with nothing pending").Outcome.Accepted);
        Assert.True(outcomes.Single(o => o.What == "veto").Outcome.Accepted);
        Assert.True(outcomes.Single(o => o.What == "resume").Outcome.Accepted);

        // The forced spot was measured next, and the override names who and what it replaced.
        var third = journal.First(r => (string?)r["type"] == "observation" && (int)r["sequence"]! == 3);
        Assert.Equal(2.5, (double)third["x_mm"]!, 3);
        Assert.Equal(7.5, (double)third["y_mm"]!, 3);
        Assert.Equal("operator", (string?)third["source"]);
        var roiOverride = journal.Single(r => (string?)r["type"] == "override" && (string?)r["what"] == "roi");
        Assert.Equal("alice@beamline-console-1", (string?)roiOverride["by"]);
        Assert.Equal("roi", (string?)roiOverride["replaced"]!["kind"]);

        var veto = journal.Single(r => (string?)r["type"] == "override" && (string?)r["what"] == "veto");
        Assert.Equal("alice@beamline-console-1", (string?)veto["by"]);
        Assert.Contains(journal, r => (string?)r["type"] == "c_rate_requested" && (double)r["c_rate"]! == 2);

        // Every command is audited, refused ones with the reason.
        var audited = journal.Where(r => (string?)r["type"] == "operator_command").ToList();
        Assert.Equal(outcomes.Count, audited.Count);
        Assert.Contains(audited, r => (bool)r["accepted"]! == false && ((string)r["message"]!).Contains("outside the ROI"));
        Assert.All(audited, r => Assert.Equal("alice", (string?)r["user"]));

        var states = journal.Where(r => (string?)r["type"] == "transition").Select(r => (string)r["to"]!).ToList();
        Assert.Contains("AwaitingApproval", states);
        Assert.Contains("Paused", states);
        Assert.Equal("Deciding", states[states.IndexOf("Paused") + 1]); // a resume re-decides, never replays
        Assert.Equal(10, (int)summary["frames"]!);
        Assert.Equal(2, (int)summary["decisions"]!["c_rate"]!); // the learner's first, then the operator's
    }

    [Fact]
    public async Task Halt_turns_the_output_off_and_aborts()
    {
        RunEngine? controller = null;
        var exit = await Commands.DryRunAsync(Config(20), Path.Combine(_dir, "runs"), seed: 5, Guard, c =>
        {
            controller = c;
            c.Journal.Recorded += r =>
            {
                if (Observations(r) == 3) Assert.True(c.Apply(new HaltCommand { By = Alice }).Accepted);
            };
        });
        Assert.Equal(Commands.Aborted, exit);
        var (_, journal, summary) = Results();
        Assert.Equal("abort", (string?)summary["exit_status"]);
        Assert.Contains("emergency halt by alice@beamline-console-1", (string?)summary["reason"]);
        Assert.InRange((int)summary["frames"]!, 3, 4);
        Assert.Contains(journal, r => (string?)r["type"] == "safe_state");
        Assert.Equal("Aborted", journal.Last(r => (string?)r["type"] == "transition")["to"]!.GetValue<string>());
        Assert.False(controller!.Snapshot().Cell.OutputOn);
        Assert.False(controller.Apply(new PauseCommand { By = Alice }).Accepted); // a finished run takes no commands
    }

    [Fact]
    public async Task Suspend_closes_the_shutter_and_a_resume_re_decides()
    {
        var exit = await Commands.DryRunAsync(Config(8), Path.Combine(_dir, "runs"), seed: 5, Guard, c =>
            c.Journal.Recorded += r =>
            {
                if (Observations(r) == 2) Assert.True(c.Apply(new SuspendCommand { By = Alice }).Accepted);
                // The cycler holds the cell at its next sample; resume once it has.
                if (r.Record is ProtocolHeld)
                {
                    var now = c.Snapshot();
                    Assert.Equal("Suspended", now.State);
                    Assert.False(now.ShutterOpen);
                    Assert.False(now.Cell.OutputOn);
                    Assert.True(c.Apply(new ResumeCommand { By = Alice }).Accepted);
                }
            });
        Assert.Equal(Commands.Success, exit);
        var (_, journal, summary) = Results();
        Assert.Equal(1, (int)summary["suspensions"]!);
        Assert.Contains(journal, r => (string?)r["type"] == "suspend" && ((string)r["reason"]!).Contains("alice"));
        var states = journal.Where(r => (string?)r["type"] == "transition").Select(r => (string)r["to"]!).ToList();
        Assert.Equal("Deciding", states[states.IndexOf("Suspended") + 1]);
        var types = journal.Select(r => (string)r["type"]!).ToList();
        Assert.True(types.IndexOf("protocol_held") < types.IndexOf("protocol_released"));
        Assert.True((double)journal.Single(r => (string?)r["type"] == "protocol_released")["held_s"]! > 0);
    }

    [Fact]
    public async Task Skip_to_end_runs_the_cleanup_and_succeeds()
    {
        var exit = await Commands.DryRunAsync(Config(20), Path.Combine(_dir, "runs"), seed: 5, Guard, c =>
            c.Journal.Recorded += r =>
            {
                if (Observations(r) == 2) c.Apply(new SkipToEndCommand { By = Alice });
            });
        Assert.Equal(Commands.Success, exit);
        var (_, journal, summary) = Results();
        Assert.Contains("skipped to the end", (string?)summary["reason"]);
        var states = journal.Where(r => (string?)r["type"] == "transition").Select(r => (string)r["to"]!).ToList();
        Assert.Equal(["Completing", "Completed"], states.TakeLast(2));
    }

    [Fact]
    public async Task The_snapshot_shows_the_run_as_it_goes()
    {
        ExperimentSnapshot? seen = null;
        await Commands.DryRunAsync(Config(12), Path.Combine(_dir, "runs"), seed: 5, Guard, c =>
            c.Journal.Recorded += r =>
            {
                if (Observations(r) == 10) seen = c.Snapshot();
            });
        Assert.NotNull(seen);
        Assert.Equal(12, seen.FramesBudget);
        Assert.InRange(seen.FramesUsed, 9, 10);
        Assert.True(seen.Cell.VoltageV > 3);
        Assert.True(seen.BeamCurrentMa > 100);
        Assert.NotEmpty(seen.RecentDecisions);
        Assert.False(string.IsNullOrWhiteSpace(seen.RecentDecisions[0].Reason));
        Assert.NotNull(seen.Uncertainty);
        Assert.Equal(seen.Uncertainty.Nx * seen.Uncertainty.Ny, seen.Uncertainty.Spread.Length);
    }
}

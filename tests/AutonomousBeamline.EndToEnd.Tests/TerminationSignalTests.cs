using System.Diagnostics;
using System.Text.Json.Nodes;
using AutonomousBeamline.Cli;

namespace AutonomousBeamline.EndToEnd.Tests;

/// <summary>
/// SIGTERM and Ctrl-C (SIGINT) to a running dry run, a real process: the run halts at once (output off, shutter closed),
/// ends through its abort with the journal's last records and its summary, and exits with the abort status.
/// </summary>
[Collection(HeavyRuns.Name)]
public sealed class TerminationSignalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("signal-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task A_signalled_dry_run_ends_with_the_cell_safe_its_journal_closed_and_the_abort_status(string signal)
    {
        var yaml = File.ReadAllText(DryRunTests.RepoFile("configs/dry-run.yaml")).Replace("endpoint: tcp://127.0.0.1:5560", "endpoint: \"\"");
        var config = Path.Combine(_dir, "signal.yaml");
        File.WriteAllText(config, yaml);
        var runs = Path.Combine(_dir, "runs");
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(3));

        var beamline = Path.Combine(AppContext.BaseDirectory, "beamline.dll");
        // Through env, which gives the signals their default disposition and then becomes the dry run (same pid): a test
        // host started in the background by a non-interactive shell inherits SIGINT ignored, and an ignored SIGINT stays
        // ignored in every child (as nohup and shells intend), so without this Ctrl-C would never reach the run.
        using var child = Process.Start(new ProcessStartInfo("env", ["--default-signal=INT,TERM", "dotnet", "exec", beamline, "dry-run", config, "--out", runs, "--pace", "100"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        })!;
        var output = child.StandardOutput.ReadToEndAsync(guard.Token);
        _ = child.StandardError.ReadToEndAsync(guard.Token);
        string journal;
        try
        {
            while (true)
            {
                var runDir = Directory.Exists(runs) ? Directory.GetDirectories(runs).FirstOrDefault() : null;
                journal = runDir is null ? "" : Path.Combine(runDir, "journal.jsonl");
                if (runDir is not null && File.Exists(journal) && ResumeAfterKillTests.ReadShared(journal).Any(l => l.Contains("\"type\":\"observation\""))) break;
                Assert.False(child.HasExited, "the dry run ended before it could be signalled");
                await Task.Delay(20, guard.Token);
            }
            using (var kill = Process.Start("kill", [$"-{signal}", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync(guard.Token);
            await child.WaitForExitAsync(guard.Token);
        }
        finally
        {
            if (!child.HasExited) child.Kill(entireProcessTree: true);
        }

        Assert.Equal(Commands.Aborted, child.ExitCode);
        var records = ResumeAfterKillTests.ReadShared(journal).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var types = records.Select(r => (string)r["type"]!).ToList();
        Assert.Contains("safe_state", types);
        var end = records.Last();
        Assert.Equal("run_end", (string)end["type"]!);
        Assert.Equal("abort", ((string)end["exit_status"]!).ToLowerInvariant());
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(journal)!, "summary.json")));
        Assert.Contains("abort", await output);
    }
}

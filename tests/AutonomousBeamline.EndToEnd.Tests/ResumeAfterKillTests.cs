using System.Diagnostics;
using System.Text.Json.Nodes;
using AutonomousBeamline.Cli;

namespace AutonomousBeamline.EndToEnd.Tests;

/// <summary>
/// kill -9 of a running dry run (a real process, SIGKILL), then <c>dry-run --resume</c>: the run goes on from its
/// journal, re-checks the cell first, re-decides, and loses or repeats no observation.
/// </summary>
[Collection(HeavyRuns.Name)]
public sealed class ResumeAfterKillTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("resume-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>Killed at different moments, so that the kill falls in different parts of the loop.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    [InlineData(13)]
    public async Task A_killed_dry_run_resumes_from_its_journal_with_nothing_lost_or_duplicated(int observationsBeforeKill)
    {
        var yaml = File.ReadAllText(DryRunTests.RepoFile("configs/dry-run.yaml"))
            .Replace("frames: 80", "frames: 30")
            .Replace("endpoint: tcp://127.0.0.1:5560", "endpoint: \"\"");
        var config = Path.Combine(_dir, "resume.yaml");
        File.WriteAllText(config, yaml);
        var runs = Path.Combine(_dir, "runs");
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(4));

        var beamline = Path.Combine(AppContext.BaseDirectory, "beamline.dll");
        var child = Process.Start(new ProcessStartInfo("dotnet", ["exec", beamline, "dry-run", config, "--out", runs, "--seed", "8", "--pace", "200"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        })!;
        _ = child.StandardOutput.ReadToEndAsync(guard.Token);
        _ = child.StandardError.ReadToEndAsync(guard.Token);
        string? runDir = null;
        try
        {
            // Kill it once it has a handful of observations in its journal.
            while (true)
            {
                runDir = Directory.Exists(runs) ? Directory.GetDirectories(runs).FirstOrDefault() : null;
                var journal = runDir is null ? null : Path.Combine(runDir, "journal.jsonl");
                if (journal is not null && File.Exists(journal) && ReadShared(journal).Count(l => l.Contains("\"type\":\"observation\"")) >= observationsBeforeKill) break;
                Assert.False(child.HasExited, "the dry run ended before it could be killed");
                await Task.Delay(20, guard.Token);
            }
        }
        finally
        {
            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync(guard.Token);
        }
        Assert.DoesNotContain(ReadShared(Path.Combine(runDir!, "journal.jsonl")), l => l.Contains("\"type\":\"run_end\""));

        var exit = await Commands.DryRunAsync("unused", null, null, guard.Token, resumeDir: runDir);

        Assert.Equal(Commands.Success, exit);
        var records = File.ReadLines(Path.Combine(runDir!, "journal.jsonl"))
            .Select(l => { try { return JsonNode.Parse(l) as JsonObject; } catch (System.Text.Json.JsonException) { return null; } })
            .OfType<JsonObject>().ToList();
        var seqs = records.Select(r => (long)r["seq"]!).ToList();
        Assert.Equal(seqs.Order(), seqs);
        Assert.Equal(seqs.Count, seqs.Distinct().Count());

        // The cell is re-checked before anything else, and the loop re-decides.
        var types = records.Select(r => (string)r["type"]!).ToList();
        var resumedAt = types.IndexOf("run_resume");
        Assert.True(resumedAt > 0);
        Assert.Equal("resume_check", types.Skip(resumedAt + 1).First(t => t != "transition"));
        Assert.Contains("resumed", types.Skip(resumedAt));

        var summary = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(runDir!, "summary.json")))!;
        Assert.Equal(30, (int)summary["frames"]!);
        var observations = records.Where(r => (string?)r["type"] == "observation").ToList();
        Assert.Equal((int)summary["observations"]!, observations.Count);
        Assert.Equal(observations.Count, observations.Select(o => (int)o["sequence"]!).Distinct().Count());
        Assert.Equal(Enumerable.Range(1, observations.Count), observations.Select(o => (int)o["sequence"]!));
        // Every frame stored as an observation is journalled as one (nothing measured was lost).
        var stored = File.ReadLines(Path.Combine(runDir!, "frames.jsonl")).Count(l => l.Contains("\"disposition\":\"observation\""));
        Assert.Equal(stored, observations.Count);
        // Preflight's pattern and spectrum, taken when the run began, are kept once: the resume does not take them again.
        var preflight = File.ReadLines(Path.Combine(runDir!, "frames.jsonl")).Where(l => l.Contains("\"disposition\":\"preflight\"")).ToList();
        Assert.Equal(2, preflight.Count);
        Assert.Equal(2, records.Count(r => (string?)r["type"] == "reference_check"));
        Assert.Contains(records, r => (string?)r["type"] == "preflight" && r.ToJsonString().Contains("not taken again"));
        Assert.Equal(0, (int)summary["safety_violations"]!);
    }

    /// <summary>The lines of a file another process is still writing.</summary>
    internal static List<string> ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line) lines.Add(line);
        return lines;
    }
}

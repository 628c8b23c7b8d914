using System.Text.Json.Nodes;
using AutonomousBeamline.Cli;

namespace AutonomousBeamline.EndToEnd.Tests;

/// <summary>
/// The beamline changes under a running experiment: after preflight has passed, the simulated X-ray wavelength moves from
/// 0.5 to 0.55 Å (someone moved the monochromator). Nothing tells the controller; the real analyser finds the patterns no
/// longer fit, and the unattended run suspends, waits its bounded time for an operator, and ends failed with the cell safe.
/// </summary>
public sealed class BeamlineChangeDryRunTests : IDisposable
{
    private const int InARow = 6;
    private const double ChangeAtS = 300;
    private readonly string _dir = Directory.CreateTempSubdirectory("beamline-change-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task Frames_that_stop_fitting_mid_run_suspend_it_within_the_limit_naming_the_X_ray_energy_and_the_unattended_run_ends_failed_and_safe()
    {
        var yaml = File.ReadAllText(DryRunTests.RepoFile("configs/dry-run.yaml"))
            .Replace("frames: 80", "frames: 40")
            .Replace("endpoint: tcp://127.0.0.1:5560", "endpoint: tcp://127.0.0.1:0")
            .Replace("  beam_settle_s: 60", $"  beam_settle_s: 60\n  unusable_frames_in_a_row: {InARow}\n  unusable_operator_wait_s: 600")
            .Replace("  axis_speed_mm_per_s: 2", $"  axis_speed_mm_per_s: 2\n  physics: {{ wavelength_change: {{ at_s: {ChangeAtS}, wavelength_angstrom: 0.55 }} }}");
        var config = Path.Combine(_dir, "changed.yaml");
        File.WriteAllText(config, yaml);

        // A run that waited for an operator forever would be cut off here, and the exit status would say aborted.
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var exit = await Commands.DryRunAsync(config, Path.Combine(_dir, "runs"), seed: 5, guard.Token);

        Assert.Equal(Commands.RunFailed, exit);
        var runDir = Assert.Single(Directory.GetDirectories(Path.Combine(_dir, "runs")));
        var journal = File.ReadLines(Path.Combine(runDir, "journal.jsonl")).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();
        var start = DateTimeOffset.Parse((string)journal.First()["t"]!);
        var change = start + TimeSpan.FromSeconds(ChangeAtS);
        // When each frame's exposure began, from the frame store (what the detector stamped).
        var began = File.ReadLines(Path.Combine(runDir, "frames.jsonl")).Select(l => JsonNode.Parse(l)!["header"]!)
            .ToDictionary(h => (long)h["frame"]!, h => (Kind: (string)h["kind"]!, T: DateTimeOffset.Parse((string)h["t_start"]!)));

        // Preflight passed and patterns were counted before the change: the mismatch began mid-run.
        Assert.DoesNotContain(journal, r => (string?)r["type"] == "run_end" && ((string?)r["reason"] ?? "").Contains("preflight"));
        var observations = journal.Where(r => (string?)r["type"] == "observation").ToList();
        Assert.Contains(observations, o => (string?)o["kind"] == "xrd");
        // No pattern taken after the change was counted as an observation.
        Assert.All(observations.Where(o => (string?)o["kind"] == "xrd"), o => Assert.True(began[(long)o["frame"]!].T < change));

        var suspend = Assert.Single(journal, r => (string?)r["type"] == "suspend");
        Assert.Equal("unusable data", (string?)suspend["suspender"]);
        Assert.Contains("X-ray energy", (string?)suspend["reason"]);
        var suspendSeq = (long)suspend["seq"]!;
        // Within M unusable frames after the change: exactly the M patterns in a row, the absorption scans between them aside.
        var unusableAfter = journal.Where(r => (string?)r["type"] == "frame_not_counted" && (long)r["seq"]! < suspendSeq
                                               && began[(long)r["frame"]!].T >= change).ToList();
        Assert.Equal(InARow, unusableAfter.Count);
        Assert.All(unusableAfter, r => Assert.Equal("xrd", (string?)r["kind"]));
        // Once suspended, no frame is taken: the beam is not wasted.
        Assert.DoesNotContain(journal, r => (long)r["seq"]! > suspendSeq && (string?)r["type"] is "frame_not_counted" or "observation");

        // Unattended, nobody resumes: after the configured wait the run ends, the cell safe, and says why.
        var end = Assert.Single(journal, r => (string?)r["type"] == "run_end");
        Assert.Equal("fail", (string?)end["exit_status"]);
        Assert.Contains("nobody resumed within 600 s", (string?)end["reason"]);
        Assert.Contains(journal, r => (string?)r["type"] == "safe_state" && (long)r["seq"]! > suspendSeq);
        var waited = DateTimeOffset.Parse((string)end["t"]!) - DateTimeOffset.Parse((string)suspend["t"]!);
        Assert.InRange(waited.TotalSeconds, 600, 660);
        var summary = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json")))!;
        Assert.Equal("fail", (string?)summary["exit_status"]);
        Assert.Contains("X-ray energy", (string?)summary["reason"]);
        Assert.Equal(observations.Count, (int)summary["observations"]!);
    }
}

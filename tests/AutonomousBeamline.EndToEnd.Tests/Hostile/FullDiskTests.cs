using System.Diagnostics;
using System.Text.Json.Nodes;
using AutonomousBeamline.Cli;

namespace AutonomousBeamline.EndToEnd.Tests.Hostile;

/// <summary>
/// A test that needs a real small file system: a tmpfs of its own size, mounted for the test (root with the right to mount,
/// as CI runs). Where mounting is not allowed the test is reported as skipped, with the reason, never silently passed.
/// </summary>
public sealed class SmallDiskFactAttribute : FactAttribute
{
    public SmallDiskFactAttribute()
    {
        if (SmallDisk.CannotMount() is { } why) Skip = why;
    }
}

/// <summary>A tmpfs of a given size at a fresh folder, unmounted and removed on dispose.</summary>
internal sealed class SmallDisk : IDisposable
{
    private SmallDisk(string path) => Path = path;

    public string Path { get; }

    public static SmallDisk Mount(long bytes)
    {
        var path = Directory.CreateTempSubdirectory("small-disk-").FullName;
        Run("mount", $"-t tmpfs -o size={bytes} tmpfs {path}");
        return new SmallDisk(path);
    }

    /// <summary>Why no tmpfs can be mounted here, or null.</summary>
    public static string? CannotMount()
    {
        if (!OperatingSystem.IsLinux()) return "needs Linux to mount a tmpfs";
        try
        {
            using var probe = Mount(1 << 20);
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return $"cannot mount a tmpfs here ({e.Message}); a full disk is tested with a real small file system only";
        }
    }

    public void Dispose()
    {
        try { Run("umount", $"-l {Path}"); } catch (InvalidOperationException) { }
        try { Directory.Delete(Path, true); } catch (IOException) { }
    }

    private static void Run(string command, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{command} {arguments}: exit {process.ExitCode} {error.Trim()}");
    }
}

/// <summary>The run folder on a real, small disk: preflight refuses a disk too small for the run; one that runs low mid-run suspends measuring safely, and room made lets it go on.</summary>
[Collection(HeavyRuns.Name)]
public sealed class FullDiskTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("full-disk-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Config(int frames)
    {
        var yaml = File.ReadAllText(DryRunTests.RepoFile("configs/dry-run.yaml"))
            .Replace("frames: 80", $"frames: {frames}")
            .Replace("endpoint: tcp://127.0.0.1:5560", "endpoint: \"\"");
        var path = System.IO.Path.Combine(_dir, "disk.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private static List<JsonObject> Journal(string runDir) =>
        File.ReadLines(System.IO.Path.Combine(runDir, "journal.jsonl")).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();

    [SmallDiskFact]
    public async Task A_disk_too_small_for_the_run_is_refused_in_preflight_before_the_cell_is_touched()
    {
        using var disk = SmallDisk.Mount(32L << 20);
        var exit = await Commands.DryRunAsync(Config(12), disk.Path, seed: 3, CancellationToken.None);

        Assert.Equal(Commands.RunFailed, exit);
        var journal = Journal(Assert.Single(Directory.GetDirectories(disk.Path)));
        var end = journal.Single(r => (string?)r["type"] == "run_end");
        Assert.Matches(@"has \d+(\.\d)? MB free; the run needs about", (string)end["reason"]!);
        Assert.DoesNotContain(journal, r => (string?)r["type"] == "step_start");
    }

    [SmallDiskFact]
    public async Task A_disk_that_runs_low_mid_run_holds_the_cell_and_measuring_goes_on_once_room_is_made()
    {
        // Room for the run's files and the 64 MB reserve, with about 16 MB to spare.
        using var disk = SmallDisk.Mount(80L << 20);
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var run = Task.Run(() => Commands.DryRunAsync(Config(12), disk.Path, seed: 3, guard.Token, pace: 50));

        // Another process fills the disk once the run is measuring.
        var runDir = await Until(() => Directory.GetDirectories(disk.Path).FirstOrDefault(d => File.Exists(System.IO.Path.Combine(d, "journal.jsonl"))), guard.Token);
        await Until(() => Journal(runDir).Count(r => (string?)r["type"] == "observation") >= 2 ? "" : null, guard.Token);
        var ballast = System.IO.Path.Combine(disk.Path, "ballast.bin");
        await using (var fill = File.Create(ballast)) fill.Write(new byte[24 << 20]);
        await Until(() => Journal(runDir).Any(r => (string?)r["type"] == "suspend" && (string?)r["suspender"] == "disk space") ? "" : null, guard.Token);
        File.Delete(ballast);

        var exit = await run;

        Assert.Equal(Commands.Success, exit);
        var journal = Journal(runDir); // every line parses: no torn record
        var suspend = journal.Single(r => (string?)r["type"] == "suspend" && (string?)r["suspender"] == "disk space");
        Assert.Contains("MB", (string)suspend["reason"]!);
        Assert.Contains(journal, r => (string?)r["type"] == "resume");
        Assert.Equal(12, journal.Count(r => (string?)r["type"] == "observation") + journal.Count(r => (string?)r["type"] == "frame_not_counted"));
    }

    private static async Task<string> Until(Func<string?> found, CancellationToken ct)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                if (found() is { } value) return value;
            }
            catch (IOException) { /* the file is being written */ }
            await Task.Delay(50, ct);
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AutonomousBeamline.Configuration;

namespace AutonomousBeamline.Cli.Soak;

/// <summary>What one soak does.</summary>
/// <param name="KillAt">Fraction of the hours (virtual time) at which the controller is killed; 0: no kill.</param>
/// <param name="Profile">The simulators' wire manner for the night (simulation.profile: native or foreign); null: the config's.</param>
public sealed record SoakOptions(string ConfigPath, double Hours, string OutDir, int? Seed, double KillAt, string? Profile = null);

/// <summary>How to start the beamline program as a child process: the file to run and the arguments before the command.</summary>
public sealed record BeamlineProgram(string FileName, IReadOnlyList<string> LeadingArguments)
{
    /// <summary>
    /// This very program. The Cli assembly is beamline.dll wherever this code runs (its apphost, `dotnet run`,
    /// `dotnet beamline.dll`, or a test host that references it), so run that dll through the same dotnet host when
    /// there is one; the apphost itself when that is what is running.
    /// </summary>
    public static BeamlineProgram Current()
    {
        var dll = typeof(BeamlineProgram).Assembly.Location;
        var process = Environment.ProcessPath;
        if (process is not null && Path.GetFileNameWithoutExtension(process) == Path.GetFileNameWithoutExtension(dll))
            return new BeamlineProgram(process, []);
        var dotnet = process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? process
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        return new BeamlineProgram(dotnet, [dll]);
    }
}

/// <summary>
/// Runs the soak: the derived config, a dry run in a child process watched for memory, killed with SIGKILL part way
/// through, `dry-run --resume` on the same run folder, and soak.json from what they left behind.
/// </summary>
public sealed partial class SoakRunner(BeamlineProgram program, TextWriter log)
{
    /// <summary>
    /// How often the journal is looked at: the virtual clock runs some hundreds of times faster than the wall, so this
    /// is how close to --kill-at the kill lands (tens of seconds of experiment, plus what the journal still buffers).
    /// </summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(25);

    /// <summary>How often the children's memory is sampled, in polls (every 100 ms).</summary>
    private const int PollsPerMemorySample = 4;

    [GeneratedRegex(@"^run (\S+) \(dry-run\) -> (.+)$")]
    private static partial Regex RunLine();

    /// <summary>Runs the whole soak; returns the report (also written to soak.json in the soak folder) and that folder.</summary>
    public async Task<(SoakReport Report, string SoakDir)> RunAsync(SoakOptions options, CancellationToken ct)
    {
        if (!double.IsFinite(options.Hours) || options.Hours <= 0) throw new ArgumentException($"--hours must be positive, got {options.Hours}");
        if (!double.IsFinite(options.KillAt) || options.KillAt is < 0 or >= 1) throw new ArgumentException($"--kill-at must be in [0, 1), got {options.KillAt}");
        var baseConfig = ConfigLoader.Load(options.ConfigPath);
        var seed = options.Seed ?? baseConfig.Experiment.Seed;
        var schedule = SoakSchedule.Build(options.Hours, seed);
        var config = schedule.Apply(baseConfig);
        if (options.Profile is { } profile) config.Simulation.Profile = profile;

        var wall = Stopwatch.StartNew();
        var soakDir = Path.GetFullPath(Path.Combine(options.OutDir,
            $"soak-{DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..6]}"));
        Directory.CreateDirectory(soakDir);
        var configPath = Path.Combine(soakDir, "soak.yaml");
        var yaml = SoakSchedule.ToYaml(config);
        ConfigLoader.Parse(yaml, configPath); // the derived config must be one the program accepts
        await File.WriteAllTextAsync(configPath, yaml, ct).ConfigureAwait(false);
        await File.WriteAllLinesAsync(Path.Combine(soakDir, "schedule.txt"), SoakSchedule.Describe(config), ct).ConfigureAwait(false);
        log.WriteLine($"soak: {options.Hours.ToString(CultureInfo.InvariantCulture)} h, {schedule.Faults.Count} faults, {schedule.BeamDumps.Count} beam dump(s), " +
                      $"{config.Budget.Frames} frames, kill at {options.KillAt.ToString(CultureInfo.InvariantCulture)} -> {soakDir}");

        var killAtS = options.KillAt > 0 ? options.KillAt * options.Hours * 3600 : (double?)null;
        var first = await RunChildAsync(["dry-run", configPath, "--out", soakDir, "--seed", seed.ToString(CultureInfo.InvariantCulture)],
            Path.Combine(soakDir, "dry-run.log"), runDir: null, killAtS, ct).ConfigureAwait(false);
        if (first.RunDir is null)
            throw new SoakException($"the dry run printed no run folder (exit {first.ExitCode}); see {Path.Combine(soakDir, "dry-run.log")}");

        ChildResult? resumed = null;
        if (first.KilledAtS is not null)
        {
            log.WriteLine($"soak: killed the controller at {first.KilledAtS:0} s of experiment; resuming {first.RunDir}");
            resumed = await RunChildAsync(["dry-run", "--resume", first.RunDir], Path.Combine(soakDir, "resume.log"), first.RunDir, killAtS: null, ct)
                .ConfigureAwait(false);
        }
        else if (killAtS is not null)
            log.WriteLine($"soak: the run ended (exit {first.ExitCode}) before the kill at {killAtS:0} s");

        var measured = new SoakMeasurements
        {
            Hours = options.Hours,
            FaultsScheduled = schedule.Faults.Count,
            BeamDumpsScheduled = schedule.BeamDumps.Count,
            KillPlanned = killAtS is not null,
            KilledAtVirtualS = first.KilledAtS,
            MaxResumeS = resumed?.ResumedAfterS,
            PeakRssMb = Math.Max(first.PeakRssMb, resumed?.PeakRssMb ?? 0),
            WallS = wall.Elapsed.TotalSeconds,
        };
        var report = SoakReport.FromRun(first.RunDir, measured);
        report.WriteTo(Path.Combine(soakDir, "soak.json"));
        return (report, soakDir);
    }

    private sealed record ChildResult(int? ExitCode, string? RunDir, double? KilledAtS, double? ResumedAfterS, double PeakRssMb);

    /// <param name="runDir">The run folder when already known (a resume), so its journal is watched from the start.</param>
    /// <param name="killAtS">Virtual seconds into the run at which to SIGKILL the child; null: let it finish.</param>
    private async Task<ChildResult> RunChildAsync(IReadOnlyList<string> arguments, string logPath, string? runDir, double? killAtS, CancellationToken ct)
    {
        var start = new ProcessStartInfo(program.FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var a in program.LeadingArguments.Concat(arguments)) start.ArgumentList.Add(a);

        await using var childLog = new StreamWriter(logPath, append: false, Encoding.UTF8) { AutoFlush = true };
        var logLock = new object();
        string? announcedRunDir = null;
        void OnLine(string? line, bool error)
        {
            if (line is null) return;
            lock (logLock) childLog.WriteLine(error ? "stderr: " + line : line);
            if (!error && RunLine().Match(line) is { Success: true } m) Volatile.Write(ref announcedRunDir, m.Groups[2].Value.Trim());
        }

        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => OnLine(e.Data, false);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data, true);
        var clock = Stopwatch.StartNew();
        if (!process.Start()) throw new SoakException($"could not start {program.FileName}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var memory = new RssSampler(process.Id);
        JournalTail? journal = runDir is null ? null : new JournalTail(Path.Combine(runDir, "journal.jsonl"), fromEnd: true);
        double? killedAt = null, resumedAfter = null;
        var polls = 0;
        try
        {
            while (!process.HasExited)
            {
                if (polls++ % PollsPerMemorySample == 0) memory.Sample();
                if (journal is null && Volatile.Read(ref announcedRunDir) is { } dir)
                    journal = new JournalTail(Path.Combine(dir, "journal.jsonl"), fromEnd: false);
                if (journal is not null)
                {
                    journal.ReadNew();
                    if (resumedAfter is null && journal.Seen("resumed")) resumedAfter = clock.Elapsed.TotalSeconds;
                    if (killAtS is { } at && journal.ElapsedS >= at)
                    {
                        // SIGKILL on Unix: no finally blocks, no flush, no safe state; the worst a night can do.
                        process.Kill(entireProcessTree: false);
                        killedAt = journal.ElapsedS;
                        break;
                    }
                }
                try { await process.WaitForExitAsync(ct).WaitAsync(PollInterval, ct).ConfigureAwait(false); }
                catch (TimeoutException) { }
            }
        }
        catch (OperationCanceledException)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            throw;
        }
        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        if (journal is not null && resumedAfter is null)
        {
            journal.ReadNew();
            // Seen only after the exit: the process ran for no longer than this.
            if (journal.Seen("resumed")) resumedAfter = clock.Elapsed.TotalSeconds;
        }
        return new ChildResult(killedAt is null ? process.ExitCode : null, runDir ?? announcedRunDir, killedAt, resumedAfter, memory.PeakMb);
    }
}

/// <summary>The soak could not be run (as opposed to a soak that ran and failed its checks).</summary>
public sealed class SoakException(string message) : Exception(message);

/// <summary>Peak resident memory of a process from /proc/PID/status: the kernel's high-water mark and the samples.</summary>
internal sealed class RssSampler(int pid)
{
    public double PeakMb { get; private set; }

    public void Sample()
    {
        string[] lines;
        try { lines = File.ReadAllLines($"/proc/{pid}/status"); }
        catch (IOException) { return; } // the process is gone, or this is not Linux
        catch (UnauthorizedAccessException) { return; }
        foreach (var line in lines)
            if ((line.StartsWith("VmHWM:", StringComparison.Ordinal) || line.StartsWith("VmRSS:", StringComparison.Ordinal)) && ParseKb(line) is { } kb)
                PeakMb = Math.Max(PeakMb, kb / 1024.0);
    }

    /// <summary>"VmRSS:\t  123456 kB" → 123456.</summary>
    internal static double? ParseKb(string line)
    {
        var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 2 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var kb) ? kb : null;
    }
}

/// <summary>
/// Follows a journal another process is appending to: only whole lines are read (a line being written is left for
/// the next look), the run's virtual time is the newest record's "t" minus the first's.
/// </summary>
internal sealed class JournalTail(string path, bool fromEnd)
{
    private long _offset = fromEnd && File.Exists(path) ? new FileInfo(path).Length : 0;
    private readonly HashSet<string> _types = new(StringComparer.Ordinal);
    private DateTimeOffset? _first, _last;

    public double ElapsedS => _first is { } f && _last is { } l ? (l - f).TotalSeconds : 0;

    public bool Seen(string type) => _types.Contains(type);

    public void ReadNew()
    {
        if (!File.Exists(path)) return;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length <= _offset) return;
        stream.Seek(_offset, SeekOrigin.Begin);
        var buffer = new byte[stream.Length - _offset];
        stream.ReadExactly(buffer);
        var end = Array.LastIndexOf(buffer, (byte)'\n');
        if (end < 0) return;
        _offset += end + 1;
        foreach (var line in Encoding.UTF8.GetString(buffer, 0, end).Split('\n'))
        {
            if (line.Length == 0) continue;
            JsonObject? record;
            try { record = JsonNode.Parse(line) as JsonObject; }
            catch (System.Text.Json.JsonException) { continue; }
            if (record is null) continue;
            if (SoakReport.Type(record) is { } type) _types.Add(type);
            if (SoakReport.Time(record) is { } t)
            {
                _first ??= t;
                if (_last is null || t > _last) _last = t;
            }
        }
    }
}

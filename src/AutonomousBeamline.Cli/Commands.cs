using AutonomousBeamline.Cli.Composition;
using AutonomousBeamline.Configuration;
using AutonomousBeamline.Control.Engine;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.Resume;
using AutonomousBeamline.Core.Time;
using AutonomousBeamline.Storage;

namespace AutonomousBeamline.Cli;

/// <summary>What each command of the program does, start to finish.</summary>
internal static class Commands
{
    /// <summary>NothingLearned: the run ended without one usable observation (exit status no_data).</summary>
    public const int Success = 0, RunFailed = 1, BadConfig = 2, NothingLearned = 3, Aborted = 130;

    public static int Validate(string configPath)
    {
        var config = LoadOrReport(configPath);
        if (config is null) return BadConfig;
        Console.WriteLine($"{configPath}: valid. Experiment '{config.Experiment.Name}', {config.Protocol.Steps.Count} protocol step(s) × {config.Protocol.Cycles} cycle(s), " +
                          $"budget {config.Budget.Frames} frames / {config.Budget.BeamTimeS} s of beam, strategy {config.Acquisition.Strategy}.");
        return Success;
    }

    /// <param name="attach">Called with the controller before it starts (tests use it to act as an operator).</param>
    /// <param name="pace">Virtual seconds per wall second (null: as fast as it goes), so that a person can watch and steer.</param>
    /// <param name="resumeDir">A run folder to continue after a crash: its config, journal and frames are used.</param>
    public static async Task<int> DryRunAsync(string configPath, string? outDir, int? seed, CancellationToken ct,
        Action<RunEngine>? attach = null, double? pace = null, string? resumeDir = null)
    {
        if (resumeDir is not null) configPath = Path.Combine(resumeDir, "config.yaml");
        var config = LoadOrReport(configPath);
        if (config is null) return BadConfig;
        if (seed is { } s) config.Experiment.Seed = s;
        if (pace is <= 0)
        {
            Console.Error.WriteLine($"--pace must be positive, got {pace}");
            return BadConfig;
        }
        var resume = resumeDir is null ? null : ReadResumeOrReport(resumeDir, config, RunMode.DryRun);
        if (resumeDir is not null && resume is null) return BadConfig;

        // A resumed dry run picks up a minute after its journal stopped, with the simulated cell where the
        // journal last saw it (the simulators died with the controller).
        var start = resume is null ? RunStartTime() : resume.LastRecordTime + ResumeDowntime;
        var clock = new VirtualTimeProvider(start) { Pace = pace };
        if (resume is not null) config.Cell.InitialStateOfCharge = resume.StateOfCharge;
        await using var facility = SimulationComposition.StartFacility(config, clock, resume is null ? TimeSpan.Zero : start - resume.FirstRecordTime);
        Console.WriteLine($"simulators: potentiostat on {facility.PotentiostatPath}, motion on {facility.MotionEndpoint}, " +
                          $"detector on {facility.DetectorControlEndpoint} (data {facility.DetectorDataEndpoint})");
        var endpoints = DeviceEndpoints.FromFacility(facility, config);
        var result = await ExperimentRunner.RunAsync(config, configPath, endpoints, clock, RunMode.DryRun, outDir, facility, ct, attach, resumeDir, resume).ConfigureAwait(false);
        return result;
    }

    public static async Task<int> RunLiveAsync(string configPath, string? outDir, CancellationToken ct, string? resumeDir = null)
    {
        if (resumeDir is not null) configPath = Path.Combine(resumeDir, "config.yaml");
        var config = LoadOrReport(configPath);
        if (config is null) return BadConfig;
        var resume = resumeDir is null ? null : ReadResumeOrReport(resumeDir, config, RunMode.Live);
        if (resumeDir is not null && resume is null) return BadConfig;
        return await ExperimentRunner.RunAsync(config, configPath, DeviceEndpoints.FromConfig(config), TimeProvider.System, RunMode.Live, outDir, null, ct,
            resumeDir: resumeDir, resume: resume).ConfigureAwait(false);
    }

    private static readonly TimeSpan ResumeDowntime = TimeSpan.FromMinutes(1);

    /// <summary>The state a crashed run left in its folder, every line passed over reported; null (and why) when it cannot be resumed.</summary>
    private static ResumeState? ReadResumeOrReport(string runDir, ExperimentConfig config, RunMode mode)
    {
        var journalPath = Path.Combine(runDir, RunFolder.JournalFileName);
        if (!File.Exists(journalPath))
        {
            Console.Error.WriteLine($"{runDir}: cannot resume: it has no {RunFolder.JournalFileName} (not a run folder)");
            return null;
        }
        try
        {
            var journal = JournalFile.Read(journalPath);
            var framesPath = Path.Combine(runDir, RunFolder.FramesFileName);
            var warnings = journal.Warnings.ToList();
            var state = JournalReplay.Rebuild(journal.Entries,
                decode => FrameFile.Scan(framesPath, warnings.Add, f => decode(f.Fate, f.ObservationSequence)), RunPlans.From(config, mode));
            foreach (var warning in warnings) Console.Error.WriteLine($"warning: {warning}");
            if (state.Ended)
            {
                Console.Error.WriteLine($"{runDir}: the journal says this run already ended (run_end); there is nothing to resume");
                return null;
            }
            return state;
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"{runDir}: cannot resume: {e.Message}");
            return null;
        }
    }

    /// <summary>The report and the standard files of a run folder, written again from its record and its own config.yaml.</summary>
    public static int Report(string runDir)
    {
        if (!File.Exists(Path.Combine(runDir, RunFolder.JournalFileName)))
        {
            Console.Error.WriteLine($"{runDir}: not a run folder: it has no {RunFolder.JournalFileName}");
            return BadConfig;
        }
        var config = LoadOrReport(Path.Combine(runDir, "config.yaml"));
        if (config is null) return BadConfig;
        // summary.json says how the run ran; a run that crashed before writing it is taken for what its config can tell.
        var summaryPath = Path.Combine(runDir, RunFolder.SummaryFileName);
        var mode = File.Exists(summaryPath) && RunFolderSummaryMode(summaryPath) == "live" ? RunMode.Live : RunMode.DryRun;
        using var log = Feedback.RunLog.Create(runDir);
        return RunFiles.Write(runDir, config, mode, log) ? Success : RunFailed;
    }

    private static string? RunFolderSummaryMode(string summaryPath)
    {
        try { return (string?)System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(summaryPath))?["mode"]; }
        catch (System.Text.Json.JsonException) { return null; }
    }

    public static async Task<int> SimulateAsync(string configPath, CancellationToken ct)
    {
        var config = LoadOrReport(configPath);
        if (config is null) return BadConfig;
        // A controller in another process runs on its own wall clock, so the simulators do too.
        await using var facility = SimulationComposition.StartFacility(config, TimeProvider.System);
        Console.WriteLine("Serving the facility contract (Ctrl-C to stop):");
        Console.WriteLine($"  potentiostat (SCPI, serial)  {facility.PotentiostatPath}   (9600 8N1)");
        Console.WriteLine($"  potentiostat (SCPI, TCP)     {facility.PotentiostatTcpEndpoint}");
        Console.WriteLine($"  motion server (ZeroMQ)       {facility.MotionEndpoint}");
        Console.WriteLine($"  detector control (ZeroMQ)    {facility.DetectorControlEndpoint}");
        Console.WriteLine($"  detector data (ZeroMQ PUSH)  {facility.DetectorDataEndpoint}");
        try { await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        Console.WriteLine("simulators stopped");
        return Success;
    }

    private static ExperimentConfig? LoadOrReport(string path)
    {
        try { return ConfigLoader.Load(path, Simulators.Faults.FaultKinds.ByDevice); }
        catch (ConfigException e)
        {
            Console.Error.WriteLine(e.Message);
            return null;
        }
    }

    /// <summary>Dry runs start "now", rounded to the second, so journal times read naturally.</summary>
    private static DateTimeOffset RunStartTime()
    {
        var now = DateTimeOffset.UtcNow;
        return new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
    }
}

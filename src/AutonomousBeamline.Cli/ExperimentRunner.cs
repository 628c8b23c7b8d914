using System.Diagnostics;
using AutonomousBeamline.Cli.Composition;
using AutonomousBeamline.Cli.Feedback;
using AutonomousBeamline.Configuration;
using AutonomousBeamline.Control.Engine;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.Resume;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Learning.Surrogate;
using AutonomousBeamline.Operator;
using AutonomousBeamline.Storage;

namespace AutonomousBeamline.Cli;

/// <summary>One run, live or dry: the run folder, the devices, the learner, the engine, the summary.</summary>
internal static class ExperimentRunner
{
    /// <summary>
    /// The config as the run used it: a <c>--seed</c> given on the command line replaces experiment.seed (the first
    /// <c>seed:</c> key, the experiment section's), so that a resume, a report or a replay from the folder uses the same seed.
    /// </summary>
    internal static string WithSeed(string yaml, int seed) =>
        System.Text.RegularExpressions.Regex.Replace(yaml, @"^(\s+seed:\s*)-?\d+", m => m.Groups[1].Value + seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            System.Text.RegularExpressions.RegexOptions.Multiline, TimeSpan.FromSeconds(1));

    public static async Task<int> RunAsync(ExperimentConfig config, string configPath, DeviceEndpoints endpoints, TimeProvider time,
        RunMode mode, string? outDir, SimulationComposition.Facility? facility, CancellationToken ct,
        Action<RunEngine>? attach = null, string? resumeDir = null, ResumeState? resume = null)
    {
        var wall = Stopwatch.StartNew();
        var plan = RunPlans.From(config, mode);
        string runId, runDir;
        if (resumeDir is not null)
        {
            runDir = resumeDir;
            runId = Path.GetFileName(Path.TrimEndingDirectorySeparator(resumeDir));
        }
        else
        {
            runId = $"{time.GetUtcNow():yyyyMMdd-HHmmss}-{config.Experiment.Name}-{Guid.NewGuid().ToString("N")[..6]}";
            var runsDir = outDir ?? config.Output.Directory;
            runDir = Path.Combine(runsDir, runId);
            // The config's rules keep the name a plain file name; this keeps the folder inside --out whatever a caller passed.
            if (Path.GetDirectoryName(Path.GetFullPath(runDir)) != Path.TrimEndingDirectorySeparator(Path.GetFullPath(runsDir)))
                throw new ArgumentException($"experiment.name '{config.Experiment.Name}' would put the run folder outside {runsDir}");
        }

        RunFolder folder;
        Serilog.Core.Logger? log = null;
        try
        {
            if (resumeDir is null)
            {
                Directory.CreateDirectory(runDir);
                File.WriteAllText(Path.Combine(runDir, "config.yaml"), WithSeed(File.ReadAllText(configPath), config.Experiment.Seed));
            }
            log = RunLog.Create(runDir);
            log.Line($"run {runId} ({mode.Name()}{(resumeDir is null ? "" : ", resumed")}) -> {runDir}");
            // A resumed run's master file and documents cover what the crashed run left, before anything is added.
            if (resumeDir is not null) RunFiles.Write(runDir, config, mode, log);
            folder = RunFolder.Open(runDir, time, config.Output.Hdf5BlockFrames);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Before any device is touched: a run that cannot write its folder would keep nothing it measured.
            log?.Dispose();
            Console.Error.WriteLine($"cannot write the run folder {runDir}: {e.Message}; nothing was touched");
            return Commands.BadConfig;
        }
        using var logLifetime = log;
        foreach (var warning in folder.Warnings) log.Problem($"warning: {warning}");
        var journal = folder.Journal;
        RunOutcome outcome;
        long framesRejectedByClient;
        try
        {
            var target = ScienceComposition.Target(config);
            using var trainer = new PhaseMapTrainer(ScienceComposition.MapOptions(config));
            if (resume is not null)
            {
                trainer.ContinueVersionsAfter(resume.LastModelVersion);
                trainer.AddRange(resume.Observations.Where(target.Measures));
            }
            if (facility is not null)
                facility.Faults.Injected += f => journal.TryWrite(new FaultInjected(f.Device, f.Kind, f.Count, f.At.TotalSeconds));
            await using var devices = await DeviceConnector.ConnectAsync(endpoints, config, time, ct).ConfigureAwait(false);
            // A frame the detector client refuses never reaches the loop; the journal still says why.
            devices.Detector.FrameRejected += (_, e) => journal.TryWrite(new FrameRejected(e.Reason, e.RequestId, e.FrameNumber));
            devices.ReportRetriesTo((device, what, attempt, message) => journal.TryWrite(new DeviceRetried(device, what, attempt, message)));
            var (xrd, xas) = (ScienceComposition.XrdAnalyzer(config), ScienceComposition.XasAnalyzer(config));
            var learning = new RunLearning(
                xrd,
                motion => LearningComposition.Planner(config, trainer, motion),
                // The map learns the target from the frames that measure it; the other modality's observations stay separate.
                o => target.Measures(o) ? trainer.Add(o) : null,
                mode == RunMode.DryRun ? trainer.WhenIdleAsync : null,
                () => trainer.Current)
            {
                XasAnalyzer = xas,
                Target = target,
                Calibration = () => trainer.Calibration,
                // A reference-free target does not stand on the references, so their preflight check would only stop a run it can do.
                ReferenceCheck = target.Kind == TargetKind.ComponentScore ? null : ScienceComposition.ReferenceCheck(xrd, xas),
                Decomposition = ScienceComposition.Decomposition(xrd),
                EnergyPlanner = LearningComposition.EnergyPlanner(config),
                CRatePlanner = LearningComposition.CRatePlanner(config),
            };
            var engine = new RunEngine(plan, devices.Devices with { Disk = new RunFolderDisk(runDir) }, learning, journal, folder.Frames, time, runId, resume);
            var progress = new RunProgressLine(plan, time, terminal: !Console.IsOutputRedirected);
            journal.Recorded += progress.Observe;
            engine.Progress += p => log.Line(progress.Format(p));
            // From here the run may energise the cell: whatever ends it from outside the loop makes the cell safe first.
            using var safetyNet = new ProcessSafetyNet(engine.EmergencyHalt,
                (source, message) => journal.TryWrite(new FaultRecorded(source, message, engine.State)), journal.FlushAsync).Arm();
            attach?.Invoke(engine);
            OperatorEndpoint? operatorEndpoint;
            try { operatorEndpoint = OperatorComposition.Start(config.Operator, engine, runId, anyPortIfTaken: mode == RunMode.DryRun, log); }
            catch (InvalidOperationException e)
            {
                // Nothing has touched the cell yet.
                log.Problem(e.Message);
                return Commands.BadConfig;
            }
            using var endpointLifetime = operatorEndpoint;
            if (operatorEndpoint is not null)
            {
                log.Line($"operator endpoint {operatorEndpoint.Endpoint} (status {operatorEndpoint.StatusEndpoint}): beamline console {operatorEndpoint.Endpoint}");
                // Where to attach, for people and tools that find runs by folder.
                File.WriteAllText(Path.Combine(runDir, OperatorConsole.RunLocator.OperatorFileName), System.Text.Json.JsonSerializer.Serialize(
                    new { endpoint = operatorEndpoint.Endpoint, status = operatorEndpoint.StatusEndpoint, run_id = runId }));
            }
            outcome = await engine.RunAsync(ct).ConfigureAwait(false);
            framesRejectedByClient = devices.Detector.RejectedFrames;
        }
        finally
        {
            // Everything accepted reaches the disk, then the last HDF5 block is written.
            await folder.DisposeAsync().ConfigureAwait(false);
        }

        var summary = RunSummary.From(outcome, runId, plan, wall.Elapsed.TotalSeconds);
        summary = summary with { FramesRejected = summary.FramesRejected + (int)framesRejectedByClient };
        if (facility is not null)
        {
            summary = summary with
            {
                MapError = outcome.Observations.Count > 0 ? DryRunEvaluation.MapError(outcome.Observations, facility, config) : null,
                SafetyViolations = facility.Cell.SafetyViolations,
                FaultsInjected = facility.Faults.InjectedCount,
            };
        }
        SummaryFile.Write(Path.Combine(runDir, RunFolder.SummaryFileName), summary);
        if (facility is not null && outcome.Observations.Count > 0)
            Reporting.RunReport.WriteMapError(runDir, DryRunEvaluation.MapErrorAgainstFrames(outcome.Observations, facility, config));
        RunFiles.Write(runDir, config, mode, log);

        log.Line($"{System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(summary.ExitStatus.ToString())}: {summary.Reason}");
        log.Line($"{summary.Observations} observations from {summary.Frames} frames, {summary.Decisions.GetValueOrDefault(DecisionKind.Roi)} ROI decisions, " +
                          $"{summary.ProtocolSteps} protocol steps, {summary.Faults} faults, {summary.VirtualDurationS:0} s of experiment in {summary.WallS:0.0} s");
        if (summary.MapError is { } m)
        {
            // In the target's unit, with digits for its scale: an Å-scale error is not rounded to 0.
            var quantity = ScienceComposition.Target(config).QuantityOf(outcome.Observations);
            log.Line($"map error (RMSE of the {quantity.Name}, same {m.Frames} frames): learner {quantity.Format(m.LearnerRmse)}, raster {quantity.Format(m.RasterRmse)}, " +
                     $"coarse raster {(m.CoarseRasterRmse is { } c ? quantity.Format(c) : "n/a")}");
        }
        if (summary.SafetyViolations is { } v) log.Line($"safety violations: {v}");
        if (summary.FaultsInjected is > 0) log.Line($"faults injected: {summary.FaultsInjected}; suspensions: {summary.Suspensions}; frames rejected: {summary.FramesRejected}; observations without beam: {summary.ObservationsWithoutBeam}");
        log.Line($"summary: {Path.Combine(runDir, RunFolder.SummaryFileName)}");
        return summary.ExitStatus switch
        {
            ExitStatus.Success => Commands.Success, ExitStatus.Abort => Commands.Aborted, ExitStatus.NoData => Commands.NothingLearned, _ => Commands.RunFailed,
        };
    }
}

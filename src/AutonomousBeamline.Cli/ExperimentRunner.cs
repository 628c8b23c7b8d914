using System.Diagnostics;
using AutonomousBeamline.Cli.Composition;
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
            Console.WriteLine($"run {runId} ({mode.Name()}, resumed) -> {runDir}");
        }
        else
        {
            runId = $"{time.GetUtcNow():yyyyMMdd-HHmmss}-{config.Experiment.Name}-{Guid.NewGuid().ToString("N")[..6]}";
            runDir = Path.Combine(outDir ?? config.Output.Directory, runId);
            Directory.CreateDirectory(runDir);
            File.Copy(configPath, Path.Combine(runDir, "config.yaml"));
            Console.WriteLine($"run {runId} ({mode.Name()}) -> {runDir}");
        }

        var folder = RunFolder.Open(runDir, time, config.Output.Hdf5BlockFrames);
        foreach (var warning in folder.Warnings) Console.Error.WriteLine($"warning: {warning}");
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
                o => { if (target.Measures(o)) trainer.Add(o); },
                mode == RunMode.DryRun ? trainer.WhenIdleAsync : null,
                () => trainer.Current)
            {
                XasAnalyzer = xas,
                Target = target,
                ReferenceCheck = ScienceComposition.ReferenceCheck(xrd, xas),
                EnergyPlanner = LearningComposition.EnergyPlanner(config),
                CRatePlanner = LearningComposition.CRatePlanner(config),
            };
            var engine = new RunEngine(plan, devices.Devices, learning, journal, folder.Frames, time, runId, resume);
            engine.Progress += p => Console.WriteLine($"[{time.GetUtcNow():HH:mm:ss}] {p.Message}");
            attach?.Invoke(engine);
            OperatorEndpoint? operatorEndpoint;
            try { operatorEndpoint = OperatorComposition.Start(config.Operator, engine, anyPortIfTaken: mode == RunMode.DryRun); }
            catch (InvalidOperationException e)
            {
                // Nothing has touched the cell yet.
                Console.Error.WriteLine(e.Message);
                return Commands.BadConfig;
            }
            using var endpointLifetime = operatorEndpoint;
            if (operatorEndpoint is not null)
            {
                Console.WriteLine($"operator endpoint {operatorEndpoint.Endpoint} (status {operatorEndpoint.StatusEndpoint}): beamline console {operatorEndpoint.Endpoint}");
                // Where to attach, for people and tools that find runs by folder.
                File.WriteAllText(Path.Combine(runDir, "operator.json"), System.Text.Json.JsonSerializer.Serialize(
                    new { endpoint = operatorEndpoint.Endpoint, status = operatorEndpoint.StatusEndpoint }));
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

        Console.WriteLine($"{summary.ExitStatus.ToString().ToLowerInvariant()}: {summary.Reason}");
        Console.WriteLine($"{summary.Observations} observations from {summary.Frames} frames, {summary.Decisions.GetValueOrDefault(DecisionKind.Roi)} ROI decisions, " +
                          $"{summary.ProtocolSteps} protocol steps, {summary.Faults} faults, {summary.VirtualDurationS:0} s of experiment in {summary.WallS:0.0} s");
        if (summary.MapError is { } m)
            Console.WriteLine($"map error (RMSE of the {ScienceComposition.Target(config)}, same {m.Frames} frames): learner {m.LearnerRmse:0.0000}, raster {m.RasterRmse:0.0000}, coarse raster {m.CoarseRasterRmse:0.0000}");
        if (summary.SafetyViolations is { } v) Console.WriteLine($"safety violations: {v}");
        if (summary.FaultsInjected is > 0) Console.WriteLine($"faults injected: {summary.FaultsInjected}; suspensions: {summary.Suspensions}; frames rejected: {summary.FramesRejected}; observations without beam: {summary.ObservationsWithoutBeam}");
        Console.WriteLine($"summary: {Path.Combine(runDir, RunFolder.SummaryFileName)}");
        return summary.ExitStatus switch { ExitStatus.Success => Commands.Success, ExitStatus.Abort => Commands.Aborted, _ => Commands.RunFailed };
    }
}

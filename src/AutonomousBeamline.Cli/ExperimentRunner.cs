using System.Diagnostics;
using AutonomousBeamline.Configuration;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Operator;
using AutonomousBeamline.Control.Resume;
using AutonomousBeamline.Control.Running;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Cli;

/// <summary>One run, live or dry: the run folder, the devices, the learner, the controller, the summary.</summary>
internal static class ExperimentRunner
{
    public static async Task<int> RunAsync(ExperimentConfig config, string configPath, DeviceEndpoints endpoints, TimeProvider time,
        string mode, string? outDir, SimulationComposition.Facility? facility, CancellationToken ct,
        Action<ExperimentController>? attach = null, string? resumeDir = null, ResumeState? resume = null)
    {
        var wall = Stopwatch.StartNew();
        string runId, runDir;
        if (resumeDir is not null)
        {
            runDir = resumeDir;
            runId = Path.GetFileName(Path.TrimEndingDirectorySeparator(resumeDir));
            Console.WriteLine($"run {runId} ({mode}, resumed) -> {runDir}");
        }
        else
        {
            runId = $"{time.GetUtcNow():yyyyMMdd-HHmmss}-{config.Experiment.Name}-{Guid.NewGuid().ToString("N")[..6]}";
            runDir = Path.Combine(outDir ?? config.Output.Directory, runId);
            Directory.CreateDirectory(runDir);
            File.Copy(configPath, Path.Combine(runDir, "config.yaml"));
            Console.WriteLine($"run {runId} ({mode}) -> {runDir}");
        }

        using var journal = new RunJournal(Path.Combine(runDir, "journal.jsonl"), time);
        using var frames = new FrameStore(Path.Combine(runDir, "frames.jsonl"));
        var hdf5 = new Hdf5BlockExporter(frames.Path, Path.Combine(runDir, "hdf5"), config.Output.Hdf5BlockFrames);
        // A complete block goes to HDF5 as soon as it is stored; the journal's observation record is the cue.
        journal.Recorded += r =>
        {
            if ((string?)r["type"] is "observation" or "frame_not_counted" && hdf5.BlockDue(frames.Count)) hdf5.Export(final: false);
        };
        using var trainer = new PhaseMapTrainer(new ForestPhaseMapOptions { Seed = config.Experiment.Seed });
        if (resume is not null) trainer.AddRange(resume.Observations);

        RunOutcome outcome;
        long framesRejectedByClient;
        if (facility is not null)
            facility.Faults.Injected += f => journal.TryWrite("fault_injected", new { device = f.Device, kind = f.Kind, count = f.Count, at_s = f.At.TotalSeconds });
        await using (var devices = await DeviceConnector.ConnectAsync(endpoints, config, time, ct).ConfigureAwait(false))
        {
            // A frame the detector client refuses never reaches the loop; the journal still says why.
            devices.Detector.FrameRejected += (_, e) => journal.TryWrite("frame_rejected", new { reason = e.Reason, request_id = e.RequestId, frame = e.FrameNumber });
            devices.ReportRetriesTo((device, what, attempt, message) => journal.TryWrite("device_retry", new { device, what, attempt, message }));
            var learning = new ControllerLearning(
                new XrdPhaseAnalyzer(),
                motion => LearningComposition.Planner(config, trainer, motion),
                trainer.Add,
                mode == "dry-run" ? trainer.WhenIdleAsync : null,
                () => trainer.Current)
            {
                XasAnalyzer = new XasEdgeAnalyzer(),
                EnergyPlanner = LearningComposition.EnergyPlanner(config),
                CRatePlanner = LearningComposition.CRatePlanner(config),
            };
            var controller = new ExperimentController(config, devices.Devices, learning, journal, frames, time, runId, resume);
            controller.Progress += p => Console.WriteLine($"[{time.GetUtcNow():HH:mm:ss}] {p.Message}");
            attach?.Invoke(controller);
            OperatorEndpoint? operatorEndpoint;
            try { operatorEndpoint = OperatorComposition.Start(config.Operator, controller, anyPortIfTaken: mode == "dry-run"); }
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
            outcome = await controller.RunAsync(ct).ConfigureAwait(false);
            framesRejectedByClient = devices.Detector.RejectedFrames;
        }

        hdf5.Export(final: true);
        var summary = RunSummary.From(outcome, runId, mode, config.Experiment.Name, config.Acquisition.Strategy, config.Acquisition.BeamThresholdMa, wall.Elapsed.TotalSeconds);
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
        summary.WriteTo(Path.Combine(runDir, "summary.json"));

        Console.WriteLine($"{summary.ExitStatus}: {summary.Reason}");
        Console.WriteLine($"{summary.Observations} observations from {summary.Frames} frames, {summary.Decisions.GetValueOrDefault(Core.Domain.DecisionKind.Roi)} ROI decisions, " +
                          $"{summary.ProtocolSteps} protocol steps, {summary.Faults} faults, {summary.VirtualDurationS:0} s of experiment in {summary.WallS:0.0} s");
        if (summary.MapError is { } m)
            Console.WriteLine($"map error (RMSE of FePO4 fraction, same {m.Frames} frames): learner {m.LearnerRmse:0.0000}, raster {m.RasterRmse:0.0000}, coarse raster {m.CoarseRasterRmse:0.0000}");
        if (summary.SafetyViolations is { } v) Console.WriteLine($"safety violations: {v}");
        if (summary.FaultsInjected is > 0) Console.WriteLine($"faults injected: {summary.FaultsInjected}; suspensions: {summary.Suspensions}; frames rejected: {summary.FramesRejected}; observations without beam: {summary.ObservationsWithoutBeam}");
        Console.WriteLine($"summary: {Path.Combine(runDir, "summary.json")}");
        return summary.ExitStatus switch { "success" => Commands.Success, "abort" => Commands.Aborted, _ => Commands.RunFailed };
    }
}

using AutonomousBeamline.Cli.Composition;
using AutonomousBeamline.Cli.Feedback;
using AutonomousBeamline.Configuration;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Reporting;
using AutonomousBeamline.Storage;

namespace AutonomousBeamline.Cli;

/// <summary>The files a run folder gets from its record: the standard exports (NeXus, event documents, BDF, BattINFO metadata) and the report.</summary>
internal static class RunFiles
{
    /// <summary>Writes them all from the run folder's record; a file that fails is reported, never the end of the program.</summary>
    /// <returns>Whether every file was written.</returns>
    public static bool Write(string runDir, ExperimentConfig config, RunMode mode, Serilog.ILogger log)
    {
        RecordedRun run;
        try { run = RecordedRun.Read(runDir); }
        catch (IOException e)
        {
            log.Problem($"{runDir}: no exports: {e.Message}");
            return false;
        }
        var result = RunExports.Write(run, RunDescriptions.From(config, mode));
        foreach (var warning in result.Warnings) log.Problem($"warning: {warning}");
        foreach (var failure in result.Failures) log.Problem($"{failure.File} not written: {failure.Reason}");
        foreach (var file in result.Written) log.Line($"wrote {file}");
        try
        {
            var page = RunReport.Write(run, ReportSettingsFrom(config, runDir));
            log.Line($"report: {page}");
        }
        // A report that cannot be drawn (a full disk, a plotting failure) leaves the data as it is.
        catch (Exception e)
        {
            log.Problem($"report not written: {e.Message}");
            return false;
        }
        return result.Failures.Count == 0;
    }

    private static ReportSettings ReportSettingsFrom(ExperimentConfig config, string runDir)
    {
        var roi = config.Search.Roi;
        return new ReportSettings(new MapRegion(roi.XMinMm, roi.XMaxMm, roi.YMinMm, roi.YMaxMm, roi.StepMm), config.Experiment.Seed,
            $"{config.Experiment.Name}: {Path.GetFileName(Path.TrimEndingDirectorySeparator(runDir))}")
        {
            MapError = RunReport.ReadMapError(runDir),
            Target = ScienceComposition.Target(config),
        };
    }
}

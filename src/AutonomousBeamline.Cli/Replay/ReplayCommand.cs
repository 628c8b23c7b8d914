using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using AutonomousBeamline.Configuration;
using AutonomousBeamline.Reporting;
using AutonomousBeamline.Storage;

namespace AutonomousBeamline.Cli.Replay;

/// <summary>
/// <c>beamline replay RUN_DIR [--strategy learner|raster|random] [--seed N] [--out DIR]</c>: the decision engine run
/// again on a recorded run's observations, written to <c>RUN_DIR/replay-&lt;strategy&gt;/</c> as <c>decisions.jsonl</c>
/// (each recorded ROI decision beside the replayed one) and the run's report with the replayed decisions.
/// </summary>
internal static class ReplayCommand
{
    public const string DecisionsFileName = "decisions.jsonl";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static Command Create()
    {
        var runDir = new Argument<string>("RUN_DIR") { Description = "a run folder (journal.jsonl, config.yaml)" };
        var strategy = new Option<string?>("--strategy") { Description = "learner, raster or random (default: the run's own)" };
        var seed = new Option<int?>("--seed") { Description = "the planner's and the map's seed (default: the run's experiment.seed)" };
        var output = new Option<string?>("--out") { Description = "where to write the replay (default: RUN_DIR/replay-<strategy>)" };
        var command = new Command("replay", "Run the decision engine again on a recorded run's observations, with another strategy or setting, and report it.")
        {
            runDir, strategy, seed, output,
        };
        command.SetAction(parse => Run(parse.GetValue(runDir)!, parse.GetValue(strategy), parse.GetValue(seed), parse.GetValue(output)));
        return command;
    }

    public static int Run(string runDir, string? strategy, int? seed, string? outDir)
    {
        var configPath = Path.Combine(runDir, "config.yaml");
        if (!File.Exists(Path.Combine(runDir, RunFolder.JournalFileName)) || !File.Exists(configPath))
        {
            Console.Error.WriteLine($"{runDir}: not a run folder: it needs {RunFolder.JournalFileName} and config.yaml");
            return Commands.BadConfig;
        }
        if (strategy is not null && strategy is not ("learner" or "raster" or "random"))
        {
            Console.Error.WriteLine($"--strategy must be learner, raster or random, got '{strategy}'");
            return Commands.BadConfig;
        }
        ExperimentConfig config;
        try { config = ConfigLoader.Load(configPath, Simulators.Faults.FaultKinds.ByDevice); }
        catch (ConfigException e)
        {
            Console.Error.WriteLine(e.Message);
            return Commands.BadConfig;
        }
        if (strategy is not null) config.Acquisition.Strategy = strategy;
        if (seed is { } s) config.Experiment.Seed = s;

        var run = RecordedRun.Read(runDir);
        var replayed = DecisionReplay.Run(run, config);
        var directory = outDir ?? Path.Combine(runDir, $"replay-{config.Acquisition.Strategy}");
        Directory.CreateDirectory(directory);
        File.WriteAllLines(Path.Combine(directory, DecisionsFileName), replayed.Select(r => JsonSerializer.Serialize(new
        {
            time = r.Time,
            observations_before = r.ObservationsBefore,
            distance_mm = r.DistanceMm,
            recorded = r.Recorded,
            replayed = r.Replayed,
        }, Json)));

        var same = replayed.Count(r => r.DistanceMm < 1e-9);
        var meanDistance = replayed.Count == 0 ? 0 : replayed.Average(r => r.DistanceMm);
        var title = FormattableString.Invariant(
            $"Replay of {run.RunId} with strategy {config.Acquisition.Strategy}: the same spot as recorded in {same} of {replayed.Count} decisions, {meanDistance:0.00} mm apart on average");
        var roi = config.Search.Roi;
        var replayedRun = run with
        {
            Decisions = run.Decisions.Where(d => d.Decision.Kind != Core.Domain.DecisionKind.Roi)
                .Concat(replayed.Select(r => new TimedDecision(r.Time, r.Replayed)))
                .OrderBy(d => d.Time).ToList(),
        };
        var settings = new ReportSettings(new MapRegion(roi.XMinMm, roi.XMaxMm, roi.YMinMm, roi.YMaxMm, roi.StepMm), config.Experiment.Seed, title)
        {
            Target = Composition.ScienceComposition.Target(config),
        };
        var page = RunReport.Write(replayedRun, settings, directory);
        Console.WriteLine(title);
        Console.WriteLine($"decisions: {Path.Combine(directory, DecisionsFileName)}");
        Console.WriteLine($"report: {page}");
        return Commands.Success;
    }
}

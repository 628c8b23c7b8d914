using System.CommandLine;
using AutonomousBeamline.Cli;

// The program: the only place that wires concrete devices, simulators and the learner together.
var configArgument = new Argument<string>("CONFIG") { Description = "the experiment file (YAML)" };
var optionalConfigArgument = new Argument<string>("CONFIG")
{
    Description = "the experiment file (YAML)",
    Arity = ArgumentArity.ZeroOrOne,
    DefaultValueFactory = _ => Paths.DefaultDryRunConfig,
};
var outOption = new Option<string?>("--out") { Description = "where run folders go (default: the config's output.directory, runs/)" };
var seedOption = new Option<int?>("--seed") { Description = "seed for the learner and the simulators' noise (default: experiment.seed)" };

var paceOption = new Option<double?>("--pace") { Description = "at most this many seconds of experiment per second of wall time (default: flat out); e.g. 60 to watch with a console" };
var resumeOption = new Option<string?>("--resume") { Description = "continue the run in this folder after a crash (its config.yaml, journal and frames are used)" };
var dryRun = new Command("dry-run", "Start the simulators in-process and run the controller against them on a virtual clock.")
{
    optionalConfigArgument, outOption, seedOption, paceOption, resumeOption,
};
dryRun.SetAction((parse, ct) => Commands.DryRunAsync(parse.GetValue(optionalConfigArgument)!, parse.GetValue(outOption), parse.GetValue(seedOption), ct,
    pace: parse.GetValue(paceOption), resumeDir: parse.GetValue(resumeOption)));

var runConfig = new Argument<string>("CONFIG")
{
    Description = "the experiment file (YAML); with --resume the run folder's own config.yaml is used",
    Arity = ArgumentArity.ZeroOrOne,
    DefaultValueFactory = _ => "",
};
var runOut = new Option<string?>("--out") { Description = "where run folders go (default: the config's output.directory)" };
var runResume = new Option<string?>("--resume") { Description = "continue the run in this folder after a crash" };
var run = new Command("run", "Run the experiment against the equipment named in the config.") { runConfig, runOut, runResume };
run.Validators.Add(r =>
{
    if (string.IsNullOrEmpty(r.GetValue(runConfig)) && r.GetValue(runResume) is null) r.AddError("run needs a CONFIG (or --resume RUN_DIR)");
});
run.SetAction((parse, ct) => Commands.RunLiveAsync(parse.GetValue(runConfig)!, parse.GetValue(runOut), ct, parse.GetValue(runResume)));

var simulateConfig = new Argument<string>("CONFIG")
{
    Description = "the experiment file (YAML)",
    Arity = ArgumentArity.ZeroOrOne,
    DefaultValueFactory = _ => Paths.DefaultDryRunConfig,
};
var simulate = new Command("simulate", "Serve the facility contract from the simulators until Ctrl-C, printing their endpoints.") { simulateConfig };
simulate.SetAction((parse, ct) => Commands.SimulateAsync(parse.GetValue(simulateConfig)!, ct));

var validate = new Command("validate", "Check an experiment file and list every problem with its line.") { configArgument };
validate.SetAction(parse => Commands.Validate(parse.GetValue(configArgument)!));

var reportDir = new Argument<string>("RUN_DIR") { Description = "a run folder (with journal.jsonl, frames.jsonl and config.yaml)" };
var report = new Command("report", "Write a run folder's report (report/index.html with its plots) and standard files (run.nxs, documents.jsonl, cycler.bdf.csv, metadata.jsonld) again from its record.") { reportDir };
report.SetAction(parse => Commands.Report(parse.GetValue(reportDir)!));

var root = new RootCommand("beamline: autonomous operando battery experiments at a beamline")
{
    dryRun, run, simulate, validate, report,
};
root.Subcommands.Add(ConsoleCommand.Create());
root.Subcommands.Add(AutonomousBeamline.Cli.Replay.ReplayCommand.Create());
root.Subcommands.Add(AutonomousBeamline.Cli.Soak.SoakCommand.Create());
// Ctrl-C and SIGTERM cancel the command; a run's safety net has made the cell safe by then, and the run's ending (the
// cycler stopped, the journal's last records, the HDF5 block) gets this long before the process is ended regardless.
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // A usage error is the caller's to fix, like an invalid config: both exit 2, before anything is touched.
    foreach (var error in parsed.Errors) Console.Error.WriteLine(error.Message);
    Console.Error.WriteLine("(beamline --help lists the commands and their options)");
    return Commands.BadConfig;
}
return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) });

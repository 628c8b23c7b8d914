using System.CommandLine;
using System.Globalization;
using AutonomousBeamline.Configuration;

namespace AutonomousBeamline.Cli.Soak;

/// <summary>
/// `beamline soak [CONFIG] [--hours 12] [--out DIR] [--seed N] [--kill-at 0.5]`: a night of faults, beam dumps and a
/// kill -9 of the controller, run as a dry run on the virtual clock, judged in soak.json.
/// </summary>
public static class SoakCommand
{
    public const string DefaultConfig = "configs/soak.yaml";

    public static Command Create()
    {
        var config = new Argument<string>("CONFIG")
        {
            Description = $"the base experiment file (default {DefaultConfig})",
            Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = _ => FindUpwards(DefaultConfig),
        };
        var hours = new Option<double>("--hours") { Description = "hours of experiment (virtual time)", DefaultValueFactory = _ => 12 };
        hours.Validators.Add(r =>
        {
            var value = r.GetValueOrDefault<double>();
            if (!double.IsFinite(value) || value <= 0) r.AddError($"--hours must be a positive number, got {value.ToString(CultureInfo.InvariantCulture)}");
        });
        var outDir = new Option<string>("--out") { Description = "where the soak folder goes", DefaultValueFactory = _ => "runs" };
        var seed = new Option<int?>("--seed") { Description = "seed of the fault schedule and the run (default: experiment.seed)" };
        var killAt = new Option<double>("--kill-at")
        {
            Description = "fraction of the hours at which the controller is killed with SIGKILL and resumed; 0: no kill",
            DefaultValueFactory = _ => 0.5,
        };
        killAt.Validators.Add(r =>
        {
            var value = r.GetValueOrDefault<double>();
            if (!double.IsFinite(value) || value is < 0 or >= 1) r.AddError($"--kill-at must be in [0, 1), got {value.ToString(CultureInfo.InvariantCulture)}");
        });

        var profile = new Option<string?>("--profile") { Description = "the simulators' wire manner: native (ours) or foreign (as differently as the ICD allows); default: the config's" };
        profile.AcceptOnlyFromAmong("native", "foreign");

        var command = new Command("soak", "Rehearse an unattended night in minutes: faults in every device, beam dumps, a kill -9 and a resume; writes soak.json.")
        {
            config, hours, outDir, seed, killAt, profile,
        };
        command.SetAction((parse, ct) => RunAsync(
            new SoakOptions(parse.GetValue(config)!, parse.GetValue(hours), parse.GetValue(outDir)!, parse.GetValue(seed), parse.GetValue(killAt), parse.GetValue(profile)),
            Console.Out, ct));
        return command;
    }

    /// <summary>Runs a soak and prints its table. 0: the night was survived; 1: a check failed; 2: the soak could not run.</summary>
    public static async Task<int> RunAsync(SoakOptions options, TextWriter output, CancellationToken ct, BeamlineProgram? program = null)
    {
        SoakReport report;
        string soakDir;
        try
        {
            (report, soakDir) = await new SoakRunner(program ?? BeamlineProgram.Current(), output).RunAsync(options, ct).ConfigureAwait(false);
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine(e.Message);
            return Commands.BadConfig;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"soak: {e.Message}");
            return Commands.BadConfig;
        }
        catch (SoakException e)
        {
            Console.Error.WriteLine($"soak: {e.Message}");
            return Commands.RunFailed;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("soak: aborted");
            return Commands.Aborted;
        }
        Print(report, output);
        output.WriteLine($"soak.json: {Path.Combine(soakDir, "soak.json")}");
        return report.Passed ? Commands.Success : Commands.RunFailed;
    }

    internal static void Print(SoakReport r, TextWriter output)
    {
        string F(double? v, string format) => v is { } x ? x.ToString(format, CultureInfo.InvariantCulture) : "-";
        var rows = new (string Name, string Value)[]
        {
            ("run", r.RunDir),
            ("exit status", r.ExitStatus ?? "-"),
            ("experiment (virtual)", $"{F(r.VirtualS, "0")} s of {F(r.Hours * 3600, "0")} s"),
            ("observations", $"{r.ObservationsStored} stored / {r.ObservationsExpected} expected, {r.Duplicates} duplicates"),
            ("faults", $"{r.FaultsHandled} handled ({r.FaultsAbsorbed} slow replies waited for) / {r.FaultsInjected} injected ({r.FaultsScheduled} scheduled)"),
            ("beam dumps", $"{r.BeamDumpsScheduled} scheduled, {r.Suspensions} suspensions, {r.ResumesAfterSuspension} resumed"),
            ("safety violations", r.SafetyViolations?.ToString(CultureInfo.InvariantCulture) ?? "-"),
            ("kill -9", r.KilledAtVirtualS is { } k ? $"at {F(k, "0")} s, resumed in {F(r.MaxResumeS, "0.00")} s" : "none"),
            ("peak RSS", $"{F(r.PeakRssMb, "0")} MB"),
            ("wall", $"{F(r.WallS, "0.0")} s"),
            ("time in state", string.Join(", ", r.TimeInStateS.Select(p => $"{p.Key} {F(p.Value, "0")} s"))),
        };
        var width = rows.Max(row => row.Name.Length);
        foreach (var (name, value) in rows) output.WriteLine($"  {name.PadRight(width)}  {value}");
        output.WriteLine(r.Passed ? "soak: PASSED" : "soak: FAILED");
        foreach (var failure in r.Failures) output.WriteLine($"  - {failure}");
    }

    /// <summary>A repository-relative path found from the working directory upwards, as the README's commands expect.</summary>
    private static string FindUpwards(string relative)
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate)) return candidate;
        }
        return relative;
    }
}

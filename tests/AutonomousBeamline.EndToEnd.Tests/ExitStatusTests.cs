using System.Diagnostics;
using AutonomousBeamline.Cli;

namespace AutonomousBeamline.EndToEnd.Tests;

/// <summary>The program as a script sees it: usage errors and invalid configs exit 2, naming what was wrong, before anything is touched.</summary>
public sealed class ExitStatusTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("exit-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var beamline = Path.Combine(AppContext.BaseDirectory, "beamline.dll");
        using var child = Process.Start(new ProcessStartInfo("dotnet", ["exec", beamline, .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        })!;
        var output = child.StandardOutput.ReadToEndAsync(guard.Token);
        var error = child.StandardError.ReadToEndAsync(guard.Token);
        await child.WaitForExitAsync(guard.Token);
        return (child.ExitCode, await output, await error);
    }

    [Theory]
    [InlineData("dry-run", "--no-such-option")]
    [InlineData("no-such-command")]
    [InlineData("validate")]
    public async Task A_usage_error_exits_2_with_the_reason(params string[] args)
    {
        var (code, _, err) = await RunAsync(args);
        Assert.Equal(Commands.BadConfig, code);
        Assert.NotEmpty(err.Trim());
    }

    [Fact]
    public async Task A_run_folder_that_cannot_be_written_is_a_clear_error_before_any_device_is_touched()
    {
        // Root writes anywhere it may; nobody can make a folder inside a file.
        var blocker = Path.Combine(_dir, "a-file-not-a-folder");
        File.WriteAllText(blocker, "");
        var config = Path.Combine(_dir, "ok.yaml");
        File.WriteAllText(config, File.ReadAllText(DryRunTests.RepoFile("configs/dry-run.yaml")).Replace("endpoint: tcp://127.0.0.1:5560", "endpoint: \"\""));
        var (code, _, err) = await RunAsync("dry-run", config, "--out", Path.Combine(blocker, "runs"));

        Assert.Equal(Commands.BadConfig, code);
        Assert.Contains("cannot write the run folder", err);
        Assert.Contains("nothing was touched", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public async Task An_invalid_config_exits_2_and_lists_every_problem_with_its_line()
    {
        var yaml = File.ReadAllText(DryRunTests.RepoFile("configs/dry-run.yaml"))
            .Replace("voltage_min_v: 2.5", "voltage_min_v: .nan")
            .Replace("name: lfp-operando-demo", "name: \"../../../x\"")
            .Replace("  exposure_s: 20", "  exposure: 20");
        var config = Path.Combine(_dir, "bad.yaml");
        File.WriteAllText(config, yaml);

        foreach (var command in new[] { "validate", "dry-run" })
        {
            string[] args = command == "dry-run" ? [command, config, "--out", Path.Combine(_dir, "runs")] : [command, config];
            var (code, _, err) = await RunAsync(args);
            Assert.Equal(Commands.BadConfig, code);
            Assert.Contains("3 problem(s)", err);
            Assert.Contains("cell.voltage_min_v: must be a finite number, got .nan", err);
            Assert.Contains("experiment.name", err);
            Assert.Contains("did you mean exposure_s?", err);
            Assert.DoesNotContain("   at ", err); // no stack trace
        }
        Assert.False(Directory.Exists(Path.Combine(_dir, "runs")));
        Assert.False(Directory.Exists(Path.Combine(_dir, "..", "..", "x")));
    }
}

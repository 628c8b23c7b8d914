using System.CommandLine;
using System.Text.Json;
using AutonomousBeamline.Cli;
using AutonomousBeamline.Cli.OperatorConsole;
using AutonomousBeamline.Operator;

namespace AutonomousBeamline.EndToEnd.Tests.OperatorConsole;

/// <summary>
/// The operator stays on the right run: a bare console finds the one running run from its folder, refuses when that is
/// ambiguous, and refuses an endpoint that now serves another run than the folder it was found through.
/// </summary>
[Collection(HeavyRuns.Name)] // it swaps System.Console.Error, which other tests write to
public sealed class ConsoleRunBindingTests : IDisposable
{
    private readonly string _runs = Directory.CreateTempSubdirectory("console-runs-").FullName;

    public void Dispose() => Directory.Delete(_runs, true);

    private string RunFolder(string name, string endpoint = "tcp://127.0.0.1:5999", bool ended = false, string? runId = null)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_runs, name)).FullName;
        File.WriteAllText(Path.Combine(dir, RunLocator.OperatorFileName),
            JsonSerializer.Serialize(new { endpoint, status = "tcp://127.0.0.1:6000", run_id = runId ?? name }));
        if (ended) File.WriteAllText(Path.Combine(dir, "summary.json"), "{}");
        return dir;
    }

    [Fact]
    public void The_one_running_run_is_found_and_ended_runs_are_passed_over()
    {
        RunFolder("20261201-100000-old-aaaaaa", ended: true);
        RunFolder("20261201-110000-now-bbbbbb", endpoint: "tcp://127.0.0.1:5570");
        var target = RunLocator.FindRunning(_runs);
        Assert.Equal("tcp://127.0.0.1:5570", target.Endpoint);
        Assert.Equal("20261201-110000-now-bbbbbb", target.RunId);
        Assert.Equal("tcp://127.0.0.1:6000", target.StatusEndpoint);
    }

    [Fact]
    public void Two_running_runs_are_ambiguous_and_none_is_an_error_saying_what_to_give()
    {
        Assert.Contains("no running run", Assert.Throws<RunNotFoundException>(() => RunLocator.FindRunning(_runs)).Message);
        RunFolder("run-a");
        RunFolder("run-b");
        var e = Assert.Throws<RunNotFoundException>(() => RunLocator.FindRunning(_runs));
        Assert.Contains("2 runs are running", e.Message);
        Assert.Contains("run-a", e.Message);
        Assert.Contains("--run RUN_DIR", e.Message);
    }

    [Fact]
    public void A_run_folder_that_ended_or_has_no_endpoint_is_refused()
    {
        Assert.Contains("has ended", Assert.Throws<RunNotFoundException>(() => RunLocator.FromRunFolder(RunFolder("done", ended: true))).Message);
        var bare = Directory.CreateDirectory(Path.Combine(_runs, "bare")).FullName;
        Assert.Contains("no operator.json", Assert.Throws<RunNotFoundException>(() => RunLocator.FromRunFolder(bare)).Message);
    }

    [Fact]
    public async Task A_console_sent_to_a_run_folder_whose_port_now_serves_another_run_refuses_to_attach()
    {
        // The endpoint serves run-42 (the scripted controller's run); the folder names another run.
        using var endpoint = new OperatorEndpoint(new ScriptedOperations(), new OperatorEndpointOptions { Port = 0, StatusPort = 0 });
        endpoint.Start();
        var folder = RunFolder("20261201-090000-mine-cccccc", endpoint: endpoint.Endpoint);

        var error = new StringWriter();
        var stderr = System.Console.Error;
        System.Console.SetError(error);
        int code;
        try { code = await new RootCommand { ConsoleCommand.Create() }.Parse(["console", "--run", folder, "--once"]).InvokeAsync(); }
        finally { System.Console.SetError(stderr); }

        Assert.Equal(1, code);
        Assert.Contains("not 20261201-090000-mine-cccccc", error.ToString());
        Assert.Contains("not attaching", error.ToString());
    }

    [Fact]
    public async Task A_bare_console_with_no_running_run_exits_2_naming_where_it_looked()
    {
        var error = new StringWriter();
        var stderr = System.Console.Error;
        System.Console.SetError(error);
        int code;
        try { code = await new RootCommand { ConsoleCommand.Create() }.Parse(["console", "--out", _runs, "--once"]).InvokeAsync(); }
        finally { System.Console.SetError(stderr); }

        Assert.Equal(2, code);
        Assert.Contains(_runs, error.ToString());
    }
}

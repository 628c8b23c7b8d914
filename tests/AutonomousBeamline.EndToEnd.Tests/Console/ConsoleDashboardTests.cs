using AutonomousBeamline.Cli.OperatorConsole;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Operator;
using Spectre.Console.Testing;

namespace AutonomousBeamline.EndToEnd.Tests.OperatorConsole;

public class ConsoleDashboardTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private static TestConsole Terminal() => new TestConsole().Width(180).Height(80).SupportsUnicode(true);

    [Fact]
    public void The_dashboard_shows_state_cell_decisions_budget_faults_and_the_heat_map()
    {
        var console = Terminal();
        console.Write(DashboardView.Render(new DashboardModel
        {
            Endpoint = "tcp://127.0.0.1:5560",
            Snapshot = ScriptedOperations.Sample("Measuring"),
            Messages = [new ConsoleMessage(DateTimeOffset.Now, false, "c-rate refused (REFUSED): outside the envelope")],
            Input = "goto 3",
        }));
        var screen = console.Output;

        Assert.Contains("run-0042", screen);
        Assert.Contains("Measuring", screen);
        Assert.Contains("attached", screen);
        Assert.Contains("3.4125 V", screen);
        Assert.Contains("2.100 mA", screen);
        Assert.Contains("charge CC", screen);
        Assert.Contains("37.0 %", screen);
        Assert.Contains("199.7 mA", screen);
        Assert.Contains("largest spread near the phase front", screen);
        Assert.Contains("PENDING", screen);
        Assert.Contains("one waits for approval, runs in 10 s: veto?", screen);
        Assert.Contains("faster cycling explores", screen);
        Assert.Contains("12 / 200", screen);
        Assert.Contains("188 left", screen);
        Assert.Contains("stage BUSY, retried", screen);
        Assert.Contains("outside the envelope", screen);
        Assert.Contains("> goto 3", screen);
        // The heat map: 3 rows of 4 cells on the density ramp (spread 0.1 to 1.1), the missing value "??", the stage at
        // (2, 1) marked; it reads without colour (this terminal has none).
        Assert.Contains("model uncertainty", screen);
        Assert.Contains(console.Lines, l => l.Contains("##%%@@??"));
        Assert.Contains(console.Lines, l => l.Contains("==++<>**"));
        Assert.Contains(console.Lines, l => l.Contains("  ..::--"));
        Assert.Contains("ramp \" .:-=+*#%@\" low..high", screen);
        // Whether the spread can be trusted, wrapped as narrow as the map.
        Assert.Contains("calibration: 90 % intervals held", screen);
        Assert.Contains("on 86 % of the last 50 new frames", screen);
        Assert.Contains("spread 0.1 .. 1.1, ?? none", screen);
    }

    [Fact]
    public void The_heat_map_is_coloured_by_spread()
    {
        var console = Terminal().Colors(Spectre.Console.ColorSystem.TrueColor).EmitAnsiSequences();
        console.Write(DashboardView.HeatMap(new UncertaintyGrid(0, 0, 1, 2, 1, [0, 1]), -10, -10));
        // Lowest spread dark blue-green, highest red: two different 24-bit colours.
        Assert.Contains("38;2;0;80;200", console.Output);
        Assert.Contains("38;2;255;55;0", console.Output);
    }

    [Fact]
    public void Without_a_snapshot_the_dashboard_says_what_it_is_waiting_for()
    {
        var console = Terminal();
        console.Write(DashboardView.Render(new DashboardModel
        {
            Endpoint = "tcp://127.0.0.1:5560", ConnectionProblem = "not connected: no reply", ShowHelp = true,
        }));
        Assert.Contains("waiting for the first snapshot", console.Output);
        Assert.Contains("not connected: no reply", console.Output);
        Assert.Contains("exclude XMIN XMAX YMIN YMAX", console.Output);
    }

    [Fact]
    public async Task An_attached_console_shows_the_run_sends_commands_with_its_identity_and_detaches()
    {
        var ops = new ScriptedOperations();
        using var endpoint = new OperatorEndpoint(ops, new OperatorEndpointOptions
        {
            Port = 0, StatusPort = 0, StatusPeriod = TimeSpan.FromMilliseconds(200), ChangeCheckInterval = TimeSpan.FromMilliseconds(20),
        });
        endpoint.Start();
        var who = new OperatorIdentity("ada", "ws-7");
        using var client = new OperatorClient(endpoint.Endpoint, who);
        var console = new SynchronizedTestConsole(Terminal());
        var keys = new ConcurrentKeyInput();
        var session = new ConsoleSession(console, keys, client, new ConsoleSessionOptions { RefreshInterval = TimeSpan.FromMilliseconds(20) });
        using var stop = new CancellationTokenSource(Patience);
        var running = session.RunAsync(stop.Token);

        keys.Type("goto 3 4");
        keys.Type("c-rate 7");
        keys.Type("warp 9");
        keys.Type("pause");
        await WaitFor(() => ops.Received.Count == 3, "three commands at the controller");
        await WaitFor(() => console.Output.Contains("Paused"), "the paused state on screen", console);
        keys.Type("quit");

        Assert.Equal(0, await running);
        Assert.False(stop.IsCancellationRequested, "the console should leave on 'quit', not on the test's time-out");
        var commands = ops.Received.ToArray();
        Assert.Equal(new GotoRoiCommand(3, 4) { By = who }, commands[0]);
        Assert.Equal(new SetCRateCommand(7) { By = who }, commands[1]);
        Assert.Equal(new PauseCommand { By = who }, commands[2]);

        var screen = console.Output;
        Assert.Contains("run-0042", screen);
        Assert.Contains("3.4125 V", screen);
        Assert.Contains("largest spread near the phase front", screen);
        Assert.Contains("goto: next measurement at (3, 4) mm", screen);
        Assert.Contains("c-rate refused (REFUSED): C-rate 7 is outside the envelope (max 2)", screen);
        Assert.Contains("unknown command 'warp'", screen);
        Assert.Contains("console detached; the run goes on", screen);

        // Detaching sent nothing: the controller saw exactly the three commands.
        await Task.Delay(100);
        Assert.Equal(3, ops.Received.Count);
        Assert.Equal("Paused", ops.Snapshot().State);
    }

    [Fact]
    public async Task A_console_with_no_controller_says_so_and_still_detaches_cleanly()
    {
        using var client = new OperatorClient("tcp://127.0.0.1:9", new OperatorIdentity("ada", "ws-7"),
            new OperatorClientOptions { ReplyTimeout = TimeSpan.FromMilliseconds(100), Retries = 0 });
        var console = new SynchronizedTestConsole(Terminal());
        var keys = new ConcurrentKeyInput();
        var session = new ConsoleSession(console, keys, client, new ConsoleSessionOptions { RefreshInterval = TimeSpan.FromMilliseconds(20) });
        using var stop = new CancellationTokenSource(Patience);
        var running = session.RunAsync(stop.Token);
        await WaitFor(() => console.Output.Contains("not connected"), "the connection problem on screen", console);
        keys.Type("quit");
        Assert.Equal(0, await running);
        Assert.False(stop.IsCancellationRequested);
    }

    [Fact]
    public async Task Printing_once_renders_the_dashboard_and_exits()
    {
        var ops = new ScriptedOperations();
        using var endpoint = new OperatorEndpoint(ops, new OperatorEndpointOptions { Port = 0, StatusPort = 0 });
        endpoint.Start();
        using var client = new OperatorClient(endpoint.Endpoint, new OperatorIdentity("ada", "ws-7"));
        var console = Terminal();
        var code = await new ConsoleSession(console, new ConcurrentKeyInput(), client).PrintOnceAsync(CancellationToken.None);
        Assert.Equal(0, code);
        Assert.Contains("Measuring", console.Output);
        Assert.Contains("model uncertainty", console.Output);
        Assert.Empty(ops.Received);
    }

    private static async Task WaitFor(Func<bool> condition, string what, SynchronizedTestConsole? console = null)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}" + (console is null ? "" : "\n" + console.Output));
            await Task.Delay(10);
        }
    }
}

using AutonomousBeamline.Cli.OperatorConsole;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Operator;

namespace AutonomousBeamline.EndToEnd.Tests.OperatorConsole;

/// <summary>The dashboard on a real terminal: tmux emulates the screen, the test reads it back and types into it.</summary>
public class ConsoleTerminalTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task The_dashboard_renders_in_a_terminal_and_takes_commands_typed_there()
    {
        var ops = new ScriptedOperations();
        using var endpoint = new OperatorEndpoint(ops, new OperatorEndpointOptions
        {
            Port = 0, StatusPort = 0, StatusPeriod = TimeSpan.FromMilliseconds(200), ChangeCheckInterval = TimeSpan.FromMilliseconds(20),
        });
        endpoint.Start();
        var who = new OperatorIdentity("ada", "ws-7");
        using var client = new OperatorClient(endpoint.Endpoint, who);
        using var terminal = await TmuxTerminal.StartAsync(160, 60);
        var session = new ConsoleSession(terminal.CreateConsole(), terminal.Keys, client,
            new ConsoleSessionOptions { RefreshInterval = TimeSpan.FromMilliseconds(50) });
        using var stop = new CancellationTokenSource(Patience);
        var running = session.RunAsync(stop.Token);

        var screen = await WaitForScreen(terminal, s => s.Contains("3.4125 V"), "the dashboard");
        Assert.Contains("state Measuring", screen);
        Assert.Contains("run-0042", screen);
        Assert.Contains("charge CC", screen);
        Assert.Contains("37.0 %", screen);
        Assert.Contains("199.7 mA", screen);
        Assert.Contains("largest spread near the phase front", screen);
        Assert.Contains("12 / 200", screen);
        Assert.Contains("stage BUSY, retried", screen);
        Assert.Contains("model uncertainty", screen);
        Assert.Contains("==++<>**", screen);
        Assert.Contains("##%%@@??", screen);

        terminal.TypeLine("goto 3 4");
        await WaitForScreen(terminal, s => s.Contains("goto: next measurement at (3, 4) mm"), "the reply to goto");
        terminal.TypeLine("pause");
        screen = await WaitForScreen(terminal, s => s.Contains("state Paused"), "the paused state");
        terminal.TypeLine("help");
        screen = await WaitForScreen(terminal, s => s.Contains("exclude XMIN XMAX YMIN YMAX"), "the help");

        terminal.TypeLine("quit");
        Assert.Equal(0, await running);
        Assert.False(stop.IsCancellationRequested, "the console should leave on 'quit', not on the test's time-out");
        await WaitForScreen(terminal, s => s.Contains("console detached; the run goes on."), "the goodbye");
        Assert.Equal([new GotoRoiCommand(3, 4) { By = who }, new PauseCommand { By = who }], ops.Received.ToArray());
    }

    private static async Task<string> WaitForScreen(TmuxTerminal terminal, Func<string, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var screen = terminal.Screen();
            if (condition(screen)) return screen;
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}; the screen:\n{screen}");
            await Task.Delay(50);
        }
    }
}

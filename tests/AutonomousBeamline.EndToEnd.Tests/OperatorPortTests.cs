using AutonomousBeamline.Cli.Composition;
using AutonomousBeamline.Cli;
using AutonomousBeamline.Configuration;
using AutonomousBeamline.Control.Operator;
using NetMQ.Sockets;

namespace AutonomousBeamline.EndToEnd.Tests;

/// <summary>When the configured operator port is taken: a dry run moves aside, a live run refuses to start.</summary>
public class OperatorPortTests
{
    [Fact]
    public void A_taken_port_is_refused_for_a_live_run_and_replaced_for_a_dry_run()
    {
        using var squatter = new ResponseSocket();
        var port = squatter.BindRandomPort("tcp://127.0.0.1");
        var section = new OperatorSection { Endpoint = $"tcp://127.0.0.1:{port}" };
        // A controller that gives snapshots: the endpoint publishes one at once, and a mock's null one crashed its poller thread.
        IExperimentOperations operations = new OperatorConsole.ScriptedOperations();

        var logged = new List<string>();
        using var log = new Serilog.LoggerConfiguration().WriteTo.Sink(new ListSink(logged)).CreateLogger();

        var refusal = Assert.Throws<InvalidOperationException>(() => OperatorComposition.Start(section, operations, "run-1", anyPortIfTaken: false, log));
        Assert.Contains($"127.0.0.1:{port}", refusal.Message);
        Assert.Contains("another controller", refusal.Message);

        using var moved = OperatorComposition.Start(section, operations, "run-1", anyPortIfTaken: true, log);
        Assert.NotNull(moved);
        Assert.NotEqual(port, moved.Port);
        // The move is said in the run's log (the terminal and run.log), not on a bare console line.
        Assert.Contains(logged, line => line.Contains($"127.0.0.1:{port}") && line.Contains("using free ports instead"));
    }

    private sealed class ListSink(List<string> lines) : Serilog.Core.ILogEventSink
    {
        public void Emit(Serilog.Events.LogEvent logEvent) => lines.Add(logEvent.RenderMessage());
    }
}

using AutonomousBeamline.Configuration;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Cli.Feedback;
using AutonomousBeamline.Operator;

namespace AutonomousBeamline.Cli.Composition;

internal static class OperatorComposition
{
    /// <summary>
    /// The console's endpoint for a run, as operator.endpoint says: none when empty; loopback unless CURVE keys are
    /// configured (the endpoint itself refuses anything else). Port 0 picks free ports (tests).
    /// </summary>
    /// <param name="anyPortIfTaken">
    /// A dry run whose configured port is taken (another dry run, say) takes a free one and says so. A live run
    /// refuses instead: a taken port may mean another controller is driving the same beamline.
    /// </param>
    /// <exception cref="InvalidOperationException">The port is taken and <paramref name="anyPortIfTaken"/> is false.</exception>
    public static OperatorEndpoint? Start(OperatorSection section, IExperimentOperations operations, string runId, bool anyPortIfTaken, Serilog.ILogger log)
    {
        if (string.IsNullOrWhiteSpace(section.Endpoint)) return null;
        // validate has checked it; a config that skipped validation is refused here, before anything is bound.
        var at = TcpEndpoint.Parse(section.Endpoint, out var why) ?? throw new InvalidOperationException($"operator.endpoint: {why}");
        var uri = (Host: at.BareHost, at.Port);
        try
        {
            return Bind(uri.Host, uri.Port, section, operations, runId);
        }
        catch (NetMQ.AddressAlreadyInUseException) when (anyPortIfTaken)
        {
            log.Problem($"operator.endpoint {section.Endpoint}: the port (or the status port after it) is taken; using free ports instead");
            return Bind(uri.Host, 0, section, operations, runId);
        }
        catch (NetMQ.AddressAlreadyInUseException)
        {
            throw new InvalidOperationException(
                $"operator.endpoint {section.Endpoint}: the port (or the status port after it) is already in use; is another controller running? " +
                "Stop it or configure another port.");
        }
    }

    private static OperatorEndpoint Bind(string host, int port, OperatorSection section, IExperimentOperations operations, string runId)
    {
        var endpoint = new OperatorEndpoint(operations, new OperatorEndpointOptions
        {
            Host = host,
            Port = port,
            StatusPort = port == 0 ? 0 : port + 1,
            Curve = section.CurveSecretKey is { Length: > 0 } secret ? new OperatorServerCurve(secret, section.AllClientKeys(), section.NamedClientKeys()) : null,
            RunId = runId,
        });
        try
        {
            endpoint.Start();
            return endpoint;
        }
        catch
        {
            endpoint.Dispose();
            throw;
        }
    }
}

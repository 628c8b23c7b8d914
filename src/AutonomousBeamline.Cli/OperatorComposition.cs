using AutonomousBeamline.Configuration;
using AutonomousBeamline.Control.Operator;

namespace AutonomousBeamline.Cli;

internal static class OperatorComposition
{
    /// <summary>
    /// The console's endpoint for a run, as operator.endpoint says: none when empty; loopback unless CURVE keys are
    /// configured (the endpoint itself refuses anything else). Port 0 picks free ports (tests).
    /// </summary>
    public static OperatorEndpoint? Start(OperatorSection section, IExperimentOperations operations)
    {
        if (string.IsNullOrWhiteSpace(section.Endpoint)) return null;
        var uri = new Uri(section.Endpoint.Replace("tcp://", "http://", StringComparison.Ordinal));
        var port = uri.Port;
        var endpoint = new OperatorEndpoint(operations, new OperatorEndpointOptions
        {
            Host = uri.Host,
            Port = port,
            StatusPort = port == 0 ? 0 : port + 1,
            Curve = section.CurveSecretKey is { Length: > 0 } secret ? new OperatorServerCurve(secret, section.CurveClientPublicKeys) : null,
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

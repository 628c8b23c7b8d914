using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Operator;

namespace AutonomousBeamline.EndToEnd.Tests.OperatorConsole;

/// <summary>A typed line through the console's grammar and the operator wire to the controller.</summary>
public class ConsoleLineTests
{
    [Fact]
    public async Task A_console_line_is_sent_as_its_command_and_a_bad_one_is_not_sent()
    {
        var ops = new ScriptedOperations();
        using var endpoint = new OperatorEndpoint(ops, new OperatorEndpointOptions { Port = 0, StatusPort = 0 });
        endpoint.Start();
        var ada = new OperatorIdentity("ada", "beamline-ws1");
        using var client = new OperatorClient(endpoint.Endpoint, ada);

        Assert.True((await client.SendLineAsync("energy 7100 7200 0.5")).Ok);
        var bad = await Assert.ThrowsAsync<ArgumentException>(() => client.SendLineAsync("energy 7200 7100 0.5"));
        Assert.Contains("STOP (7100) must be above START (7200)", bad.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendLineAsync("help"));

        Assert.Equal(new SetEnergyRangeCommand(7100, 7200, 0.5) { By = ada }, Assert.Single(ops.Received));
    }
}

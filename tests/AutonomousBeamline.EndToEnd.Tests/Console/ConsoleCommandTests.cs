using System.CommandLine;
using AutonomousBeamline.Cli;
using AutonomousBeamline.Cli.OperatorConsole;
using AutonomousBeamline.Operator;

namespace AutonomousBeamline.EndToEnd.Tests.OperatorConsole;

public class ConsoleCommandTests
{
    private static ParseResult Parse(string line) => new RootCommand { ConsoleCommand.Create() }.Parse(line);

    [Fact]
    public void Without_an_endpoint_the_console_looks_for_its_run_rather_than_a_default_port()
    {
        Assert.Equal(ConsoleCommand.DefaultEndpoint, $"tcp://{OperatorEndpointOptions.LoopbackHost}:{OperatorEndpointOptions.DefaultPort}");
        var parsed = Parse("console");
        Assert.Empty(parsed.Errors);
        var endpoint = parsed.CommandResult.Command.Arguments.Single();
        Assert.Null(parsed.GetValue((Argument<string?>)endpoint));
        Assert.NotEmpty(Parse("console tcp://127.0.0.1:5560 --run runs/x").Errors);
    }

    [Theory]
    [InlineData("console tcp://10.0.0.5:5560 --user ada --timeout 1.5 --once")]
    [InlineData("console --status tcp://127.0.0.1:6001")]
    [InlineData("console --server-key abc --secret-key-file /tmp/key")]
    [InlineData("console --run runs/20261201-x --once")]
    [InlineData("console --out /data/runs")]
    public void Valid_invocations_parse(string line) => Assert.Empty(Parse(line).Errors);

    [Theory]
    [InlineData("console a b")]
    [InlineData("console --timeout soon")]
    [InlineData("console --colour")]
    [InlineData("console 127.0.0.1:5560")]
    [InlineData("console tcp://127.0.0.1")]
    [InlineData("console tcp://127.0.0.1:70000")]
    [InlineData("console --status localhost")]
    public void Invalid_invocations_are_reported(string line) => Assert.NotEmpty(Parse(line).Errors);

    [Fact]
    public void Keys_is_a_subcommand_not_an_endpoint()
    {
        var parsed = Parse("console keys");
        Assert.Empty(parsed.Errors);
        Assert.Equal("keys", parsed.CommandResult.Command.Name);
    }

    [Fact]
    public void Piped_input_arrives_as_keys_line_by_line()
    {
        var input = new LineReaderInput(new StringReader("goto 1 2\nquit\n"));
        var typed = new System.Text.StringBuilder();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (typed.ToString() != "goto 1 2|quit|")
        {
            Assert.True(DateTime.UtcNow < deadline, $"got only '{typed}'");
            if (!input.IsKeyAvailable())
            {
                Thread.Yield();
                continue;
            }
            var key = input.ReadKey(intercept: true)!.Value;
            typed.Append(key.Key == ConsoleKey.Enter ? '|' : key.KeyChar);
        }
        Assert.False(input.IsKeyAvailable());
    }
}

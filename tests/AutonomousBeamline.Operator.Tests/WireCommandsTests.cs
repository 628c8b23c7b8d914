using System.Text.Json.Nodes;
using AutonomousBeamline.Control.Operator;

namespace AutonomousBeamline.Operator.Tests;

public class WireCommandsTests
{
    private static readonly OperatorIdentity Ada = new("ada", "beamline-ws1");

    public static TheoryData<OperatorCommand> EveryKind => new()
    {
        new PauseCommand { By = Ada },
        new ResumeCommand { By = Ada },
        new SuspendCommand { By = Ada },
        new SkipToEndCommand { By = Ada },
        new HaltCommand { By = Ada },
        new VetoCommand { By = Ada },
        new GotoRoiCommand(4.5, -2) { By = Ada },
        new SetCRateCommand(0.5) { By = Ada },
        new SetEnergyRangeCommand(7100, 7200, 0.5) { By = Ada },
        new LockKnobCommand(Knob.CRate, true) { By = Ada },
        new LockKnobCommand(Knob.EnergyRange, false) { By = Ada },
        new LockKnobCommand(Knob.Roi, true) { By = Ada },
        new ExcludeRegionCommand(0, 1.5, -1, 2) { By = Ada },
        new SetBudgetCommand(300, null) { By = Ada },
        new SetBudgetCommand(null, 7200) { By = Ada },
        new SetBudgetCommand(300, 7200) { By = Ada },
        new SetApprovalWindowCommand(10) { By = Ada },
        new SetApprovalWindowCommand(0) { By = Ada },
    };

    [Theory]
    [MemberData(nameof(EveryKind))]
    public void Every_command_survives_the_wire(OperatorCommand expected)
    {
        var wire = WireCommands.ToWire(expected);
        var json = JsonNode.Parse(wire.Args.ToJsonString())!.AsObject();
        var back = WireCommands.FromWire(wire.Cmd, json, Ada);
        Assert.True(back.Ok, back.Error);
        Assert.Equal(expected, back.Command);
    }

    [Theory]
    [MemberData(nameof(EveryKind))]
    public void Every_wire_name_is_a_listed_command(OperatorCommand command) =>
        Assert.Contains(WireCommands.ToWire(command).Cmd, WireCommands.CommandNames);

    public static TheoryData<string, string, string> BadWire => new()
    {
        { "goto", """{"x_mm": 1}""", "missing argument \"y_mm\"" },
        { "goto", """{"x_mm": "1", "y_mm": 2}""", "\"x_mm\" must be a finite number" },
        { "goto", """{"x_mm": 1, "y_mm": 2, "z_mm": 3}""", "unknown argument \"z_mm\"" },
        { "pause", """{"now": true}""", "takes no arguments" },
        { "c_rate", """{"c_rate": null}""", "missing argument \"c_rate\"" },
        { "c_rate", """{"c_rate": -2}""", "the C-rate must be positive" },
        { "energy", """{"start_ev": 7200, "stop_ev": 7100, "step_ev": 1}""", "energy: STOP (7100) must be above START (7200)" },
        { "lock", """{"knob": 3}""", "\"knob\" must be a string" },
        { "lock", """{"knob": "temperature"}""", "unknown knob \"temperature\"" },
        { "budget", """{}""", "give frames, beam time or both" },
        { "budget", """{"frames": 10.5}""", "\"frames\" must be a whole number" },
        { "budget", """{"frames": 1e12}""", "\"frames\" must be a whole number" },
        { "approval", """{"seconds": true}""", "\"seconds\" must be a finite number" },
        { "fly", """{}""", "unknown command" },
        { "skip-to-end", """{}""", "unknown command" },
    };

    [Theory]
    [MemberData(nameof(BadWire))]
    public void Malformed_wire_commands_say_what_was_wrong(string cmd, string args, string expected)
    {
        var parsed = WireCommands.FromWire(cmd, JsonNode.Parse(args)!.AsObject(), Ada);
        Assert.False(parsed.Ok);
        Assert.Null(parsed.Command);
        Assert.Contains(expected, parsed.Error);
        Assert.Contains(parsed.ErrorCode, new[] { OperatorErrorCodes.BadRequest, OperatorErrorCodes.UnknownCommand });
    }

    [Fact]
    public void Unknown_wire_commands_have_their_own_code()
    {
        Assert.Equal(OperatorErrorCodes.UnknownCommand, WireCommands.FromWire("fly", null, Ada).ErrorCode);
        Assert.Equal(OperatorErrorCodes.BadRequest, WireCommands.FromWire("goto", null, Ada).ErrorCode);
    }

    [Fact]
    public void Fuzzed_wire_arguments_never_throw()
    {
        var random = new Random(7);
        var fields = new[] { "x_mm", "y_mm", "c_rate", "start_ev", "stop_ev", "step_ev", "knob", "x_min_mm", "x_max_mm", "y_min_mm", "y_max_mm", "frames", "beam_time_s", "seconds", "junk" };
        var names = WireCommands.CommandNames.Concat(["", "PAUSE", "snapshot", "goto "]).ToArray();
        var accepted = 0;
        for (var i = 0; i < 10_000; i++)
        {
            var args = new JsonObject();
            for (var f = random.Next(0, 5); f > 0; f--)
            {
                args[fields[random.Next(fields.Length)]] = random.Next(6) switch
                {
                    0 => JsonValue.Create(random.NextDouble() * 1e4 - 100),
                    1 => JsonValue.Create(random.Next(-5, 5000)),
                    2 => JsonValue.Create("roi"),
                    3 => null,
                    4 => new JsonArray(1, 2),
                    _ => JsonValue.Create(random.Next(2) == 0),
                };
            }
            var parsed = WireCommands.FromWire(names[random.Next(names.Length)], args, Ada);
            if (parsed.Ok)
            {
                accepted++;
                Assert.Equal(Ada, parsed.Command!.By);
                CommandSanity.AssertSane(parsed.Command, args.ToJsonString());
            }
            else
            {
                Assert.False(string.IsNullOrWhiteSpace(parsed.Error));
            }
        }
        Assert.True(accepted > 100, $"only {accepted} fuzzed wire commands were accepted");
    }
}

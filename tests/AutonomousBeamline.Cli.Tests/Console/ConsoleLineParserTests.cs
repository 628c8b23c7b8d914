using System.Text;
using System.Text.Json.Nodes;
using AutonomousBeamline.Cli.OperatorConsole;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Operator;

namespace AutonomousBeamline.Cli.Tests.OperatorConsole;

public class ConsoleLineParserTests
{
    private static readonly OperatorIdentity Ada = new("ada", "beamline-ws1");

    private static OperatorCommand Command(string line)
    {
        var parsed = ConsoleLineParser.ParseLine(line, Ada);
        Assert.True(parsed.Kind == ConsoleLineKind.Command, $"'{line}' gave {parsed.Kind}: {parsed.Error}");
        return parsed.Command!;
    }

    private static string Error(string line)
    {
        var parsed = ConsoleLineParser.ParseLine(line, Ada);
        Assert.Equal(ConsoleLineKind.Error, parsed.Kind);
        Assert.Null(parsed.Command);
        return parsed.Error!;
    }

    public static TheoryData<string, OperatorCommand> Valid => new()
    {
        { "pause", new PauseCommand { By = Ada } },
        { "RESUME", new ResumeCommand { By = Ada } },
        { "suspend", new SuspendCommand { By = Ada } },
        { "skip-to-end", new SkipToEndCommand { By = Ada } },
        { "skip_to_end", new SkipToEndCommand { By = Ada } },
        { "halt", new HaltCommand { By = Ada } },
        { "veto", new VetoCommand { By = Ada } },
        { "goto 4.5 -2", new GotoRoiCommand(4.5, -2) { By = Ada } },
        { "  goto\t1e1   2.5E-1 ", new GotoRoiCommand(10, 0.25) { By = Ada } },
        { "c-rate 0.5", new SetCRateCommand(0.5) { By = Ada } },
        { "energy 7100 7200 0.5", new SetEnergyRangeCommand(7100, 7200, 0.5) { By = Ada } },
        { "lock c-rate", new LockKnobCommand(Knob.CRate, true) { By = Ada } },
        { "unlock energy", new LockKnobCommand(Knob.EnergyRange, false) { By = Ada } },
        { "lock ROI", new LockKnobCommand(Knob.Roi, true) { By = Ada } },
        { "exclude 0 1.5 -1 2", new ExcludeRegionCommand(0, 1.5, -1, 2) { By = Ada } },
        { "budget frames 300", new SetBudgetCommand(300, null) { By = Ada } },
        { "budget beam-time 7200", new SetBudgetCommand(null, 7200) { By = Ada } },
        { "approval 10", new SetApprovalWindowCommand(10) { By = Ada } },
        { "approval 0", new SetApprovalWindowCommand(0) { By = Ada } },
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public void Console_lines_become_the_commands_they_name(string line, OperatorCommand expected) =>
        Assert.Equal(expected, Command(line));

    [Theory]
    [InlineData("help", ConsoleLineKind.Help)]
    [InlineData("?", ConsoleLineKind.Help)]
    [InlineData("status", ConsoleLineKind.Status)]
    [InlineData("quit", ConsoleLineKind.Quit)]
    [InlineData("exit", ConsoleLineKind.Quit)]
    [InlineData("", ConsoleLineKind.Empty)]
    [InlineData("   \t ", ConsoleLineKind.Empty)]
    public void Console_side_lines_never_become_commands(string line, ConsoleLineKind kind)
    {
        var parsed = ConsoleLineParser.ParseLine(line, Ada);
        Assert.Equal(kind, parsed.Kind);
        Assert.Null(parsed.Command);
    }

    [Theory]
    [InlineData("launch", "unknown command 'launch'")]
    [InlineData("pause now", "'pause' takes no arguments")]
    [InlineData("skip-to-end 1", "'skip-to-end' takes no arguments")]
    [InlineData("quit 3", "'quit' takes no arguments")]
    [InlineData("goto 1", "usage: goto X Y (got 1 argument)")]
    [InlineData("goto 1 2 3", "usage: goto X Y (got 3 arguments)")]
    [InlineData("goto one 2", "X must be a number, got 'one'")]
    [InlineData("goto 1 NaN", "Y must be finite")]
    [InlineData("goto 1 Infinity", "Y must be finite")]
    [InlineData("goto 1,5 2", "X must be a number, got '1,5'")]
    [InlineData("goto 1e400 2", "X must be finite")]
    [InlineData("c-rate", "usage: c-rate R")]
    [InlineData("c-rate -1", "the C-rate must be positive")]
    [InlineData("c-rate 0", "the C-rate must be positive")]
    [InlineData("energy 7200 7100 1", "STOP (7100) must be above START (7200)")]
    [InlineData("energy 7100 7200 0", "STEP must be positive")]
    [InlineData("energy 7100 7200 500", "STEP (500) is wider than the window")]
    [InlineData("energy -5 7200 1", "START must be a positive energy")]
    [InlineData("lock", "usage: lock KNOB")]
    [InlineData("lock temperature", "unknown knob 'temperature'")]
    [InlineData("exclude 2 1 0 1", "XMAX (1) must be above XMIN (2)")]
    [InlineData("exclude 0 1 3 3", "YMAX (3) must be above YMIN (3)")]
    [InlineData("exclude 0 1 2", "usage: exclude XMIN XMAX YMIN YMAX")]
    [InlineData("budget frames 1.5", "N must be a whole number of frames, got '1.5'")]
    [InlineData("budget frames -3", "the frame budget must be positive")]
    [InlineData("budget beam-time 0", "the beam-time budget must be positive")]
    [InlineData("budget dose 3", "unknown limit 'dose'")]
    [InlineData("budget frames", "usage: budget frames N")]
    [InlineData("approval -1", "the approval window cannot be negative")]
    public void Malformed_lines_say_what_was_wrong(string line, string expected) =>
        Assert.Contains(expected, Error(line));

    [Fact]
    public void An_overlong_line_is_refused_without_being_read()
    {
        Assert.Contains("line too long", Error("goto " + new string('1', 5000) + " 2"));
    }

    [Fact]
    public void The_help_names_every_command()
    {
        foreach (var name in WireCommands.CommandNames)
            Assert.Contains(name.Replace('_', '-'), ConsoleLineParser.HelpText);
        foreach (var local in new[] { "help", "status", "quit" })
            Assert.Contains(local, ConsoleLineParser.HelpText);
    }

    private static readonly string[] FuzzWords =
    [
        "pause", "resume", "suspend", "skip-to-end", "halt", "goto", "c-rate", "energy", "veto", "lock", "unlock",
        "exclude", "budget", "approval", "frames", "beam-time", "roi", "c_rate", "help", "status", "quit",
        "0", "-1", "1.5", "1e308", "1e309", "NaN", "-Infinity", "0x10", "1,5", "٣", "\u0000", "\"", "{}", "7100", "7200",
        "2147483648", "-0", ".5", "5.", "+3", "--", "  ",
    ];

    [Fact]
    public void Fuzzed_lines_never_throw_and_every_command_they_yield_is_sane_and_survives_the_wire()
    {
        var random = new Random(20261126);
        var commands = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var line = RandomLine(random);
            var parsed = ConsoleLineParser.ParseLine(line, Ada);
            switch (parsed.Kind)
            {
                case ConsoleLineKind.Error:
                    Assert.False(string.IsNullOrWhiteSpace(parsed.Error), $"no message for '{line}'");
                    Assert.Null(parsed.Command);
                    break;
                case ConsoleLineKind.Command:
                    commands++;
                    Assert.Equal(Ada, parsed.Command!.By);
                    CommandSanity.AssertSane(parsed.Command, line);
                    var wire = WireCommands.ToWire(parsed.Command);
                    var back = WireCommands.FromWire(wire.Cmd, JsonNode.Parse(wire.Args.ToJsonString())!.AsObject(), Ada);
                    Assert.Equal(parsed.Command, back.Command);
                    break;
                default:
                    Assert.Null(parsed.Command);
                    break;
            }
        }
        // The generator must reach the command path too, or the fuzzing proves nothing about it.
        Assert.True(commands > 200, $"only {commands} fuzzed lines were commands");
    }

    private static string RandomLine(Random random)
    {
        var words = random.Next(0, 6);
        var builder = new StringBuilder();
        for (var w = 0; w < words; w++)
        {
            if (w > 0) builder.Append(random.Next(4) == 0 ? "\t" : " ");
            if (random.Next(8) == 0)
            {
                for (var c = random.Next(1, 8); c > 0; c--) builder.Append((char)random.Next(0, 0x3000));
            }
            else if (random.Next(3) == 0)
            {
                builder.Append((random.NextDouble() * 2e4 - 1e4).ToString("R", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(FuzzWords[random.Next(FuzzWords.Length)]);
            }
        }
        return builder.ToString();
    }
}

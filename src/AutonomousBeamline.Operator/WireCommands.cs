using System.Text.Json;
using System.Text.Json.Nodes;
using AutonomousBeamline.Control.Operator;

namespace AutonomousBeamline.Operator;

/// <summary>A command in its wire form: the "cmd" name and the "args" object of an operator request.</summary>
public sealed record WireCommand(string Cmd, JsonObject Args);

/// <summary>Outcome of reading a wire command: the command, or the reason it was refused before reaching the controller.</summary>
public sealed record WireParse(OperatorCommand? Command, string? ErrorCode, string? Error)
{
    public bool Ok => Command is not null;
}

/// <summary>
/// The operator commands in their wire form (docs/console.md, "Requests"): names, arguments, and the checks that keep
/// a malformed request from ever reaching <see cref="IExperimentOperations"/>. Reading never throws on bad input:
/// every problem comes back as a message naming what was wrong.
/// </summary>
public static class WireCommands
{
    /// <summary>Wire names of the commands (the "cmd" field).</summary>
    public static class Names
    {
        public const string Pause = "pause";
        public const string Resume = "resume";
        public const string Suspend = "suspend";
        public const string SkipToEnd = "skip_to_end";
        public const string Halt = "halt";
        public const string Goto = "goto";
        public const string CRate = "c_rate";
        public const string Energy = "energy";
        public const string Veto = "veto";
        public const string Lock = "lock";
        public const string Unlock = "unlock";
        public const string Exclude = "exclude";
        public const string Budget = "budget";
        public const string Approval = "approval";
    }

    /// <summary>Requests the endpoint answers itself, without the controller's command path.</summary>
    public static class Queries
    {
        public const string Snapshot = "snapshot";
        public const string Describe = "describe";
    }

    public static IReadOnlyList<string> CommandNames { get; } =
    [
        Names.Pause, Names.Resume, Names.Suspend, Names.SkipToEnd, Names.Halt, Names.Goto, Names.CRate, Names.Energy,
        Names.Veto, Names.Lock, Names.Unlock, Names.Exclude, Names.Budget, Names.Approval,
    ];

    /// <summary>The wire form of a command, as the console sends it.</summary>
    public static WireCommand ToWire(OperatorCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        return command switch
        {
            PauseCommand => new(Names.Pause, []),
            ResumeCommand => new(Names.Resume, []),
            SuspendCommand => new(Names.Suspend, []),
            SkipToEndCommand => new(Names.SkipToEnd, []),
            HaltCommand => new(Names.Halt, []),
            VetoCommand => new(Names.Veto, []),
            GotoRoiCommand g => new(Names.Goto, new JsonObject { ["x_mm"] = g.XMm, ["y_mm"] = g.YMm }),
            SetCRateCommand c => new(Names.CRate, new JsonObject { ["c_rate"] = c.CRate }),
            SetEnergyRangeCommand e => new(Names.Energy, new JsonObject { ["start_ev"] = e.StartEv, ["stop_ev"] = e.StopEv, ["step_ev"] = e.StepEv }),
            LockKnobCommand l => new(l.Locked ? Names.Lock : Names.Unlock, new JsonObject { ["knob"] = KnobName(l.Knob) }),
            ExcludeRegionCommand x => new(Names.Exclude, new JsonObject
            {
                ["x_min_mm"] = x.XMinMm, ["x_max_mm"] = x.XMaxMm, ["y_min_mm"] = x.YMinMm, ["y_max_mm"] = x.YMaxMm,
            }),
            SetBudgetCommand b => new(Names.Budget, BudgetArgs(b)),
            SetApprovalWindowCommand a => new(Names.Approval, new JsonObject { ["seconds"] = a.Seconds }),
            _ => throw new ArgumentException($"no wire form for {command.GetType().Name}", nameof(command)),
        };
    }

    private static string KnobName(Knob knob) => knob switch
    {
        Knob.CRate => "c_rate",
        Knob.EnergyRange => "energy",
        Knob.Roi => "roi",
        _ => throw new ArgumentOutOfRangeException(nameof(knob), knob, "not a knob"),
    };

    private static JsonObject BudgetArgs(SetBudgetCommand b)
    {
        var args = new JsonObject();
        if (b.Frames is { } frames) args["frames"] = frames;
        if (b.BeamTimeS is { } seconds) args["beam_time_s"] = seconds;
        return args;
    }

    /// <summary>Reads a command from its wire form. <paramref name="args"/> may be null for commands without arguments.</summary>
    public static WireParse FromWire(string cmd, JsonObject? args, OperatorIdentity by)
    {
        ArgumentNullException.ThrowIfNull(cmd);
        ArgumentNullException.ThrowIfNull(by);
        try
        {
            return ReadWire(cmd, args ?? [], by) is { } command
                ? new WireParse(command, null, null)
                : new WireParse(null, OperatorErrorCodes.UnknownCommand, $"{Shorten(cmd)}: unknown command (commands: {string.Join(", ", CommandNames)})");
        }
        catch (InvalidCommandException ex)
        {
            return new WireParse(null, OperatorErrorCodes.BadRequest, $"{Shorten(cmd)}: {ex.Message}");
        }
    }

    /// <summary>The command, or null when <paramref name="cmd"/> names none.</summary>
    private static OperatorCommand? ReadWire(string cmd, JsonObject args, OperatorIdentity by)
    {
        switch (cmd)
        {
            case Names.Pause: Only(args); return new PauseCommand { By = by };
            case Names.Resume: Only(args); return new ResumeCommand { By = by };
            case Names.Suspend: Only(args); return new SuspendCommand { By = by };
            case Names.SkipToEnd: Only(args); return new SkipToEndCommand { By = by };
            case Names.Halt: Only(args); return new HaltCommand { By = by };
            case Names.Veto: Only(args); return new VetoCommand { By = by };
            case Names.Goto:
                Only(args, "x_mm", "y_mm");
                return CheckedCommands.Goto(WireNumber(args, "x_mm"), WireNumber(args, "y_mm"), by);
            case Names.CRate:
                Only(args, "c_rate");
                return CheckedCommands.CRate(WireNumber(args, "c_rate"), by);
            case Names.Energy:
                Only(args, "start_ev", "stop_ev", "step_ev");
                return CheckedCommands.Energy(WireNumber(args, "start_ev"), WireNumber(args, "stop_ev"), WireNumber(args, "step_ev"), by);
            case Names.Lock or Names.Unlock:
                Only(args, "knob");
                return new LockKnobCommand(KnobFromWire(args), cmd == Names.Lock) { By = by };
            case Names.Exclude:
                Only(args, "x_min_mm", "x_max_mm", "y_min_mm", "y_max_mm");
                return CheckedCommands.Exclude(WireNumber(args, "x_min_mm"), WireNumber(args, "x_max_mm"),
                    WireNumber(args, "y_min_mm"), WireNumber(args, "y_max_mm"), by);
            case Names.Budget:
                Only(args, "frames", "beam_time_s");
                return CheckedCommands.Budget(OptionalFrames(args), args.ContainsKey("beam_time_s") ? WireNumber(args, "beam_time_s") : null, by);
            case Names.Approval:
                Only(args, "seconds");
                return CheckedCommands.Approval(WireNumber(args, "seconds"), by);
            default:
                return null;
        }
    }

    // Unknown fields are refused rather than ignored: a misspelt "x_mm" must not silently become a default.
    private static void Only(JsonObject args, params string[] allowed)
    {
        foreach (var (key, _) in args)
        {
            if (Array.IndexOf(allowed, key) < 0)
                throw new InvalidCommandException(allowed.Length == 0
                    ? $"takes no arguments, got \"{Shorten(key)}\""
                    : $"unknown argument \"{Shorten(key)}\" (expected {string.Join(", ", allowed.Select(a => $"\"{a}\""))})");
        }
    }

    private static double WireNumber(JsonObject args, string field)
    {
        if (!args.TryGetPropertyValue(field, out var node) || node is null)
            throw new InvalidCommandException($"missing argument \"{field}\"");
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<double>(out var number) && double.IsFinite(number))
            return number;
        throw new InvalidCommandException($"\"{field}\" must be a finite number");
    }

    private static int? OptionalFrames(JsonObject args)
    {
        if (!args.ContainsKey("frames")) return null;
        var number = WireNumber(args, "frames");
        if (number != Math.Floor(number) || number > int.MaxValue || number < int.MinValue)
            throw new InvalidCommandException($"\"frames\" must be a whole number, got {CheckedCommands.Format(number)}");
        return (int)number;
    }

    private static Knob KnobFromWire(JsonObject args)
    {
        if (args["knob"] is JsonValue value && value.TryGetValue<string>(out var text))
        {
            return text switch
            {
                "c_rate" => Knob.CRate,
                "energy" => Knob.EnergyRange,
                "roi" => Knob.Roi,
                _ => throw new InvalidCommandException($"unknown knob \"{Shorten(text)}\" (knobs: c_rate, energy, roi)"),
            };
        }
        throw new InvalidCommandException("\"knob\" must be a string");
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";
}

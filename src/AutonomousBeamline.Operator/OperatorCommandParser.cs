using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AutonomousBeamline.Control.Operator;

namespace AutonomousBeamline.Operator;

/// <summary>What a console line asks for: a command for the controller, or something the console does itself.</summary>
public enum ConsoleLineKind { Empty, Command, Help, Status, Quit, Error }

/// <summary>The result of parsing one console line. Exactly one of <see cref="Command"/> / <see cref="Error"/> is set for Command / Error.</summary>
public sealed record ConsoleLine(ConsoleLineKind Kind, OperatorCommand? Command = null, string? Error = null)
{
    public static ConsoleLine Failed(string error) => new(ConsoleLineKind.Error, Error: error);
}

/// <summary>A command in its wire form: the "cmd" name and the "args" object of an operator request.</summary>
public sealed record WireCommand(string Cmd, JsonObject Args);

/// <summary>Outcome of reading a wire command: the command, or the reason it was refused before reaching the controller.</summary>
public sealed record WireParse(OperatorCommand? Command, string? ErrorCode, string? Error)
{
    public bool Ok => Command is not null;
}

/// <summary>
/// The console's command language and its wire form. Both directions check syntax and plain sense
/// (finite numbers, ordered ranges, positive steps); the controller then checks the safety envelope.
/// Nothing here throws on bad input: every problem comes back as a message naming what was wrong,
/// so a malformed command can never reach <see cref="IExperimentOperations"/>.
/// </summary>
public static class OperatorCommandParser
{
    /// <summary>Wire names of the commands (the "cmd" field), also accepted on the console line.</summary>
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

    /// <summary>The console's help, one command a line.</summary>
    public const string HelpText =
        """
        pause                         pause at the next safe point (the cell keeps cycling)
        resume                        leave pause or suspend; the loop re-decides from the present state
        suspend                       safe state now: shutter closed, cell to its safe state
        skip-to-end                   stop measuring and run the end of the run (cleanup, files closed)
        halt                          emergency: output off, shutter closed, abort
        goto X Y                      measure at X, Y (mm) next
        c-rate R                      use C-rate R for the next constant-current step
        energy START STOP STEP        use this energy window (eV) for the next XAS scan
        veto                          refuse the decision waiting for approval
        lock KNOB | unlock KNOB       hold / release a knob: c-rate, energy, roi
        exclude XMIN XMAX YMIN YMAX   never measure inside this rectangle (mm)
        budget frames N               change the frame budget
        budget beam-time S            change the beam-time budget (s)
        approval SECONDS              veto window before each decision runs (0 = unattended)
        status                        fetch the state now
        help                          this text
        quit                          detach the console (the run goes on)
        """;

    private const int MaxLineLength = 1000;

    /// <summary>Parses one line typed at the console.</summary>
    public static ConsoleLine ParseLine(string? line, OperatorIdentity by)
    {
        ArgumentNullException.ThrowIfNull(by);
        if (line is null) return new ConsoleLine(ConsoleLineKind.Empty);
        if (line.Length > MaxLineLength) return ConsoleLine.Failed($"line too long ({line.Length} characters, at most {MaxLineLength})");
        var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0) return new ConsoleLine(ConsoleLineKind.Empty);

        var verb = Normalize(words[0]);
        var args = words.AsSpan(1);
        switch (verb)
        {
            case "help" or "?":
                return new ConsoleLine(ConsoleLineKind.Help);
            case "status":
                return NoArguments(verb, args) ?? new ConsoleLine(ConsoleLineKind.Status);
            case "quit" or "exit" or "detach":
                return NoArguments(verb, args) ?? new ConsoleLine(ConsoleLineKind.Quit);
        }
        var parsed = ParseText(verb, args, by);
        return parsed.Command is { } command
            ? new ConsoleLine(ConsoleLineKind.Command, command)
            : ConsoleLine.Failed(parsed.Error!);
    }

    private static ConsoleLine? NoArguments(string verb, ReadOnlySpan<string> args) =>
        args.Length == 0 ? null : ConsoleLine.Failed($"'{verb}' takes no arguments, got {args.Length}");

    // Hyphens and underscores are the same on the console line, so "skip-to-end" is the wire's "skip_to_end".
    private static string Normalize(string word) => word.ToLowerInvariant().Replace('-', '_');

    private static WireParse ParseText(string verb, ReadOnlySpan<string> args, OperatorIdentity by)
    {
        try
        {
            OperatorCommand command = verb switch
            {
                Names.Pause => Bare(verb, args, new PauseCommand { By = by }),
                Names.Resume => Bare(verb, args, new ResumeCommand { By = by }),
                Names.Suspend => Bare(verb, args, new SuspendCommand { By = by }),
                Names.SkipToEnd => Bare(verb, args, new SkipToEndCommand { By = by }),
                Names.Halt => Bare(verb, args, new HaltCommand { By = by }),
                Names.Veto => Bare(verb, args, new VetoCommand { By = by }),
                Names.Goto => args.Length == 2
                    ? Build.Goto(Number(args[0], "X"), Number(args[1], "Y"), by)
                    : throw Usage(verb, "X Y", args.Length),
                Names.CRate => args.Length == 1 ? Build.CRate(Number(args[0], "R"), by) : throw Usage("c-rate", "R", args.Length),
                Names.Energy => args.Length == 3
                    ? Build.Energy(Number(args[0], "START"), Number(args[1], "STOP"), Number(args[2], "STEP"), by)
                    : throw Usage(verb, "START STOP STEP", args.Length),
                Names.Lock or Names.Unlock => args.Length == 1
                    ? new LockKnobCommand(KnobFrom(args[0]), verb == Names.Lock) { By = by }
                    : throw Usage(verb, "KNOB", args.Length),
                Names.Exclude => args.Length == 4
                    ? Build.Exclude(Number(args[0], "XMIN"), Number(args[1], "XMAX"), Number(args[2], "YMIN"), Number(args[3], "YMAX"), by)
                    : throw Usage(verb, "XMIN XMAX YMIN YMAX", args.Length),
                Names.Budget => BudgetFromText(args, by),
                Names.Approval => args.Length == 1 ? Build.Approval(Number(args[0], "SECONDS"), by) : throw Usage(verb, "SECONDS", args.Length),
                _ => throw new CommandSyntaxException(OperatorErrorCodes.UnknownCommand,
                    $"unknown command '{Shorten(verb)}' (type 'help' for the list)"),
            };
            return new WireParse(command, null, null);
        }
        catch (CommandSyntaxException ex)
        {
            return new WireParse(null, ex.Code, ex.Message);
        }
    }

    private static OperatorCommand Bare(string verb, ReadOnlySpan<string> args, OperatorCommand command) =>
        args.Length == 0 ? command : throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"'{verb.Replace('_', '-')}' takes no arguments, got {args.Length}");

    private static CommandSyntaxException Usage(string verb, string usage, int got) =>
        new(OperatorErrorCodes.BadRequest, $"usage: {verb.Replace('_', '-')} {usage} (got {got} argument{(got == 1 ? "" : "s")})");

    private static OperatorCommand BudgetFromText(ReadOnlySpan<string> args, OperatorIdentity by)
    {
        if (args.Length != 2) throw Usage(Names.Budget, "frames N | budget beam-time S", args.Length);
        return Normalize(args[0]) switch
        {
            "frames" => Build.Budget(FramesFrom(args[1]), null, by),
            "beam_time" => Build.Budget(null, Number(args[1], "S"), by),
            _ => throw new CommandSyntaxException(OperatorErrorCodes.BadRequest,
                $"budget: unknown limit '{Shorten(args[0])}' (use 'frames' or 'beam-time')"),
        };
    }

    private static int FramesFrom(string text)
    {
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var frames))
            throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"N must be a whole number of frames, got '{Shorten(text)}'");
        return frames;
    }

    private static double Number(string text, string name)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"{name} must be a number, got '{Shorten(text)}'");
        if (!double.IsFinite(value))
            throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"{name} must be finite, got '{Shorten(text)}'");
        return value;
    }

    private static Knob KnobFrom(string text) => Normalize(text) switch
    {
        "c_rate" or "crate" => Knob.CRate,
        "energy" => Knob.EnergyRange,
        "roi" => Knob.Roi,
        _ => throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"unknown knob '{Shorten(text)}' (knobs: c-rate, energy, roi)"),
    };

    public static string KnobName(Knob knob) => knob switch
    {
        Knob.CRate => "c_rate",
        Knob.EnergyRange => "energy",
        Knob.Roi => "roi",
        _ => throw new ArgumentOutOfRangeException(nameof(knob), knob, "not a knob"),
    };

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";

    /// <summary>Builders shared by the text and wire forms, so both apply the same sense checks.</summary>
    private static class Build
    {
        public static OperatorCommand Goto(double x, double y, OperatorIdentity by) => new GotoRoiCommand(x, y) { By = by };

        public static OperatorCommand CRate(double rate, OperatorIdentity by) =>
            rate > 0 ? new SetCRateCommand(rate) { By = by }
                : throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"the C-rate must be positive (a magnitude), got {Format(rate)}");

        public static OperatorCommand Energy(double start, double stop, double step, OperatorIdentity by)
        {
            if (start <= 0) throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"START must be a positive energy in eV, got {Format(start)}");
            if (stop <= start) throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"STOP ({Format(stop)}) must be above START ({Format(start)})");
            if (step <= 0) throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"STEP must be positive, got {Format(step)}");
            if (step > stop - start) throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"STEP ({Format(step)}) is wider than the window ({Format(stop - start)} eV)");
            return new SetEnergyRangeCommand(start, stop, step) { By = by };
        }

        public static OperatorCommand Exclude(double xMin, double xMax, double yMin, double yMax, OperatorIdentity by)
        {
            if (xMax <= xMin) throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"XMAX ({Format(xMax)}) must be above XMIN ({Format(xMin)})");
            if (yMax <= yMin) throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"YMAX ({Format(yMax)}) must be above YMIN ({Format(yMin)})");
            return new ExcludeRegionCommand(xMin, xMax, yMin, yMax) { By = by };
        }

        public static OperatorCommand Budget(int? frames, double? beamTimeS, OperatorIdentity by)
        {
            if (frames is null && beamTimeS is null) throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, "budget: give frames, beam time or both");
            if (frames is <= 0) throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"the frame budget must be positive, got {frames}");
            if (beamTimeS is <= 0) throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"the beam-time budget must be positive seconds, got {Format(beamTimeS!.Value)}");
            return new SetBudgetCommand(frames, beamTimeS) { By = by };
        }

        public static OperatorCommand Approval(double seconds, OperatorIdentity by) =>
            seconds >= 0 ? new SetApprovalWindowCommand(seconds) { By = by }
                : throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"the approval window cannot be negative, got {Format(seconds)} s");
    }

    private static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    // ---- wire form --------------------------------------------------------------------------------

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
        args ??= [];
        try
        {
            var command = ReadWire(cmd, args, by);
            return new WireParse(command, null, null);
        }
        catch (CommandSyntaxException ex)
        {
            return new WireParse(null, ex.Code, $"{Shorten(cmd)}: {ex.Message}");
        }
    }

    private static OperatorCommand ReadWire(string cmd, JsonObject args, OperatorIdentity by)
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
                return Build.Goto(WireNumber(args, "x_mm"), WireNumber(args, "y_mm"), by);
            case Names.CRate:
                Only(args, "c_rate");
                return Build.CRate(WireNumber(args, "c_rate"), by);
            case Names.Energy:
                Only(args, "start_ev", "stop_ev", "step_ev");
                return Build.Energy(WireNumber(args, "start_ev"), WireNumber(args, "stop_ev"), WireNumber(args, "step_ev"), by);
            case Names.Lock or Names.Unlock:
                Only(args, "knob");
                return new LockKnobCommand(KnobFromWire(args), cmd == Names.Lock) { By = by };
            case Names.Exclude:
                Only(args, "x_min_mm", "x_max_mm", "y_min_mm", "y_max_mm");
                return Build.Exclude(WireNumber(args, "x_min_mm"), WireNumber(args, "x_max_mm"),
                    WireNumber(args, "y_min_mm"), WireNumber(args, "y_max_mm"), by);
            case Names.Budget:
                Only(args, "frames", "beam_time_s");
                return Build.Budget(OptionalFrames(args), args.ContainsKey("beam_time_s") ? WireNumber(args, "beam_time_s") : null, by);
            case Names.Approval:
                Only(args, "seconds");
                return Build.Approval(WireNumber(args, "seconds"), by);
            default:
                throw new CommandSyntaxException(OperatorErrorCodes.UnknownCommand, $"unknown command (commands: {string.Join(", ", CommandNames)})");
        }
    }

    // Unknown fields are refused rather than ignored: a misspelt "x_mm" must not silently become a default.
    private static void Only(JsonObject args, params string[] allowed)
    {
        foreach (var (key, _) in args)
        {
            if (Array.IndexOf(allowed, key) < 0)
                throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, allowed.Length == 0
                    ? $"takes no arguments, got \"{Shorten(key)}\""
                    : $"unknown argument \"{Shorten(key)}\" (expected {string.Join(", ", allowed.Select(a => $"\"{a}\""))})");
        }
    }

    private static double WireNumber(JsonObject args, string field)
    {
        if (!args.TryGetPropertyValue(field, out var node) || node is null)
            throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"missing argument \"{field}\"");
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<double>(out var number) && double.IsFinite(number))
            return number;
        throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"\"{field}\" must be a finite number");
    }

    private static int? OptionalFrames(JsonObject args)
    {
        if (!args.ContainsKey("frames")) return null;
        var number = WireNumber(args, "frames");
        if (number != Math.Floor(number) || number > int.MaxValue || number < int.MinValue)
            throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"\"frames\" must be a whole number, got {Format(number)}");
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
                _ => throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, $"unknown knob \"{Shorten(text)}\" (knobs: c_rate, energy, roi)"),
            };
        }
        throw new CommandSyntaxException(OperatorErrorCodes.BadRequest, "\"knob\" must be a string");
    }

    private sealed class CommandSyntaxException(string code, string message) : Exception(message)
    {
        public string Code { get; } = code;
    }
}

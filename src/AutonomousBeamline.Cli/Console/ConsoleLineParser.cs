using System.Globalization;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Operator;

namespace AutonomousBeamline.Cli.OperatorConsole;

/// <summary>What a console line asks for: a command for the controller, or something the console does itself.</summary>
public enum ConsoleLineKind { Empty, Command, Help, Status, Quit, Error }

/// <summary>The result of parsing one console line. Exactly one of <see cref="Command"/> / <see cref="Error"/> is set for Command / Error.</summary>
public sealed record ConsoleLine(ConsoleLineKind Kind, OperatorCommand? Command = null, string? Error = null)
{
    public static ConsoleLine Failed(string error) => new(ConsoleLineKind.Error, Error: error);
}

/// <summary>
/// The console's command language (docs/console.md, "Commands"): one command a line, words separated by white space,
/// plain decimals with a point, hyphens and underscores alike. It checks syntax and plain sense through
/// <see cref="CheckedCommands"/>, as the endpoint does for the wire form; the controller then checks the safety envelope.
/// Nothing here throws on bad input: every problem comes back as a message naming what was wrong.
/// </summary>
public static class ConsoleLineParser
{
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

    /// <summary>Parses one line typed at the console, as sent by <paramref name="by"/>.</summary>
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
        try
        {
            return new ConsoleLine(ConsoleLineKind.Command, Command(verb, args, by));
        }
        catch (InvalidCommandException ex)
        {
            return ConsoleLine.Failed(ex.Message);
        }
    }

    private static ConsoleLine? NoArguments(string verb, ReadOnlySpan<string> args) =>
        args.Length == 0 ? null : ConsoleLine.Failed($"'{verb}' takes no arguments, got {args.Length}");

    // Hyphens and underscores are the same on the console line, so "skip-to-end" is the wire's "skip_to_end".
    private static string Normalize(string word) => word.ToLowerInvariant().Replace('-', '_');

    // The verbs are the wire names, so a command reads the same typed and sent.
    private static OperatorCommand Command(string verb, ReadOnlySpan<string> args, OperatorIdentity by) => verb switch
    {
        WireCommands.Names.Pause => Bare(verb, args, new PauseCommand { By = by }),
        WireCommands.Names.Resume => Bare(verb, args, new ResumeCommand { By = by }),
        WireCommands.Names.Suspend => Bare(verb, args, new SuspendCommand { By = by }),
        WireCommands.Names.SkipToEnd => Bare(verb, args, new SkipToEndCommand { By = by }),
        WireCommands.Names.Halt => Bare(verb, args, new HaltCommand { By = by }),
        WireCommands.Names.Veto => Bare(verb, args, new VetoCommand { By = by }),
        WireCommands.Names.Goto => args.Length == 2
            ? CheckedCommands.Goto(Number(args[0], "X"), Number(args[1], "Y"), by)
            : throw Usage(verb, "X Y", args.Length),
        WireCommands.Names.CRate => args.Length == 1 ? CheckedCommands.CRate(Number(args[0], "R"), by) : throw Usage("c-rate", "R", args.Length),
        WireCommands.Names.Energy => args.Length == 3
            ? CheckedCommands.Energy(Number(args[0], "START"), Number(args[1], "STOP"), Number(args[2], "STEP"), by)
            : throw Usage(verb, "START STOP STEP", args.Length),
        WireCommands.Names.Lock or WireCommands.Names.Unlock => args.Length == 1
            ? new LockKnobCommand(KnobFrom(args[0]), verb == WireCommands.Names.Lock) { By = by }
            : throw Usage(verb, "KNOB", args.Length),
        WireCommands.Names.Exclude => args.Length == 4
            ? CheckedCommands.Exclude(Number(args[0], "XMIN"), Number(args[1], "XMAX"), Number(args[2], "YMIN"), Number(args[3], "YMAX"), by)
            : throw Usage(verb, "XMIN XMAX YMIN YMAX", args.Length),
        WireCommands.Names.Budget => Budget(args, by),
        WireCommands.Names.Approval => args.Length == 1
            ? CheckedCommands.Approval(Number(args[0], "SECONDS"), by)
            : throw Usage(verb, "SECONDS", args.Length),
        _ => throw new InvalidCommandException($"unknown command '{Shorten(verb)}' (type 'help' for the list)"),
    };

    private static OperatorCommand Bare(string verb, ReadOnlySpan<string> args, OperatorCommand command) =>
        args.Length == 0 ? command : throw new InvalidCommandException($"'{verb.Replace('_', '-')}' takes no arguments, got {args.Length}");

    private static InvalidCommandException Usage(string verb, string usage, int got) =>
        new($"usage: {verb.Replace('_', '-')} {usage} (got {got} argument{(got == 1 ? "" : "s")})");

    private static OperatorCommand Budget(ReadOnlySpan<string> args, OperatorIdentity by)
    {
        if (args.Length != 2) throw Usage(WireCommands.Names.Budget, "frames N | budget beam-time S", args.Length);
        return Normalize(args[0]) switch
        {
            "frames" => CheckedCommands.Budget(Frames(args[1]), null, by),
            "beam_time" => CheckedCommands.Budget(null, Number(args[1], "S"), by),
            _ => throw new InvalidCommandException($"budget: unknown limit '{Shorten(args[0])}' (use 'frames' or 'beam-time')"),
        };
    }

    private static int Frames(string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var frames)
            ? frames
            : throw new InvalidCommandException($"N must be a whole number of frames, got '{Shorten(text)}'");

    private static double Number(string text, string name)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            throw new InvalidCommandException($"{name} must be a number, got '{Shorten(text)}'");
        if (!double.IsFinite(value))
            throw new InvalidCommandException($"{name} must be finite, got '{Shorten(text)}'");
        return value;
    }

    private static Knob KnobFrom(string text) => Normalize(text) switch
    {
        "c_rate" or "crate" => Knob.CRate,
        "energy" => Knob.EnergyRange,
        "roi" => Knob.Roi,
        _ => throw new InvalidCommandException($"unknown knob '{Shorten(text)}' (knobs: c-rate, energy, roi)"),
    };

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";
}

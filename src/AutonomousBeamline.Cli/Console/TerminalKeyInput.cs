using Spectre.Console;

namespace AutonomousBeamline.Cli.OperatorConsole;

/// <summary>
/// Keys straight from the terminal. Spectre's own input refuses to read whenever it judges the console
/// non-interactive (stderr redirected to a log is enough), yet a terminal on stdin is all the command line needs.
/// </summary>
public sealed class TerminalKeyInput : IAnsiConsoleInput
{
    public bool IsKeyAvailable() => Console.KeyAvailable;

    public ConsoleKeyInfo? ReadKey(bool intercept) => Console.ReadKey(intercept);

    public async Task<ConsoleKeyInfo?> ReadKeyAsync(bool intercept, CancellationToken cancellationToken)
    {
        while (!Console.KeyAvailable) await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        return Console.ReadKey(intercept);
    }
}

using System.Collections.Concurrent;
using Spectre.Console;

namespace AutonomousBeamline.Cli.OperatorConsole;

/// <summary>
/// Keys from a text reader (stdin redirected from a file or a pipe), for the console's command line.
/// System.Console.KeyAvailable throws on redirected input, so lines are read on a background thread and
/// handed over as keys. At the end of the input nothing more arrives and the dashboard stays up.
/// </summary>
public sealed class LineReaderInput : IAnsiConsoleInput
{
    private readonly BlockingCollection<ConsoleKeyInfo> _keys = new();

    public LineReaderInput(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var thread = new Thread(() => Pump(reader)) { IsBackground = true, Name = "console-input" };
        thread.Start();
    }

    private void Pump(TextReader reader)
    {
        try
        {
            while (reader.ReadLine() is { } line)
            {
                foreach (var c in line) _keys.Add(new ConsoleKeyInfo(c, ConsoleKey.NoName, false, false, false));
                _keys.Add(new ConsoleKeyInfo('\r', ConsoleKey.Enter, false, false, false));
            }
        }
        catch (IOException)
        {
            // A closed pipe is the end of the input, like end of file.
        }
    }

    public bool IsKeyAvailable() => _keys.Count > 0;

    public ConsoleKeyInfo? ReadKey(bool intercept) => _keys.Take();

    public async Task<ConsoleKeyInfo?> ReadKeyAsync(bool intercept, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_keys.TryTake(out var key)) return key;
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }
}

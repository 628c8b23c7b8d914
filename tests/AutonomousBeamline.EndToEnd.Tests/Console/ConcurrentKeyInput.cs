using System.Collections.Concurrent;
using Spectre.Console;

namespace AutonomousBeamline.EndToEnd.Tests.OperatorConsole;

/// <summary>Keys typed by a test while the console runs on another thread.</summary>
internal sealed class ConcurrentKeyInput : IAnsiConsoleInput
{
    private readonly ConcurrentQueue<ConsoleKeyInfo> _keys = new();

    public void Type(string line)
    {
        foreach (var c in line) _keys.Enqueue(new ConsoleKeyInfo(c, ConsoleKey.NoName, false, false, false));
        _keys.Enqueue(new ConsoleKeyInfo('\r', ConsoleKey.Enter, false, false, false));
    }

    public bool IsEmpty => _keys.IsEmpty;

    public bool IsKeyAvailable() => !_keys.IsEmpty;

    public ConsoleKeyInfo? ReadKey(bool intercept) => _keys.TryDequeue(out var key) ? key : null;

    public async Task<ConsoleKeyInfo?> ReadKeyAsync(bool intercept, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_keys.TryDequeue(out var key)) return key;
            await Task.Delay(10, cancellationToken);
        }
    }
}

using Spectre.Console;
using Spectre.Console.Rendering;
using Spectre.Console.Testing;

namespace AutonomousBeamline.EndToEnd.Tests.OperatorConsole;

/// <summary>
/// A TestConsole the session writes to on its thread while the test reads the screen on another:
/// TestConsole keeps its output in a StringWriter, which is not safe to read during a write.
/// </summary>
internal sealed class SynchronizedTestConsole(TestConsole inner) : IAnsiConsole
{
    private readonly Lock _lock = new();

    public string Output
    {
        get
        {
            lock (_lock) return inner.Output;
        }
    }

    public Profile Profile => inner.Profile;

    public IAnsiConsoleCursor Cursor => inner.Cursor;

    public IAnsiConsoleInput Input => inner.Input;

    public IExclusivityMode ExclusivityMode => inner.ExclusivityMode;

    public RenderPipeline Pipeline => inner.Pipeline;

    public void Clear(bool home)
    {
        lock (_lock) inner.Clear(home);
    }

    public void Write(IRenderable renderable)
    {
        lock (_lock) inner.Write(renderable);
    }

    public void WriteAnsi(Action<AnsiWriter> action)
    {
        lock (_lock) inner.WriteAnsi(action);
    }
}

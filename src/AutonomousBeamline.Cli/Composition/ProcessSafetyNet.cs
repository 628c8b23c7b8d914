using System.Runtime.InteropServices;

namespace AutonomousBeamline.Cli.Composition;

/// <summary>
/// The last line of defence while a run holds a cell: whatever ends the process or the run from outside the loop (an
/// exception on another thread, a faulted task nobody awaited, SIGTERM, Ctrl-C, SIGQUIT) first makes the cell safe (the
/// run's emergency halt: cycler stopped, output off, shutter closed, waited for) and only then journals what it can.
/// An exception that escapes a thread ends the process whatever a handler does, so that path also flushes the journal
/// before returning; a signal or an unobserved task ends the run through the loop's own abort, which journals the rest.
/// </summary>
internal sealed class ProcessSafetyNet : IDisposable
{
    private static readonly TimeSpan FlushWait = TimeSpan.FromSeconds(5);

    private readonly Func<string, Task<string>> _halt;
    private readonly Action<string, string> _journalFault;
    private readonly Func<Task> _flush;
    private readonly List<PosixSignalRegistration> _signals = new();

    /// <param name="halt">The run's emergency halt (its task completes once the cell is safe).</param>
    /// <param name="journalFault">Journals a fault (source, message) if the journal can still take it; never throws.</param>
    /// <param name="flush">Waits until everything journalled is on disk.</param>
    public ProcessSafetyNet(Func<string, Task<string>> halt, Action<string, string> journalFault, Func<Task> flush)
    {
        (_halt, _journalFault, _flush) = (halt, journalFault, flush);
    }

    /// <summary>Hooks the process' last-chance events and the termination signals until disposed.</summary>
    public ProcessSafetyNet Arm()
    {
        AppDomain.CurrentDomain.UnhandledException += OnUnhandledException;
        TaskScheduler.UnobservedTaskException += OnUnobservedTaskException;
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT })
            _signals.Add(PosixSignalRegistration.Create(signal, context => OnSignal(context.Signal)));
        return this;
    }

    /// <summary>The process is about to die of <paramref name="failure"/>: the cell safe first, then the journal, flushed.</summary>
    internal void OnUnhandledFailure(Exception failure)
    {
        var reason = $"unhandled failure, the process ends: {failure.Message}";
        SafeFirst(reason);
        _journalFault("process", reason);
        try { _flush().Wait(FlushWait); }
        catch (Exception) { /* a journal that cannot flush has already said so, or cannot say anything */ }
    }

    /// <summary>A task failed and nobody looked: the run cannot know what else is broken, so it ends safe.</summary>
    internal void OnUnobservedFailure(Exception failure)
    {
        var reason = $"unhandled failure in a background task: {failure.Message}";
        SafeFirst(reason);
        _journalFault("process", reason);
    }

    /// <summary>SIGTERM, Ctrl-C, SIGQUIT: the cell safe before the runtime or the command line goes on to end the process.</summary>
    internal void OnSignal(PosixSignal signal) => SafeFirst($"{signal} received");

    private void SafeFirst(string reason)
    {
        try { _halt(reason).Wait(Control.Engine.CellSafety.SafeStateWait); }
        catch (Exception) { /* the halt never faults; a bug in it must not stop the rest */ }
    }

    private void OnUnhandledException(object? sender, UnhandledExceptionEventArgs e) =>
        OnUnhandledFailure(e.ExceptionObject as Exception ?? new InvalidOperationException(e.ExceptionObject?.ToString()));

    private void OnUnobservedTaskException(object? sender, UnobservedTaskExceptionEventArgs e)
    {
        e.SetObserved();
        OnUnobservedFailure(e.Exception.Flatten().InnerExceptions is [var only] ? only : e.Exception);
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.UnhandledException -= OnUnhandledException;
        TaskScheduler.UnobservedTaskException -= OnUnobservedTaskException;
        foreach (var signal in _signals) signal.Dispose();
        _signals.Clear();
    }
}

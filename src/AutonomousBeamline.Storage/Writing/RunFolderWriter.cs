using System.Collections.Concurrent;
using AutonomousBeamline.Control.Journal;

namespace AutonomousBeamline.Storage;

/// <summary>
/// The one writer of a run folder's two JSON-lines files, on a thread of its own. Lines reach the disk in the order they
/// were handed over, whichever file they go to: a frame stored before its observation is journalled is on disk before
/// that record, so that a crash between the two leaves a frame to analyse again rather than a record without its frame.
/// Writers hand lines over and go on; the queue is bounded, so a slow disk slows them instead of filling memory.
/// After the first failure nothing more is written and every later hand-over throws <see cref="JournalFailedException"/>.
/// </summary>
internal sealed class RunFolderWriter : IAsyncDisposable
{
    private abstract record Work;

    /// <param name="What">What the line is, for the failure's message.</param>
    /// <param name="Encode">Serialises the line, on the writer's thread.</param>
    /// <param name="Written">Called on the writer's thread once the line is on disk.</param>
    private sealed record LineWork(LineFile File, string What, Func<ReadOnlyMemory<byte>> Encode, Action? Written) : Work;

    private sealed record Barrier(TaskCompletionSource Reached) : Work;

    private readonly LineFile _journal;
    private readonly LineFile _frames;
    private readonly BlockingCollection<Work> _queue;
    // Cancelled at the first failure, to wake writers waiting for room in a queue that will never drain. Never disposed:
    // a writer arriving after the close still reads its token, and then hears from the closed queue.
    private readonly CancellationTokenSource _failing = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile JournalFailedException? _failure;

    public RunFolderWriter(string journalPath, string framesPath, RunFolderOptions options)
    {
        _journal = LineFile.Open(journalPath, options.OpenFile);
        try { _frames = LineFile.Open(framesPath, options.OpenFile); }
        catch
        {
            _journal.Dispose();
            throw;
        }
        _queue = new BlockingCollection<Work>(options.QueueCapacity);
        new Thread(Run) { IsBackground = true, Name = "run folder writer" }.Start();
    }

    /// <summary>The first failure (null while everything is written).</summary>
    public JournalFailedException? Failure => _failure;

    /// <summary>Raised once, on the writer's thread, at the first failure; handlers must be quick and must not throw.</summary>
    public event Action<JournalFailedException>? Failed;

    public void AppendToJournal(string what, Func<ReadOnlyMemory<byte>> encode) => Add(new LineWork(_journal, what, encode, null));

    public void AppendToFrames(string what, Func<ReadOnlyMemory<byte>> encode, Action written) => Add(new LineWork(_frames, what, encode, written));

    /// <summary>
    /// Completes once everything handed over so far is on disk; faults with the failure if something could not be
    /// written. Waits for room in the queue like a line would.
    /// </summary>
    public Task FlushAsync()
    {
        var barrier = new Barrier(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        try { Add(barrier); }
        catch (JournalFailedException e) { return Task.FromException(e); }
        // Closed: whatever was handed over is written once the writer has stopped.
        catch (ObjectDisposedException) { return _stopped.Task; }
        return barrier.Reached.Task;
    }

    private void Add(Work work)
    {
        ThrowIfFailed();
        try { _queue.Add(work, _failing.Token); }
        catch (OperationCanceledException)
        {
            ThrowIfFailed();
            throw;
        }
        catch (InvalidOperationException) when (_queue.IsAddingCompleted)
        {
            ThrowIfFailed();
            throw new ObjectDisposedException(nameof(RunFolderWriter), "the run folder is closed");
        }
    }

    private void ThrowIfFailed()
    {
        // A fresh exception for each caller, each with its own stack trace; the cause stays the same.
        if (_failure is { } failure) throw new JournalFailedException(failure.Message, failure.InnerException);
    }

    private void Run()
    {
        try
        {
            foreach (var work in _queue.GetConsumingEnumerable())
            {
                switch (work)
                {
                    case Barrier barrier when _failure is { } failure: barrier.Reached.SetException(failure); break;
                    case Barrier barrier: barrier.Reached.SetResult(); break;
                    // After a failure nothing more is written: lines accepted since are lost with the disk, and say so by the failure.
                    case LineWork line when _failure is null: Write(line); break;
                }
            }
        }
        finally
        {
            Close(_journal);
            Close(_frames);
            _stopped.SetResult();
        }
    }

    // Every exception is caught on this thread, not only I/O: one escaping it would end the process, cell and all.

    private void Write(LineWork line)
    {
        try { line.File.Append(line.Encode()); }
        catch (Exception e)
        {
            Fail(new JournalFailedException($"{line.File.Path}: could not write {line.What} ({e.Message}); the run folder takes nothing more", e));
            return;
        }
        line.Written?.Invoke();
    }

    private void Close(LineFile file)
    {
        try { file.Dispose(); }
        // A stream that buffers may still be writing as it closes.
        catch (Exception e) when (_failure is null) { Fail(new JournalFailedException($"{file.Path}: could not be closed ({e.Message})", e)); }
        catch (Exception) { }
    }

    private void Fail(JournalFailedException failure)
    {
        _failure = failure;
        _failing.Cancel();
        Failed?.Invoke(failure);
    }

    /// <summary>Writes everything handed over so far, then closes both files.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.CompleteAdding();
        await _stopped.Task.ConfigureAwait(false);
    }
}

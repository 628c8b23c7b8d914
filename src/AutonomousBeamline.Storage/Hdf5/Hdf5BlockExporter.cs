using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using AutonomousBeamline.Control.Journal;

namespace AutonomousBeamline.Storage;

/// <summary>A block that could not be written (or, from an earlier run, read); its frames are still in frames.jsonl.</summary>
public sealed record BlockFailure(string Path, string Reason);

/// <summary>
/// Copies the frames into HDF5 for the analysis tools a beamline uses, one file per block of frames
/// (<c>hdf5/block-0001.h5</c>, ...). PureHDF can neither append to a file nor extend a dataset, so a block is written
/// whole once it is complete — on a worker of its own, never on the thread storing frames — and the last, partial one
/// when the run completes. It is fed frames only once their line is on disk, so a block never holds a frame that
/// frames.jsonl lacks; frames.jsonl stays the record, from which any block can be rebuilt, and a block that cannot be
/// written is reported, never the end of the run.
/// </summary>
public sealed class Hdf5BlockExporter
{
    private abstract record Job;
    private sealed record Block(string Path, long FirstFrame, IReadOnlyList<StoredFrame> Frames) : Job;
    private sealed record Barrier(TaskCompletionSource Reached) : Job;

    private readonly object _gate = new();
    private readonly string _directory;
    private readonly int _blockFrames;
    // Unbounded, but it holds whole blocks only, and a block is written in a fraction of the time its frames take to arrive.
    private readonly Channel<Job> _jobs = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentQueue<BlockFailure> _failures = new();
    private readonly Task _worker;
    private List<StoredFrame> _pending = [];
    /// <summary>The place among frames.jsonl's frames (from 1) of the first frame not yet handed to a block.</summary>
    private long _nextFrame = 1;
    private int _nextBlock = 1;
    private int _blocksWritten;
    private int _framesExported;

    private Hdf5BlockExporter(string directory, int blockFrames)
    {
        if (blockFrames < 1) throw new ArgumentOutOfRangeException(nameof(blockFrames), blockFrames, "a block holds at least one frame");
        _directory = directory;
        _blockFrames = blockFrames;
        TakeStockOfEarlierBlocks();
        _worker = Task.Run(WriteBlocksAsync);
    }

    /// <summary>An exporter into <paramref name="directory"/> that goes on after the blocks an earlier run wrote there.</summary>
    internal static Hdf5BlockExporter Open(string directory, int blockFrames) => new(directory, blockFrames);

    /// <summary>Block files written, an earlier run's included.</summary>
    public int BlocksWritten => Volatile.Read(ref _blocksWritten);

    /// <summary>Frames in the block files written, an earlier run's included.</summary>
    public int FramesExported => Volatile.Read(ref _framesExported);

    /// <summary>Frames at the start of frames.jsonl that blocks already hold (or were handed): the next block starts after them.</summary>
    internal long FramesCovered
    {
        get { lock (_gate) return _nextFrame - 1; }
    }

    /// <summary>Blocks that could not be written, and earlier blocks that could not be read.</summary>
    public IReadOnlyCollection<BlockFailure> Failures => _failures;

    /// <summary>Raised on the worker once a block file is in place (its path); handlers must not throw.</summary>
    public event Action<string>? BlockWritten;

    /// <summary>Raised on the worker when a block could not be written; handlers must not throw.</summary>
    public event Action<BlockFailure>? Failed;

    /// <summary>Takes a frame whose line is on disk (its payload with it); a block is handed to the worker once full. Quick, never throws.</summary>
    internal void Add(StoredFrame frame)
    {
        lock (_gate)
        {
            _pending.Add(frame);
            if (_pending.Count == _blockFrames) HandOver();
        }
    }

    /// <summary>Completes once every block handed to the worker so far is written (or has failed).</summary>
    public Task FlushAsync()
    {
        var barrier = new Barrier(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        return _jobs.Writer.TryWrite(barrier) ? barrier.Reached.Task : _worker;
    }

    /// <summary>At the end of the run: hands over the last, partial block and completes once every block is written.</summary>
    public Task CompleteAsync()
    {
        lock (_gate)
        {
            if (_pending.Count > 0) HandOver();
            _jobs.Writer.TryComplete();
        }
        return _worker;
    }

    private void HandOver()
    {
        var path = Path.Combine(_directory, $"block-{_nextBlock++:0000}.h5");
        _jobs.Writer.TryWrite(new Block(path, _nextFrame, _pending));
        _nextFrame += _pending.Count;
        _pending = [];
    }

    private async Task WriteBlocksAsync()
    {
        await foreach (var job in _jobs.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            switch (job)
            {
                case Barrier barrier: barrier.Reached.SetResult(); break;
                case Block block: Write(block); break;
            }
        }
    }

    private void Write(Block block)
    {
        try
        {
            Directory.CreateDirectory(_directory);
            WholeFile.Write(block.Path, stream => Hdf5BlockLayout.Build(block.Frames, block.FirstFrame).Write(stream));
        }
        // Whatever went wrong: a block is a copy of frames.jsonl, and its failure must not end the worker or the run.
        catch (Exception e)
        {
            Report(new BlockFailure(block.Path, $"{block.Frames.Count} frames from frame {block.FirstFrame} not written: {e.Message}"));
            return;
        }
        Interlocked.Increment(ref _blocksWritten);
        Interlocked.Add(ref _framesExported, block.Frames.Count);
        BlockWritten?.Invoke(block.Path);
    }

    private void Report(BlockFailure failure)
    {
        _failures.Enqueue(failure);
        Failed?.Invoke(failure);
    }

    /// <summary>
    /// A resumed run numbers on after the highest block there is and starts after the last frame a readable block holds;
    /// an unreadable block (cut short by a crash, say) is reported, and its frames go into a new block.
    /// </summary>
    private void TakeStockOfEarlierBlocks()
    {
        if (!Directory.Exists(_directory)) return;
        foreach (var path in Directory.GetFiles(_directory, "block-*.h5"))
        {
            if (int.TryParse(Path.GetFileNameWithoutExtension(path)["block-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                _nextBlock = Math.Max(_nextBlock, number + 1);
            try
            {
                var (first, frames) = Hdf5BlockLayout.ReadExtent(path);
                _nextFrame = Math.Max(_nextFrame, first + frames);
                _blocksWritten++;
                _framesExported += frames;
            }
            catch (Exception e)
            {
                Report(new BlockFailure(path, $"an earlier block that cannot be read: {e.Message}"));
            }
        }
    }
}

namespace AutonomousBeamline.Storage;

/// <summary>
/// A run's folder, open for writing: the journal, the frame store and the HDF5 blocks, which share one writer thread so
/// that the order between journal.jsonl and frames.jsonl is the order of the calls. Opening a folder an earlier run
/// wrote to (a resume) goes on where it stopped: torn last lines closed, journal numbering, frame count and blocks
/// continued. Dispose it to close everything in the right order.
/// </summary>
public sealed class RunFolder : IAsyncDisposable
{
    public const string JournalFileName = "journal.jsonl";
    public const string FramesFileName = "frames.jsonl";
    public const string BlocksDirectoryName = "hdf5";
    public const string SummaryFileName = "summary.json";

    private RunFolder() { }

    public required string Directory { get; init; }
    public required JsonLinesJournal Journal { get; init; }
    public required JsonLinesFrameStore Frames { get; init; }
    public required Hdf5BlockExporter Blocks { get; init; }

    /// <summary>Lines of an earlier run's files passed over when the folder was opened (a line torn by a crash, say).</summary>
    public required IReadOnlyList<FileWarning> Warnings { get; init; }

    /// <summary>Opens (creating it if need be) the run folder <paramref name="directory"/> for writing.</summary>
    /// <param name="time">The run's clock, which times the journal's records.</param>
    /// <param name="hdf5BlockFrames">Frames per HDF5 block file.</param>
    public static RunFolder Open(string directory, TimeProvider time, int hdf5BlockFrames, RunFolderOptions? options = null)
    {
        System.IO.Directory.CreateDirectory(directory);
        var journalPath = Path.Combine(directory, JournalFileName);
        var framesPath = Path.Combine(directory, FramesFileName);
        var warnings = new List<FileWarning>();

        // What an earlier run left, read before anything is appended.
        long lastSequence = 0;
        if (File.Exists(journalPath))
        {
            var journal = JournalFile.Read(journalPath);
            lastSequence = journal.LastSequence;
            warnings.AddRange(journal.Warnings);
        }
        var blocks = Hdf5BlockExporter.Open(Path.Combine(directory, BlocksDirectoryName), hdf5BlockFrames);
        var covered = blocks.FramesCovered;
        var stored = 0;
        // One pass over frames.jsonl: every frame counts, and those no block holds yet (stored before a crash) are
        // decoded for the next block.
        foreach (var frame in FrameFile.Scan(framesPath, warnings.Add, decode: _ => stored >= covered))
        {
            stored++;
            if (frame.Frame is not null) blocks.Add(frame);
        }

        var writer = new RunFolderWriter(journalPath, framesPath, options ?? new RunFolderOptions());
        var frames = new JsonLinesFrameStore(writer, stored);
        frames.Written += blocks.Add;
        return new RunFolder
        {
            Directory = directory,
            Journal = new JsonLinesJournal(writer, time, lastSequence),
            Frames = frames,
            Blocks = blocks,
            Warnings = warnings,
        };
    }

    /// <summary>
    /// Closes the journal and the frame store once everything accepted is on disk, then writes the last, partial HDF5
    /// block (the writer's last frames still reach the blocks first).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await Journal.DisposeAsync().ConfigureAwait(false);
        await Blocks.CompleteAsync().ConfigureAwait(false);
    }
}

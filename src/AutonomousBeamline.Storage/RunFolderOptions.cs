namespace AutonomousBeamline.Storage;

/// <summary>How a run folder's writer reaches its files; the defaults are what a run uses.</summary>
public sealed record RunFolderOptions
{
    /// <summary>Opens journal.jsonl or frames.jsonl (given its path) for appending. Tests put a failing or a slow stream here.</summary>
    public Func<string, Stream> OpenFile { get; init; } = OpenForAppending;

    /// <summary>Lines accepted but not yet on disk before a writer has to wait: a slow disk slows the run, memory stays bounded.</summary>
    public int QueueCapacity { get; init; } = 256;

    // Unbuffered: each line goes to the operating system in one write, and nothing is left in a buffer after a failure.
    private static Stream OpenForAppending(string path) =>
        new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
}

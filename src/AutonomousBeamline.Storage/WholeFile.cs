namespace AutonomousBeamline.Storage;

/// <summary>
/// Writes a file whole under a temporary name, through to the disk, then renames it: a crash never leaves half a file
/// under the real name (an HDF5 block, summary.json), only a <c>.partial</c> one.
/// </summary>
internal static class WholeFile
{
    public const string TemporarySuffix = ".partial";

    public static void Write(string path, Action<Stream> write)
    {
        var temporary = path + TemporarySuffix;
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
        {
            write(stream);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}

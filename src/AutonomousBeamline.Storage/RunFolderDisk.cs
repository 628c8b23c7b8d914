using AutonomousBeamline.Control.Suspenders;

namespace AutonomousBeamline.Storage;

/// <summary>The free space of the file system a run folder is on (statvfs on Linux), for the preflight and the disk suspender.</summary>
public sealed class RunFolderDisk(string directory) : IFreeSpace
{
    public string Where { get; } = Path.GetFullPath(directory);

    public long AvailableBytes()
    {
        try { return new DriveInfo(Where).AvailableFreeSpace; }
        catch (Exception e) when (e is ArgumentException or UnauthorizedAccessException) { throw new IOException(e.Message, e); }
    }
}

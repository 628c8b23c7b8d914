namespace AutonomousBeamline.Storage.Tests;

/// <summary>A run folder of its own for one test, deleted afterwards.</summary>
public sealed class TemporaryFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("storage-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Journal => File(RunFolder.JournalFileName);
    public string Frames => File(RunFolder.FramesFileName);
    public string Blocks => File(RunFolder.BlocksDirectoryName);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

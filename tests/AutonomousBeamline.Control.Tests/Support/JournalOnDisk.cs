using System.Text.Json.Nodes;
using AutonomousBeamline.Storage;

namespace AutonomousBeamline.Control.Tests.Support;

/// <summary>
/// A real journal in a temporary run folder, for tests that check the fields a record has on disk (the cycler's steps
/// and samples): <see cref="Records"/> waits for the writer, then reads the file back as JSON.
/// </summary>
internal sealed class JournalOnDisk : IDisposable
{
    private readonly string _dir;
    private readonly RunFolder _folder;

    public JournalOnDisk(string prefix, TimeProvider time)
    {
        _dir = Directory.CreateTempSubdirectory(prefix).FullName;
        _folder = RunFolder.Open(_dir, time, hdf5BlockFrames: 100);
    }

    public JsonLinesJournal Journal => _folder.Journal;

    public List<JsonObject> Records(string type)
    {
        Journal.FlushAsync().GetAwaiter().GetResult();
        return File.ReadLines(Path.Combine(_dir, RunFolder.JournalFileName))
            .Select(line => (JsonObject)JsonNode.Parse(line)!)
            .Where(r => (string?)r["type"] == type)
            .ToList();
    }

    public void Dispose()
    {
        _folder.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_dir, true);
    }
}

/// <summary>The cycler as the engine runs it: as an actor of the virtual clock, so its back-off delays move time.</summary>
internal static class CyclerRuns
{
    public static Task RunAsActorAsync(this Control.Cycling.Cycler cycler, Core.Time.VirtualTimeProvider clock, CancellationToken ct = default) =>
        clock.StartActor(() => cycler.RunAsync(ct));
}

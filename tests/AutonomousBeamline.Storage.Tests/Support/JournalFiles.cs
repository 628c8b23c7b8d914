using AutonomousBeamline.Control.Journal;

namespace AutonomousBeamline.Storage.Tests;

public static class JournalFiles
{
    /// <summary>Writes the records to a fresh run folder's journal and returns its lines as written.</summary>
    public static async Task<string[]> WriteAsync(TemporaryFolder folder, params JournalRecord[] records)
    {
        await using (var run = RunFolder.Open(folder.Path, TestClock.Create(), hdf5BlockFrames: 100))
            foreach (var record in records) run.Journal.Write(record);
        return File.ReadAllLines(folder.Journal);
    }

    /// <summary>A journal.jsonl holding exactly <paramref name="lines"/>, read back.</summary>
    public static JournalContents Read(TemporaryFolder folder, params string[] lines)
    {
        File.WriteAllText(folder.Journal, string.Join("\n", lines));
        return JournalFile.Read(folder.Journal);
    }
}

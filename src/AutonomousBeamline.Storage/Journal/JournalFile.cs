using AutonomousBeamline.Control.Journal;

namespace AutonomousBeamline.Storage;

/// <summary>What a journal file holds: its records in file order, and every line that could not be read.</summary>
/// <param name="LastSequence">The highest seq of any line that had one, readable or not (0 for an empty journal): where numbering goes on.</param>
public sealed record JournalContents(IReadOnlyList<JournalEntry> Entries, IReadOnlyList<FileWarning> Warnings, long LastSequence);

/// <summary>Reads journal.jsonl back into typed records (resume, reports, tests).</summary>
public static class JournalFile
{
    /// <summary>
    /// Every record of the journal at <paramref name="path"/>. A line that cannot be read — torn by a crash, not JSON, of
    /// a type this version does not know, or with fields that do not fit its type — is passed over with a warning
    /// naming its line, never an exception.
    /// </summary>
    public static JournalContents Read(string path)
    {
        var entries = new List<JournalEntry>();
        var warnings = new List<FileWarning>();
        long last = 0;
        foreach (var (number, text) in JsonLineReader.Lines(path))
        {
            var line = JournalLine.Decode(text);
            if (line.Sequence is { } sequence) last = Math.Max(last, sequence);
            if (line.Entry is { } entry) entries.Add(entry);
            else warnings.Add(new FileWarning(path, number, line.Problem!));
        }
        return new JournalContents(entries, warnings, last);
    }
}

namespace AutonomousBeamline.Storage;

/// <summary>The lines of a run folder's file with their numbers (from 1), read while a writer may still be appending to it.</summary>
internal static class JsonLineReader
{
    public static IEnumerable<(long Number, string Text)> Lines(string path)
    {
        // Shared for writing too: a resume or a report reads the files of a run that may still be running.
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        long number = 0;
        while (reader.ReadLine() is { } line)
            yield return (++number, line);
    }
}

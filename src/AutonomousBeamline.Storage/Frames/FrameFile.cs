using AutonomousBeamline.Control.Journal;

namespace AutonomousBeamline.Storage;

/// <summary>Reads frames back from frames.jsonl (resume, HDF5 blocks, reports), one line at a time: a frame file can be large.</summary>
public static class FrameFile
{
    /// <summary>
    /// Every readable frame of the file at <paramref name="path"/>, in file order (none when there is no such file: a
    /// run that never stored a frame). A line that cannot be read — torn by a crash, not JSON, with fields that do not
    /// fit — is passed over and handed to <paramref name="warn"/>, never an exception.
    /// </summary>
    /// <param name="decode">Given each frame without its payload, whether to decode the payload too (all when null);
    /// the rest come back with a null <see cref="StoredFrame.Frame"/>. Decoding is most of the cost.</param>
    /// <param name="skip">Readable frames to pass over at the start, undecoded (those already handled).</param>
    public static IEnumerable<StoredFrame> Scan(string path, Action<FileWarning> warn, Func<StoredFrame, bool>? decode = null, int skip = 0)
    {
        ArgumentNullException.ThrowIfNull(warn);
        if (!File.Exists(path)) yield break;
        foreach (var (number, text) in JsonLineReader.Lines(path))
        {
            var line = FrameLine.Decode(text, skip > 0 ? PayloadNotWanted : decode);
            if (line.Stored is not { } stored)
            {
                warn(new FileWarning(path, number, line.Problem!));
                continue;
            }
            if (skip > 0) { skip--; continue; }
            yield return stored;
        }
    }

    private static bool PayloadNotWanted(StoredFrame frame) => false;
}

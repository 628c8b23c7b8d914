using System.Text.Json.Nodes;

namespace AutonomousBeamline.EndToEnd.Tests;

/// <summary>A finished run's folder made into the one a crash would have left, so that a resume can be tested at an exact frame
/// (a kill, as in <see cref="ResumeAfterKillTests"/>, falls where it falls).</summary>
internal static class CrashedRunFolder
{
    /// <summary>
    /// The run folder as a crash right after frame <paramref name="lastFrame"/> would have left it: the journal and the frame
    /// file cut after that frame's lines (the frame file is written first, so no observation of it can be lost), the files
    /// a run writes when it ends removed.
    /// </summary>
    public static void CutAfterFrame(string runDir, long lastFrame)
    {
        var frames = Path.Combine(runDir, "frames.jsonl");
        var keptFrames = File.ReadLines(frames).TakeWhile(l => (long)JsonNode.Parse(l)!["header"]!["frame"]! <= lastFrame).ToList();
        File.WriteAllLines(frames, keptFrames);
        var journal = Path.Combine(runDir, "journal.jsonl");
        var lines = File.ReadAllLines(journal);
        // Up to the last record of the frame: the one the journal writes about it after its analysis.
        var cut = Array.FindLastIndex(lines, l => JsonNode.Parse(l) is JsonObject r && (long?)r["frame"] == lastFrame
                                                 && (string?)r["type"] is "observation" or "frame_not_counted" or "components_updated");
        Assert.True(cut > 0, $"frame {lastFrame} has no record in the journal");
        File.WriteAllLines(journal, lines.Take(cut + 1));
        File.Delete(Path.Combine(runDir, "summary.json"));
    }

}

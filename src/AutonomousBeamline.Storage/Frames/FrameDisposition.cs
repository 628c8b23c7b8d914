using AutonomousBeamline.Control.Journal;

namespace AutonomousBeamline.Storage;

/// <summary>What became of a frame, as frames.jsonl and the HDF5 blocks spell it: "observation", "no_beam", "flagged:&lt;flag&gt;",
/// "preflight" (taken by preflight's reference check; files written before it existed have none).</summary>
internal static class FrameDisposition
{
    private const string FlaggedPrefix = "flagged:";
    public const string Preflight = "preflight";

    public static string Name(FrameFate fate, string? flag) => fate switch
    {
        FrameFate.Observation => "observation",
        FrameFate.NoBeam => "no_beam",
        FrameFate.Flagged => FlaggedPrefix + flag,
        FrameFate.Preflight => Preflight,
        _ => throw new ArgumentOutOfRangeException(nameof(fate), fate, "not a frame fate"),
    };

    public static bool TryParse(string name, out FrameFate fate, out string? flag)
    {
        flag = null;
        switch (name)
        {
            case "observation": fate = FrameFate.Observation; return true;
            case "no_beam": fate = FrameFate.NoBeam; return true;
            case Preflight: fate = FrameFate.Preflight; return true;
            case not null when name.StartsWith(FlaggedPrefix, StringComparison.Ordinal):
                fate = FrameFate.Flagged;
                flag = name[FlaggedPrefix.Length..];
                return true;
            default: fate = default; return false;
        }
    }
}

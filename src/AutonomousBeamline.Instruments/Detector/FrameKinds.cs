using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Instruments.Detector;

/// <summary>The wire spelling of a frame's kind (FACILITY-ICD §3: <c>"xrd"</c>, <c>"xas"</c>).</summary>
public static class FrameKinds
{
    public static string ToWire(this FrameKind kind) => kind switch
    {
        FrameKind.Xrd => "xrd",
        FrameKind.Xas => "xas",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "has no wire spelling"),
    };

    /// <summary>The kind a wire string names, or null for a kind this controller does not take.</summary>
    public static FrameKind? FromWire(string? wire) => wire switch
    {
        "xrd" => FrameKind.Xrd,
        "xas" => FrameKind.Xas,
        _ => null,
    };
}

namespace AutonomousBeamline.Storage;

/// <summary>A line a reader passed over, and why (a line torn by a crash, an unknown record type, fields that do not fit).</summary>
/// <param name="Line">The line's number in the file, from 1.</param>
public sealed record FileWarning(string Path, long Line, string Reason)
{
    public override string ToString() => $"{Path}:{Line}: {Reason}";
}

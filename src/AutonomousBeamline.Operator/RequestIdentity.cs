using System.Globalization;

namespace AutonomousBeamline.Operator;

/// <summary>
/// Who a command is journalled under: short, printable text. Control and format characters are refused, not
/// stripped: a bidi override or a zero-width space makes an audit trail show a name other than the one it holds.
/// </summary>
public static class RequestIdentity
{
    public const int MaxLength = 64;

    /// <summary>Why <paramref name="name"/> cannot stand in the journal, or null.</summary>
    public static string? Problem(string name)
    {
        if (name.Length > MaxLength) return $"must be at most {MaxLength} characters";
        if (name.Any(IsHidden)) return $"must be printable text: it holds a control or format character ('{Shown(name)}')";
        return null;
    }

    /// <summary>The text clipped, with control and format characters shown as \uXXXX, for a reply.</summary>
    public static string Shown(string text)
    {
        var clipped = text.Length <= 40 ? text : text[..40] + "...";
        return string.Concat(clipped.Select(ch => IsHidden(ch) ? $"\\u{(int)ch:X4}" : ch.ToString()));
    }

    private static bool IsHidden(char ch) =>
        char.IsControl(ch) || CharUnicodeInfo.GetUnicodeCategory(ch) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
}

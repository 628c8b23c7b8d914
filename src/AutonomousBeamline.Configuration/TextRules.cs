using System.Globalization;
using System.Text.RegularExpressions;

namespace AutonomousBeamline.Configuration;

/// <summary>
/// Text that ends up in file names and journals: the experiment's name names the run folder (so it is a safe file
/// name: no separators, no "..", nothing a terminal would act on), and free text holds no control or format
/// characters (a bidi override or a zero-width space makes a journal lie about what it says).
/// </summary>
public static partial class TextRules
{
    public const int MaxNameLength = 64;

    /// <summary>Why <paramref name="name"/> cannot name a run folder, or null when it can.</summary>
    public static string? FileNameProblem(string name)
    {
        if (name.Length > MaxNameLength) return $"must be at most {MaxNameLength} characters, got {name.Length:N0}";
        if (!SafeName().IsMatch(name) || name.Contains("..", StringComparison.Ordinal))
            return $"names the run folder, so it must be letters, digits, '-', '_' and '.' (starting with a letter or digit, no '..'), got '{Shown(name)}'";
        return null;
    }

    /// <summary>Whether <paramref name="text"/> holds a control or format character (bidi overrides, zero-width spaces, …).</summary>
    public static bool HasControlOrFormat(string text) => text.Any(ch =>
        char.IsControl(ch) || CharUnicodeInfo.GetUnicodeCategory(ch) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator);

    /// <summary>The text with control and format characters shown as \uXXXX, clipped, for an error message.</summary>
    public static string Shown(string text)
    {
        var clipped = text.Length <= 60 ? text : text[..60] + "…";
        return string.Concat(clipped.Select(ch => char.IsControl(ch) || CharUnicodeInfo.GetUnicodeCategory(ch) == UnicodeCategory.Format
            ? $"\\u{(int)ch:X4}" : ch.ToString()));
    }

    internal static void Check(ExperimentConfig c, Action<string, string> fail)
    {
        if (!string.IsNullOrWhiteSpace(c.Experiment.Name) && FileNameProblem(c.Experiment.Name) is { } problem) fail("experiment.name", problem);
        if (c.Experiment.Operator.Length > 200) fail("experiment.operator", $"must be at most 200 characters, got {c.Experiment.Operator.Length:N0}");
        FreeText("experiment.operator", c.Experiment.Operator, fail);
        FreeText("cell.chemistry", c.Cell.Chemistry, fail);
        FreeText("output.directory", c.Output.Directory, fail);
    }

    private static void FreeText(string path, string text, Action<string, string> fail)
    {
        if (HasControlOrFormat(text)) fail(path, $"holds a control or format character: '{Shown(text)}'");
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex SafeName();
}

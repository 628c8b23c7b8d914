using System.Globalization;

namespace AutonomousBeamline.Core.Materials;

/// <summary>A reference file's text could not be read as two numeric columns; the message names the line.</summary>
public sealed class ReferenceFileException(string message) : FormatException(message);

/// <summary>
/// Two numeric columns (position and intensity, or energy and normalised μ) from a text file: whitespace, comma or
/// semicolon separated; <c>#</c> starts a comment; header lines before the data that are not numbers (an Athena or
/// Larch header, a column caption) are skipped; further columns are ignored. Pure: the caller reads the file.
/// </summary>
public static class TwoColumnData
{
    private static readonly char[] Separators = [' ', '\t', ',', ';'];

    public static (double[] X, double[] Y) Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var x = new List<double>();
        var y = new List<double>();
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw;
            var hash = line.IndexOf('#');
            if (hash >= 0) line = line[..hash];
            line = line.Trim();
            if (line.Length == 0) continue;
            var fields = line.Split(Separators, StringSplitOptions.RemoveEmptyEntries);
            var numeric = fields.Length >= 2 && TryNumber(fields[0], out var a) & TryNumber(fields[1], out var b);
            if (!numeric)
            {
                // A caption or header before the data is tolerated; text in the middle of the data is not.
                if (x.Count == 0) continue;
                throw new ReferenceFileException($"{source}: line {lineNumber}: expected two numbers, got '{raw.Trim()}'");
            }
            TryNumber(fields[0], out a);
            TryNumber(fields[1], out b);
            if (!double.IsFinite(a) || !double.IsFinite(b))
                throw new ReferenceFileException($"{source}: line {lineNumber}: '{raw.Trim()}' is not finite");
            if (x.Count > 0 && !(a > x[^1]))
                throw new ReferenceFileException($"{source}: line {lineNumber}: the first column must increase ({a} after {x[^1]})");
            x.Add(a);
            y.Add(b);
        }
        if (x.Count < 8) throw new ReferenceFileException($"{source}: {x.Count} data lines; a reference needs at least 8");
        return (x.ToArray(), y.ToArray());
    }

    private static bool TryNumber(string field, out double value) =>
        double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
}

using System.Globalization;
using System.Text.RegularExpressions;

namespace AutonomousBeamline.Instruments.Scpi;

/// <summary>What parsing an SCPI numeric reply found.</summary>
public enum ScpiNumberKind
{
    /// <summary>A finite number.</summary>
    Value,

    /// <summary>The overflow marker 9.9E37 (or beyond): the instrument could not measure.</summary>
    Overflow,

    /// <summary>Not an NR1/NR2/NR3 number.</summary>
    Malformed,
}

/// <summary>
/// SCPI numbers (NR1 <c>2</c>, NR2 <c>0.002</c>, NR3 <c>2.000000E-03</c>) and booleans, always culture-invariant:
/// the wire format must never depend on the control PC's regional settings.
/// </summary>
public static partial class ScpiNumber
{
    /// <summary>The value instruments send instead of a measurement they could not make.</summary>
    public const double OverflowValue = 9.9E37;

    [GeneratedRegex(@"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex NumericForm();

    /// <summary>Parses without throwing; <paramref name="value"/> is meaningful only for <see cref="ScpiNumberKind.Value"/>.</summary>
    public static ScpiNumberKind TryParse(string? text, out double value)
    {
        value = double.NaN;
        var trimmed = text?.Trim();
        if (string.IsNullOrEmpty(trimmed) || !NumericForm().IsMatch(trimmed)) return ScpiNumberKind.Malformed;
        if (!double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) || double.IsNaN(parsed))
            return ScpiNumberKind.Malformed;
        // 9.91E37 (SCPI's "not a number") and infinities fall in the same bucket: no usable measurement.
        if (Math.Abs(parsed) >= OverflowValue) return ScpiNumberKind.Overflow;
        value = parsed;
        return ScpiNumberKind.Value;
    }

    /// <summary>
    /// Parses a numeric reply to <paramref name="query"/>. Throws <see cref="ScpiOverflowException"/> for 9.9E37 and
    /// <see cref="ScpiReplyFormatException"/> for anything that is not a number, quoting the reply.
    /// </summary>
    public static double Parse(string reply, string query, string device = "SCPI instrument")
    {
        ArgumentNullException.ThrowIfNull(reply);
        return TryParse(reply, out var value) switch
        {
            ScpiNumberKind.Value => value,
            ScpiNumberKind.Overflow => throw new ScpiOverflowException(device, query, reply),
            _ => throw new ScpiReplyFormatException(device, query, reply, "a number (NR1, NR2 or NR3)"),
        };
    }

    /// <summary>Parses a boolean (<c>ON|OFF|1|0</c>, case-insensitive).</summary>
    public static bool ParseBoolean(string reply, string query, string device = "SCPI instrument")
    {
        ArgumentNullException.ThrowIfNull(reply);
        return TryParseBoolean(reply, out var value)
            ? value
            : throw new ScpiReplyFormatException(device, query, reply, "a boolean (1, 0, ON or OFF)");
    }

    public static bool TryParseBoolean(string? text, out bool value)
    {
        switch (text?.Trim().ToUpperInvariant())
        {
            case "1" or "ON":
                value = true;
                return true;
            case "0" or "OFF":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    /// <summary>The shortest text that reads back as exactly <paramref name="value"/> (NR1, NR2 or NR3 form).</summary>
    public static string Format(double value)
    {
        EnsureFinite(value);
        return value.ToString("R", CultureInfo.InvariantCulture);
    }

    /// <summary>NR3 with seven significant digits and a two-digit exponent, as instruments print readings: <c>2.000000E-03</c>.</summary>
    public static string FormatNr3(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value) || Math.Abs(value) >= OverflowValue)
            return "9.900000E+37";
        return value.ToString("0.000000E+00", CultureInfo.InvariantCulture);
    }

    /// <summary>Booleans go out as <c>1</c> or <c>0</c>.</summary>
    public static string FormatBoolean(bool value) => value ? "1" : "0";

    private static void EnsureFinite(double value)
    {
        if (!double.IsFinite(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, "an SCPI number must be finite");
    }
}

using System.Text.RegularExpressions;

namespace AutonomousBeamline.Instruments.Scpi;

/// <summary>
/// What a reply line must look like to be taken as the answer to its query. A line of another form is not that
/// query's reply (a noise line, a reply to an earlier query arriving late): the client doubts the exchange and
/// resynchronises instead of believing it.
/// </summary>
public enum ScpiReplyForm
{
    /// <summary>Any non-blank line (a query whose reply has no fixed grammar).</summary>
    AnyLine,

    /// <summary>An NR1, NR2 or NR3 number (the overflow value 9.9E37 included: it is a well-formed reply).</summary>
    Number,

    /// <summary><c>1</c>, <c>0</c>, <c>ON</c> or <c>OFF</c>.</summary>
    Boolean,

    /// <summary>An error-queue entry, <c>&lt;code&gt;,"&lt;text&gt;"</c>.</summary>
    ErrorEntry,

    /// <summary><c>MAKER,MODEL,SERIAL,FIRMWARE</c> with a maker and a model.</summary>
    Identity,

    /// <summary>The <c>1</c> that <c>*OPC?</c> answers.</summary>
    OperationComplete,
}

public static partial class ScpiReplyForms
{
    /// <summary>True when <paramref name="line"/> has the form <paramref name="form"/> promises.</summary>
    public static bool Accepts(this ScpiReplyForm form, string line)
    {
        var text = line.Trim();
        if (text.Length == 0) return false;
        return form switch
        {
            ScpiReplyForm.AnyLine => true,
            ScpiReplyForm.Number => ScpiNumber.TryParse(text, out _) != ScpiNumberKind.Malformed,
            ScpiReplyForm.Boolean => ScpiNumber.TryParseBoolean(text, out _),
            ScpiReplyForm.ErrorEntry => ErrorEntry().IsMatch(text),
            ScpiReplyForm.Identity => text.Split(',', 4, StringSplitOptions.TrimEntries) is [{ Length: > 0 }, { Length: > 0 }, _, _],
            ScpiReplyForm.OperationComplete => text == "1",
            _ => false,
        };
    }

    /// <summary>How a form is named in an error message.</summary>
    public static string Describe(this ScpiReplyForm form) => form switch
    {
        ScpiReplyForm.Number => "a number (NR1, NR2 or NR3)",
        ScpiReplyForm.Boolean => "a boolean (1, 0, ON or OFF)",
        ScpiReplyForm.ErrorEntry => "<code>,\"<text>\"",
        ScpiReplyForm.Identity => "MAKER,MODEL,SERIAL,FIRMWARE",
        ScpiReplyForm.OperationComplete => "1",
        _ => "a reply line",
    };

    /// <summary>The form a query's reply must have when the caller does not say: known from its header.</summary>
    public static ScpiReplyForm ForQuery(string query)
    {
        var header = query.Trim().Split([' ', '\t'], 2)[0].TrimStart(':').ToUpperInvariant();
        return header switch
        {
            "*OPC?" => ScpiReplyForm.OperationComplete,
            "*IDN?" => ScpiReplyForm.Identity,
            "SYST:ERR?" or "SYSTEM:ERROR?" or "SYST:ERR:NEXT?" or "SYSTEM:ERROR:NEXT?" => ScpiReplyForm.ErrorEntry,
            _ => ScpiReplyForm.AnyLine,
        };
    }

    [GeneratedRegex(@"^\s*([+-]?\d+)\s*,\s*""((?:[^""]|"""")*)""\s*$", RegexOptions.CultureInvariant)]
    internal static partial Regex ErrorEntry();
}

using System.Globalization;
using AutonomousBeamline.Instruments.Scpi;

namespace AutonomousBeamline.Instruments.Tests.Scpi;

public class ScpiNumberTests
{
    /// <summary>
    /// A culture with a decimal comma and a dot for thousands, like de-DE. Built by hand because the projects run
    /// with invariant globalization, where named cultures are not available.
    /// </summary>
    private static CultureInfo DecimalCommaCulture()
    {
        var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        culture.NumberFormat.NumberDecimalSeparator = ",";
        culture.NumberFormat.NumberGroupSeparator = ".";
        return culture;
    }

    private static T UnderDecimalComma<T>(Func<T> action)
    {
        var saved = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = DecimalCommaCulture();
        try
        {
            // Prove the culture really is hostile, so the test cannot pass by accident.
            Assert.Equal("0,5", 0.5.ToString(CultureInfo.CurrentCulture));
            return action();
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Theory]
    [InlineData("2", 2.0)]
    [InlineData("-2", -2.0)]
    [InlineData("0.002", 0.002)]
    [InlineData("+0.002", 0.002)]
    [InlineData(".5", 0.5)]
    [InlineData("2.000000E-03", 0.002)]
    [InlineData("-3.4215e+00", -3.4215)]
    [InlineData(" 1E3 ", 1000.0)]
    public void Parses_NR1_NR2_and_NR3_the_same_under_any_culture(string text, double expected)
    {
        Assert.Equal(expected, ScpiNumber.Parse(text, ":MEAS:VOLT?"), 15);
        Assert.Equal(expected, UnderDecimalComma(() => ScpiNumber.Parse(text, ":MEAS:VOLT?")), 15);
    }

    [Fact]
    public void Formats_culture_invariantly()
    {
        Assert.Equal("0.002", UnderDecimalComma(() => ScpiNumber.Format(0.002)));
        Assert.Equal("3.6", UnderDecimalComma(() => ScpiNumber.Format(3.6)));
        Assert.Equal("1E-05", UnderDecimalComma(() => ScpiNumber.Format(0.00001)));
        Assert.Equal("2.000000E-03", UnderDecimalComma(() => ScpiNumber.FormatNr3(0.002)));
        Assert.Equal("-3.421500E+00", UnderDecimalComma(() => ScpiNumber.FormatNr3(-3.4215)));
        Assert.Equal("1", ScpiNumber.FormatBoolean(true));
        Assert.Equal("0", ScpiNumber.FormatBoolean(false));
    }

    [Theory]
    [InlineData(0.002)]
    [InlineData(-0.0012345678901234)]
    [InlineData(3.6)]
    [InlineData(1e-9)]
    public void Format_round_trips_exactly(double value) =>
        Assert.Equal(value, ScpiNumber.Parse(ScpiNumber.Format(value), "test"));

    [Fact]
    public void Format_refuses_non_finite_values()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ScpiNumber.Format(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => ScpiNumber.Format(double.PositiveInfinity));
    }

    [Theory]
    [InlineData("9.9E37")]
    [InlineData("+9.900000E+37")]
    [InlineData("-9.9E37")]
    [InlineData("9.91E37")]
    public void Overflow_marker_is_a_distinct_result_and_exception(string text)
    {
        Assert.Equal(ScpiNumberKind.Overflow, ScpiNumber.TryParse(text, out _));
        var e = Assert.Throws<ScpiOverflowException>(() => ScpiNumber.Parse(text, ":MEAS:CURR?", "potentiostat"));
        Assert.Contains(":MEAS:CURR?", e.Message);
        Assert.Contains(text, e.Message);
        Assert.Equal("potentiostat", e.Device);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("1,5")]
    [InlineData("0,002")]
    [InlineData("1.2.3")]
    [InlineData("1e")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("3.4 V")]
    public void Malformed_reply_names_the_query_and_quotes_the_reply(string text)
    {
        Assert.Equal(ScpiNumberKind.Malformed, ScpiNumber.TryParse(text, out _));
        var e = Assert.Throws<ScpiReplyFormatException>(() => ScpiNumber.Parse(text, ":MEAS:VOLT?"));
        Assert.Contains("\":MEAS:VOLT?\"", e.Message);
        Assert.Contains($"\"{text}\"", e.Message);
        Assert.Equal(text, e.Reply);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("0", false)]
    [InlineData("ON", true)]
    [InlineData("off", false)]
    public void Booleans_are_read_from_on_off_1_0(string text, bool expected) =>
        Assert.Equal(expected, ScpiNumber.ParseBoolean(text, ":OUTP?"));

    [Fact]
    public void Malformed_boolean_names_the_query_and_quotes_the_reply()
    {
        var e = Assert.Throws<ScpiReplyFormatException>(() => ScpiNumber.ParseBoolean("2", ":OUTP?"));
        Assert.Contains("\":OUTP?\"", e.Message);
        Assert.Contains("\"2\"", e.Message);
    }
}

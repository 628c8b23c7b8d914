using System.Globalization;

namespace AutonomousBeamline.Core.Domain;

/// <summary>
/// Units as the run's files spell them (NeXus/UDUNITS: <c>degree</c>, <c>rad</c>, <c>angstrom</c>, <c>1/angstrom</c>,
/// <c>1/nm</c>, <c>eV</c>; <c>""</c> for a pure number such as a share), and as a person reads them (°, Å, Å⁻¹, eV).
/// </summary>
public static class Units
{
    /// <summary>The files' spelling of a unit as a detector header or a person may write it (FACILITY-ICD §3: <c>deg</c>, <c>1/A</c>, …).</summary>
    public static string Canonical(string? unit)
    {
        var u = (unit ?? "").Trim();
        return u.ToLowerInvariant().Replace(" ", "", StringComparison.Ordinal) switch
        {
            "" => "",
            "deg" or "degree" or "degrees" or "°" => "degree",
            "rad" or "radian" or "radians" => "rad",
            "a" or "å" or "angstrom" or "angstroms" => "angstrom",
            "1/a" or "a^-1" or "1/å" or "å^-1" or "å⁻¹" or "1/angstrom" or "angstrom^-1" or "inverse_angstrom" => "1/angstrom",
            "1/nm" or "nm^-1" or "nm⁻¹" or "inverse_nm" => "1/nm",
            "ev" => "eV",
            _ => u,
        };
    }

    /// <summary>The unit as a person reads it: "°", "Å", "Å⁻¹", "nm⁻¹", "eV"; "" for none.</summary>
    public static string Symbol(string? unit) => Canonical(unit) switch
    {
        "degree" => "°",
        "angstrom" => "Å",
        "1/angstrom" => "Å⁻¹",
        "1/nm" => "nm⁻¹",
        var u => u,
    };
}

/// <summary>
/// What a map's values are (config <c>learning.target</c>): the quantity, e.g. "peak position of NMC811", and its unit as
/// the files spell it (<see cref="Units"/>; "" for a share or a score, which have none). The map's mean and its spread are
/// both in this unit, so whatever shows them says it, with enough digits for the quantity's own scale.
/// </summary>
public sealed record MapQuantity(string Name, string Unit)
{
    /// <summary>The unit as a person reads it.</summary>
    public string Symbol => Units.Symbol(Unit);

    /// <summary>A number with the unit: "0.012 °", "0.00041 Å", "0.31" (a share).</summary>
    public string Format(double value) => WithUnit(Significant(value));

    /// <summary>A value and its σ, the value to the σ's precision: "6.0612 ± 0.0012 °", "0.312 ± 0.011".</summary>
    public string Format(double value, double sigma)
    {
        var decimals = Decimals(sigma, 2);
        return WithUnit($"{Fixed(value, decimals)} ± {Fixed(sigma, decimals)}");
    }

    /// <summary>
    /// <paramref name="digits"/> significant digits, so that a small number is not shown as 0 (a spread of 0.0004 Å under a
    /// fixed three decimals) nor a large one with digits it has not got; "n/a" for a number that is not finite.
    /// </summary>
    public static string Significant(double value, int digits = 3)
    {
        if (!double.IsFinite(value)) return "n/a";
        var decimals = Decimals(value, digits);
        return value.ToString(decimals == 0 ? "0" : "0." + new string('#', decimals), CultureInfo.InvariantCulture);
    }

    private string WithUnit(string number) => Symbol.Length == 0 ? number : $"{number} {Symbol}";

    private static string Fixed(double value, int decimals) =>
        double.IsFinite(value) ? value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : "n/a";

    /// <summary>Decimals that show <paramref name="digits"/> significant digits of <paramref name="value"/> (at most 10).</summary>
    private static int Decimals(double value, int digits)
    {
        if (!double.IsFinite(value) || value == 0) return Math.Max(0, digits - 1);
        var magnitude = (int)Math.Floor(Math.Log10(Math.Abs(value)));
        return Math.Clamp(digits - 1 - magnitude, 0, 10);
    }
}

using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Core.Tests.Domain;

/// <summary>A map's values say their unit and keep the digits their scale needs, whatever the target.</summary>
public sealed class MapQuantityTests
{
    [Theory]
    [InlineData(0.012, "0.012")]
    [InlineData(0.00041, "0.00041")] // a lattice parameter's spread: three fixed decimals showed it as 0
    [InlineData(0.0021, "0.0021")]
    [InlineData(1.23456, "1.23")]
    [InlineData(8345.23, "8345")]
    [InlineData(0, "0")]
    [InlineData(-0.0005, "-0.0005")]
    [InlineData(double.NaN, "n/a")]
    public void A_number_keeps_three_significant_digits(double value, string shown) => Assert.Equal(shown, MapQuantity.Significant(value));

    [Fact]
    public void Each_target_says_its_unit_and_a_share_none()
    {
        Assert.Equal("0.012 °", new MapQuantity("peak position of NMC811", "degree").Format(0.012));
        Assert.Equal("0.00041 Å", new MapQuantity("lattice parameter a of NMC811", "angstrom").Format(0.00041));
        Assert.Equal("0.1 eV", new MapQuantity("edge position", "eV").Format(0.1));
        Assert.Equal("0.031", new MapQuantity("fraction of FePO4", "").Format(0.031));
    }

    [Fact]
    public void A_value_is_given_to_its_sigmas_precision()
    {
        Assert.Equal("6.0612 ± 0.0012 °", new MapQuantity("peak position of NMC811", "degree").Format(6.06123, 0.00123));
        Assert.Equal("2.86120 ± 0.00041 Å", new MapQuantity("lattice parameter a of NMC811", "angstrom").Format(2.8612, 0.00041));
        Assert.Equal("0.312 ± 0.011", new MapQuantity("fraction of FePO4", "").Format(0.3121, 0.0112));
    }

    [Theory]
    [InlineData("deg", "degree", "°")]
    [InlineData("Degrees", "degree", "°")]
    [InlineData("1/A", "1/angstrom", "Å⁻¹")]
    [InlineData("A^-1", "1/angstrom", "Å⁻¹")]
    [InlineData("1/nm", "1/nm", "nm⁻¹")]
    [InlineData("rad", "rad", "rad")]
    [InlineData("eV", "eV", "eV")]
    [InlineData(null, "", "")]
    [InlineData("counts", "counts", "counts")]
    public void Units_as_the_files_spell_them_and_as_a_person_reads_them(string? header, string canonical, string symbol)
    {
        Assert.Equal(canonical, Units.Canonical(header));
        Assert.Equal(symbol, Units.Symbol(header));
    }
}

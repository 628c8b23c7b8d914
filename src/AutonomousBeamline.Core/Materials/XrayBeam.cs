using System.Globalization;
using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Core.Materials;

/// <summary>The monochromatic X-ray beam every diffraction calculation uses: its wavelength, or equivalently its energy.</summary>
public sealed record XrayBeam
{
    /// <summary>h·c in keV·Å (CODATA 2018): λ[Å] = 12.398 / E[keV].</summary>
    public const double HcKevAngstrom = 12.398419843320026;

    public XrayBeam(double wavelengthAngstrom)
    {
        if (!(wavelengthAngstrom > 0) || !double.IsFinite(wavelengthAngstrom))
            throw new ArgumentOutOfRangeException(nameof(wavelengthAngstrom), wavelengthAngstrom, "the X-ray wavelength must be a positive number of Å");
        WavelengthAngstrom = wavelengthAngstrom;
    }

    public double WavelengthAngstrom { get; }

    public double EnergyKev => HcKevAngstrom / WavelengthAngstrom;

    public static XrayBeam FromEnergyKev(double energyKev)
    {
        if (!(energyKev > 0) || !double.IsFinite(energyKev))
            throw new ArgumentOutOfRangeException(nameof(energyKev), energyKev, "the X-ray energy must be a positive number of keV");
        return new XrayBeam(HcKevAngstrom / energyKev);
    }

    /// <summary>The default 0.5 Å (about 24.8 keV) of the shipped LiFePO4 rehearsal.</summary>
    public static XrayBeam Default { get; } = new(BatteryMaterials.DefaultWavelengthAngstrom);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{WavelengthAngstrom:0.####} Å ({EnergyKev:0.###} keV)");
}

/// <summary>What a diffraction axis measures: the scattering angle 2θ (degrees) or the momentum transfer q (Å⁻¹).</summary>
public enum ScatteringVariable
{
    TwoThetaDeg,
    QInverseAngstrom,
}

/// <summary>
/// A detector's uniform axis together with what it measures, so that a d-spacing can be placed on it at a given beam.
/// Built from the axis the detector's <c>describe</c> reports (FACILITY-ICD §3: <c>x_name</c>, <c>x_unit</c>).
/// </summary>
public sealed record DiffractionAxis(UniformAxis Axis, ScatteringVariable Variable, double UnitScale = 1)
{
    private static readonly string[] TwoThetaNames = ["two_theta", "2theta", "2-theta", "tth", "twotheta", "2θ"];
    private static readonly string[] QNames = ["q", "momentum_transfer"];

    /// <summary>Interprets a described axis; null with <paramref name="why"/> when its name or unit says neither 2θ nor q.</summary>
    public static DiffractionAxis? TryFrom(UniformAxis axis, out string why)
    {
        var name = axis.Name.Trim().ToLowerInvariant();
        var unit = axis.Unit.Trim().ToLowerInvariant().Replace(" ", "", StringComparison.Ordinal);
        why = "";
        if (TwoThetaNames.Contains(name))
        {
            if (unit is "deg" or "degree" or "degrees" or "°") return new DiffractionAxis(axis, ScatteringVariable.TwoThetaDeg);
            if (unit is "rad" or "radian" or "radians") return new DiffractionAxis(axis, ScatteringVariable.TwoThetaDeg, Math.PI / 180);
            why = $"a 2θ axis in '{axis.Unit}' (expected deg or rad)";
            return null;
        }
        if (QNames.Contains(name))
        {
            if (unit is "1/angstrom" or "angstrom^-1" or "a^-1" or "1/a" or "å^-1" or "1/å" or "å⁻¹" or "inverse_angstrom")
                return new DiffractionAxis(axis, ScatteringVariable.QInverseAngstrom);
            if (unit is "1/nm" or "nm^-1" or "nm⁻¹" or "inverse_nm") return new DiffractionAxis(axis, ScatteringVariable.QInverseAngstrom, 10);
            why = $"a q axis in '{axis.Unit}' (expected 1/angstrom or 1/nm)";
            return null;
        }
        why = $"an axis named '{axis.Name}' ({axis.Unit}), neither two_theta nor q";
        return null;
    }

    public static DiffractionAxis From(UniformAxis axis) =>
        TryFrom(axis, out var why) ?? throw new ArgumentException($"the detector describes {why}", nameof(axis));

    public int N => Axis.N;

    /// <summary>The axis coordinate (in the axis' own unit) at which a spacing diffracts, or null when it does not (d &lt; λ/2).</summary>
    public double? PositionOf(double dSpacingAngstrom, XrayBeam beam)
    {
        if (Variable == ScatteringVariable.QInverseAngstrom)
        {
            var q = 2 * Math.PI / dSpacingAngstrom;
            return q > 4 * Math.PI / beam.WavelengthAngstrom ? null : q * UnitScale;
        }
        return Bragg.TwoThetaDeg(dSpacingAngstrom, beam.WavelengthAngstrom) is { } deg ? deg / UnitScale : null;
    }

    /// <summary>The spacing (Å) an axis coordinate stands for; NaN where the coordinate is not physical.</summary>
    public double DSpacingAt(double position, XrayBeam beam)
    {
        var value = position / (Variable == ScatteringVariable.QInverseAngstrom ? UnitScale : 1 / UnitScale);
        if (Variable == ScatteringVariable.QInverseAngstrom) return value > 0 ? 2 * Math.PI / value : double.NaN;
        return value > 0 && value < 180 ? Bragg.DSpacing(value, beam.WavelengthAngstrom) : double.NaN;
    }

    /// <summary>The 2θ (degrees) of an axis coordinate, for the instrumental width law.</summary>
    public double TwoThetaDegAt(double position, XrayBeam beam)
    {
        if (Variable == ScatteringVariable.TwoThetaDeg) return position * UnitScale;
        var d = DSpacingAt(position, beam);
        return Bragg.TwoThetaDeg(d, beam.WavelengthAngstrom) ?? 180;
    }

    /// <summary>Axis units per degree of 2θ at a position: converts the instrument's 2θ widths to this axis.</summary>
    public double UnitsPerTwoThetaDeg(double position, XrayBeam beam)
    {
        if (Variable == ScatteringVariable.TwoThetaDeg) return 1 / UnitScale;
        // q = 4π sin θ / λ, dq/d(2θ) = (2π/λ) cos θ per radian of 2θ.
        var theta = TwoThetaDegAt(position, beam) * Math.PI / 360;
        return 2 * Math.PI / beam.WavelengthAngstrom * Math.Cos(theta) * Math.PI / 180 * UnitScale;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Axis.N} points of {Axis.Name} from {Axis.Start} {Axis.Unit} in steps of {Axis.Step}");
}

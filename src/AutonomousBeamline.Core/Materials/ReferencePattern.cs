using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Core.Materials;

/// <summary>
/// The instrumental peak shape: a pseudo-Voigt whose full width at half maximum grows with tan θ
/// (FWHM = <see cref="FwhmDeg"/> + <see cref="FwhmTanThetaDeg"/> · tan θ), a simplified Caglioti law.
/// </summary>
/// <param name="Eta">Lorentzian share of the pseudo-Voigt, 0..1.</param>
public sealed record PeakShape(double FwhmDeg = 0.02, double FwhmTanThetaDeg = 0.05, double Eta = 0.4)
{
    public static PeakShape Default { get; } = new();

    public double FwhmAt(double twoThetaDeg) => FwhmDeg + FwhmTanThetaDeg * Math.Tan(twoThetaDeg * Math.PI / 360);
}

/// <summary>
/// A phase's calculated powder pattern sampled on a detector axis, as a density per degree whose peaks
/// (those inside the axis) add up to unit area. Fitting two of them to a measured pattern gives phase
/// amounts directly comparable with each other.
/// </summary>
public sealed class ReferencePattern
{
    private ReferencePattern(CrystalPhase phase, UniformAxis axis, double[] density)
    {
        Phase = phase;
        Axis = axis;
        Density = density;
    }

    public CrystalPhase Phase { get; }
    public UniformAxis Axis { get; }

    /// <summary>Intensity per degree of 2θ at each axis bin; Σ Density · step ≈ 1.</summary>
    public IReadOnlyList<double> Density { get; }

    /// <summary>
    /// Calculates the pattern of <paramref name="phase"/> on <paramref name="axis"/> (2θ in degrees).
    /// <paramref name="strain"/> scales the lattice and <paramref name="widthScale"/> the peak widths, for
    /// frames that differ a little from the nominal phase.
    /// </summary>
    public static ReferencePattern Calculate(CrystalPhase phase, UniformAxis axis,
        double wavelengthAngstrom = BatteryMaterials.DefaultWavelengthAngstrom, PeakShape? shape = null,
        double strain = 0, double widthScale = 1)
    {
        var density = new double[axis.N];
        AddPeaks(density, phase, axis, wavelengthAngstrom, shape ?? PeakShape.Default, strain, widthScale, 1.0);
        return new ReferencePattern(phase, axis, density);
    }

    /// <summary>
    /// Adds <paramref name="scale"/> times the unit-area pattern of a phase into <paramref name="target"/>
    /// (density per degree). Used by renderers that build a frame without allocating per phase.
    /// </summary>
    public static void AddPeaks(double[] target, CrystalPhase phase, UniformAxis axis, double wavelengthAngstrom,
        PeakShape shape, double strain, double widthScale, double scale) =>
        phase.AddDensity(target, new DiffractionAxis(axis, ScatteringVariable.TwoThetaDeg), new XrayBeam(wavelengthAngstrom), shape, strain, widthScale, scale);

    /// <summary>Unit-area pseudo-Voigt at offset <paramref name="x"/> from its centre.</summary>
    public static double PseudoVoigt(double x, double fwhm, double eta)
    {
        var halfWidth = fwhm / 2;
        var lorentz = halfWidth / (Math.PI * (x * x + halfWidth * halfWidth));
        const double fourLn2 = 2.772588722239781;
        var gauss = Math.Sqrt(fourLn2 / Math.PI) / fwhm * Math.Exp(-fourLn2 * x * x / (fwhm * fwhm));
        return eta * lorentz + (1 - eta) * gauss;
    }
}

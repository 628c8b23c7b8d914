using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Materials;

namespace AutonomousBeamline.Simulators.Physics;

/// <summary>Knobs of the diffraction renderer. Rates are counts per second at the nominal beam (signalScale 1).</summary>
/// <param name="PeakCountsPerSecond">Integrated counts of all Bragg peaks of a single-phase sample.</param>
/// <param name="BackgroundCountsPerSecond">Background per bin at the low-angle end of the axis.</param>
/// <param name="HumpCountsPerSecond">Height per bin of the amorphous hump (electrolyte, separator, windows).</param>
/// <param name="HumpCenterDeg">Centre of the amorphous hump, 2θ.</param>
/// <param name="HumpWidthDeg">Standard deviation of the amorphous hump, 2θ.</param>
/// <param name="DarkCountsPerSecond">Counts per bin with no beam at all.</param>
/// <param name="StrainSigma">Per-frame random isotropic lattice strain (standard deviation) of each phase.</param>
/// <param name="WidthJitter">Per-frame random relative peak broadening (standard deviation).</param>
/// <param name="BackgroundJitter">Per-frame random relative change of the background level (standard deviation).</param>
public sealed record XrdRendererOptions(
    double PeakCountsPerSecond = 4e5,
    double BackgroundCountsPerSecond = 1500,
    double HumpCountsPerSecond = 400,
    double HumpCenterDeg = 11.0,
    double HumpWidthDeg = 2.5,
    double DarkCountsPerSecond = 0.05,
    double StrainSigma = 1.5e-4,
    double WidthJitter = 0.04,
    double BackgroundJitter = 0.05,
    double WavelengthAngstrom = BatteryMaterials.DefaultWavelengthAngstrom)
{
    public static XrdRendererOptions Default { get; } = new();
}

/// <summary>
/// Renders operando diffraction patterns of the two-phase LiFePO4/FePO4 electrode: a smooth decaying
/// background with an amorphous hump, the peaks of both phases weighted by the FePO4 fraction, a little
/// per-frame strain and broadening, and Poisson counting noise.
/// </summary>
public sealed class XrdPatternRenderer : IXrdRenderer
{
    private readonly XrdRendererOptions _options;
    private readonly PeakShape _shape;
    private readonly double[] _backgroundShape;

    /// <param name="axis">Detector axis in 2θ degrees; <see cref="BatteryMaterials.DefaultXrdAxis"/> when null.</param>
    /// <param name="options">Rates and jitter; <see cref="XrdRendererOptions.Default"/> when null.</param>
    /// <param name="shape">Instrumental peak shape; <see cref="PeakShape.Default"/> when null.</param>
    public XrdPatternRenderer(UniformAxis? axis = null, XrdRendererOptions? options = null, PeakShape? shape = null)
    {
        Axis = axis ?? BatteryMaterials.DefaultXrdAxis;
        if (Axis.N < 2 || !(Axis.Step > 0)) throw new ArgumentException($"axis needs at least 2 bins and a positive step, got n={Axis.N} step={Axis.Step}", nameof(axis));
        _options = options ?? XrdRendererOptions.Default;
        _shape = shape ?? PeakShape.Default;
        _backgroundShape = new double[Axis.N];
        var span = Axis[Axis.N - 1] - Axis.Start;
        for (var i = 0; i < Axis.N; i++)
        {
            // A quadratic that falls to 40 % across the axis, flattening at the high-angle end, like air and
            // Compton scattering falling off; plus the hump of the amorphous parts of the cell.
            var u = (Axis[i] - Axis.Start) / span;
            var decay = _options.BackgroundCountsPerSecond * (1 - 1.2 * u + 0.6 * u * u);
            var h = (Axis[i] - _options.HumpCenterDeg) / _options.HumpWidthDeg;
            _backgroundShape[i] = decay + _options.HumpCountsPerSecond * Math.Exp(-0.5 * h * h);
        }
    }

    public UniformAxis Axis { get; }

    public float[] Render(double fePO4Fraction, double exposureS, double signalScale, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (!double.IsFinite(fePO4Fraction)) throw new ArgumentOutOfRangeException(nameof(fePO4Fraction), fePO4Fraction, "phase fraction must be finite");
        if (!(exposureS > 0) || !double.IsFinite(exposureS)) throw new ArgumentOutOfRangeException(nameof(exposureS), exposureS, "exposure must be positive");
        if (!(signalScale >= 0) || !double.IsFinite(signalScale)) throw new ArgumentOutOfRangeException(nameof(signalScale), signalScale, "signal scale must be >= 0");
        var fraction = Math.Clamp(fePO4Fraction, 0, 1);
        var expected = new double[Axis.N];
        if (signalScale > 0)
        {
            var peakCounts = _options.PeakCountsPerSecond * exposureS * signalScale;
            // The references are densities per degree; one bin collects density · step.
            AddPhase(expected, BatteryMaterials.LiFePO4, (1 - fraction) * peakCounts * Axis.Step, rng);
            AddPhase(expected, BatteryMaterials.FePO4, fraction * peakCounts * Axis.Step, rng);
            var backgroundScale = exposureS * signalScale * (1 + _options.BackgroundJitter * Gaussian(rng));
            for (var i = 0; i < expected.Length; i++) expected[i] += backgroundScale * _backgroundShape[i];
        }
        var dark = _options.DarkCountsPerSecond * exposureS;
        var counts = new float[Axis.N];
        for (var i = 0; i < counts.Length; i++) counts[i] = Poisson(Math.Max(0, expected[i]) + dark, rng);
        return counts;
    }

    private void AddPhase(double[] expected, CrystalPhase phase, double scale, Random rng)
    {
        var strain = _options.StrainSigma * Gaussian(rng);
        var widthScale = Math.Max(0.5, 1 + _options.WidthJitter * Gaussian(rng));
        if (scale <= 0) return;
        ReferencePattern.AddPeaks(expected, phase, Axis, _options.WavelengthAngstrom, _shape, strain, widthScale, scale);
    }

    private static double Gaussian(Random rng)
    {
        // Box-Muller; 1 - NextDouble() keeps the logarithm's argument away from zero.
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A Poisson draw: exact (Knuth) for small means, the normal limit above, where it is indistinguishable.</summary>
    internal static float Poisson(double mean, Random rng)
    {
        if (mean <= 0) return 0;
        if (mean < 30)
        {
            var limit = Math.Exp(-mean);
            var k = 0;
            var p = rng.NextDouble();
            while (p > limit) { k++; p *= rng.NextDouble(); }
            return k;
        }
        return (float)Math.Max(0, Math.Round(mean + Math.Sqrt(mean) * Gaussian(rng)));
    }
}

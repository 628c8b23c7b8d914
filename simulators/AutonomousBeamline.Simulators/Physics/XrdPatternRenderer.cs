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
    // The wavelength applies to the olivine default; a renderer built from a SimulatedDiffraction takes the sample's beam.
{
    public static XrdRendererOptions Default { get; } = new();
}

/// <summary>
/// Renders operando diffraction patterns of an electrode from a materials description (by default the two-phase
/// LiFePO4/FePO4 olivines): a smooth decaying background with an amorphous hump, the peaks of every phase weighted and
/// strained as the reaction has them at the local progress, a little per-frame strain and broadening, and Poisson
/// counting noise. The axis may be 2θ or q; the wavelength is the simulated beamline's.
/// </summary>
public sealed class XrdPatternRenderer : IXrdRenderer
{
    private readonly XrdRendererOptions _options;
    private readonly PeakShape _shape;
    private readonly double[] _backgroundShape;
    private readonly DiffractionAxis _diffraction;
    private readonly SimulatedDiffraction _sample;
    private readonly List<int> _phaseIndex = [];

    /// <param name="axis">Detector axis in 2θ degrees; <see cref="BatteryMaterials.DefaultXrdAxis"/> when null.</param>
    /// <param name="options">Rates and jitter; <see cref="XrdRendererOptions.Default"/> when null.</param>
    /// <param name="shape">Instrumental peak shape; <see cref="PeakShape.Default"/> when null.</param>
    public XrdPatternRenderer(UniformAxis? axis = null, XrdRendererOptions? options = null, PeakShape? shape = null)
        : this(axis ?? BatteryMaterials.DefaultXrdAxis, SimulatedDiffraction.Olivines with
        {
            Shape = shape ?? PeakShape.Default,
            Beam = new XrayBeam((options ?? XrdRendererOptions.Default).WavelengthAngstrom),
        }, options)
    {
    }

    /// <param name="axis">Detector axis, 2θ (degrees) or q (Å⁻¹), as the detector describes it.</param>
    /// <param name="sample">What the sample is made of and how it reacts.</param>
    public XrdPatternRenderer(UniformAxis axis, SimulatedDiffraction sample, XrdRendererOptions? options = null)
    {
        Axis = axis;
        if (Axis.N < 2 || !(Axis.Step > 0)) throw new ArgumentException($"axis needs at least 2 bins and a positive step, got n={Axis.N} step={Axis.Step}", nameof(axis));
        _diffraction = DiffractionAxis.From(axis);
        _sample = sample;
        foreach (var phase in sample.Reaction.Phases)
            _phaseIndex.Add(sample.Phases.Select(p => p.Name).ToList().IndexOf(phase.Name) is var i and >= 0
                ? i : throw new ArgumentException($"the reaction names phase '{phase.Name}', which the sample does not have", nameof(sample)));
        _options = options ?? XrdRendererOptions.Default;
        _shape = sample.Shape;
        _backgroundShape = new double[Axis.N];
        var span = Axis[Axis.N - 1] - Axis.Start;
        for (var i = 0; i < Axis.N; i++)
        {
            // A quadratic that falls to 40 % across the axis, flattening at the high-angle end, like air and
            // Compton scattering falling off; plus the hump of the amorphous parts of the cell.
            var u = (Axis[i] - Axis.Start) / span;
            var decay = _options.BackgroundCountsPerSecond * (1 - 1.2 * u + 0.6 * u * u);
            // The hump sits where it would in 2θ on the default axis; on a q axis, at the same spacing.
            var h = _diffraction.Variable == ScatteringVariable.TwoThetaDeg
                ? (Axis[i] - _options.HumpCenterDeg) / _options.HumpWidthDeg
                : (u - (_options.HumpCenterDeg - 5) / 20.5) / (_options.HumpWidthDeg / 20.5);
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
            var shares = _sample.Reaction.Fractions(fraction);
            for (var r = 0; r < shares.Length; r++)
            {
                var reacting = _sample.Reaction.Phases[r];
                AddPhase(expected, _sample.Phases[_phaseIndex[r]], reacting.Strain(fraction), shares[r] * peakCounts * Axis.Step, rng);
            }
            var backgroundScale = exposureS * signalScale * (1 + _options.BackgroundJitter * Gaussian(rng));
            for (var i = 0; i < expected.Length; i++) expected[i] += backgroundScale * _backgroundShape[i];
        }
        var dark = _options.DarkCountsPerSecond * exposureS;
        var counts = new float[Axis.N];
        for (var i = 0; i < counts.Length; i++) counts[i] = Poisson(Math.Max(0, expected[i]) + dark, rng);
        return counts;
    }

    private void AddPhase(double[] expected, IDiffractionPhase phase, double latticeStrain, double scale, Random rng)
    {
        var strain = latticeStrain + _options.StrainSigma * Gaussian(rng);
        var widthScale = Math.Max(0.5, 1 + _options.WidthJitter * Gaussian(rng));
        if (scale <= 0) return;
        phase.AddDensity(expected, _diffraction, _sample.Beam, _shape, strain, widthScale, scale);
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

using AutonomousBeamline.Core.Materials;

namespace AutonomousBeamline.Simulators.Physics;

/// <summary>
/// Renders normalised absorption spectra of the electrode as the mixture (1 − p)·first + p·last of its reference spectra at the
/// local progress p (by default the Fe K-edge of <see cref="FeKEdgeModel"/>), with Gaussian
/// noise of standard deviation <c>noiseAtUnitDwell / sqrt(dwellS · signalScale)</c> (the counting statistics
/// of a transmission measurement).
/// </summary>
public sealed class XasSpectrumRenderer : IXasRenderer
{
    private readonly IAbsorptionReference _start;
    private readonly IAbsorptionReference _end;
    private readonly double _noiseAtUnitDwell;

    /// <param name="model">Edge model; <see cref="BatteryMaterials.FeKEdge"/> when null.</param>
    /// <param name="noiseAtUnitDwell">Noise on normalised μ for 1 s per point at the nominal beam.</param>
    public XasSpectrumRenderer(FeKEdgeModel? model = null, double noiseAtUnitDwell = 0.004)
        : this((model ?? BatteryMaterials.FeKEdge).Reduced, (model ?? BatteryMaterials.FeKEdge).Oxidised, noiseAtUnitDwell)
    {
    }

    /// <param name="start">The spectrum at progress 0 (discharged).</param>
    /// <param name="end">The spectrum at progress 1 (charged).</param>
    public XasSpectrumRenderer(IAbsorptionReference start, IAbsorptionReference end, double noiseAtUnitDwell = 0.004)
    {
        if (!(noiseAtUnitDwell >= 0)) throw new ArgumentOutOfRangeException(nameof(noiseAtUnitDwell), noiseAtUnitDwell, "noise must be >= 0");
        _start = start ?? throw new ArgumentNullException(nameof(start));
        _end = end ?? throw new ArgumentNullException(nameof(end));
        _noiseAtUnitDwell = noiseAtUnitDwell;
    }

    /// <remarks>With no beam (signalScale 0) there is no transmitted intensity to take a ratio of; the detector
    /// server then reports zeros, which analysers flag as an empty spectrum.</remarks>
    public float[] Render(IReadOnlyList<double> energiesEv, double fePO4Fraction, double dwellS, double signalScale, Random rng)
    {
        ArgumentNullException.ThrowIfNull(energiesEv);
        ArgumentNullException.ThrowIfNull(rng);
        if (!double.IsFinite(fePO4Fraction)) throw new ArgumentOutOfRangeException(nameof(fePO4Fraction), fePO4Fraction, "phase fraction must be finite");
        if (!(dwellS > 0) || !double.IsFinite(dwellS)) throw new ArgumentOutOfRangeException(nameof(dwellS), dwellS, "dwell must be positive");
        if (!(signalScale >= 0) || !double.IsFinite(signalScale)) throw new ArgumentOutOfRangeException(nameof(signalScale), signalScale, "signal scale must be >= 0");
        var mu = new float[energiesEv.Count];
        if (signalScale == 0) return mu;
        var sigma = _noiseAtUnitDwell / Math.Sqrt(dwellS * signalScale);
        var f = Math.Clamp(fePO4Fraction, 0, 1);
        for (var i = 0; i < mu.Length; i++)
        {
            var u1 = 1.0 - rng.NextDouble();
            var u2 = rng.NextDouble();
            var noise = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            var e = energiesEv[i];
            mu[i] = (float)((1 - f) * _start.Mu(e) + f * _end.Mu(e) + sigma * noise);
        }
        return mu;
    }
}

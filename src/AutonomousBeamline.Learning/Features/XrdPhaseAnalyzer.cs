using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Core.Materials;

namespace AutonomousBeamline.Learning.Features;

/// <summary>Settings of <see cref="XrdPhaseAnalyzer"/>.</summary>
/// <param name="BackgroundDegree">Degree of the Chebyshev polynomial that absorbs the smooth background and amorphous hump.</param>
/// <param name="WavelengthAngstrom">The beamline's X-ray wavelength (config <c>beamline:</c>); every peak position follows from it.</param>
/// <param name="SaturationCounts">A bin at or above this many counts is saturated (the counter's ceiling).</param>
/// <param name="EmptyMeanCounts">A frame averaging fewer counts per bin carries no beam (shutter closed, beam lost).</param>
/// <param name="MinimumSignalSigmas">The summed phase amounts must exceed this many standard errors, else the frame shows no diffraction.</param>
/// <param name="ModelPeakShifts">Also fit each phase's derivative with respect to strain and peak width, which follows
/// lattice and broadening changes between frames and keeps them from biasing the phase amounts.</param>
/// <param name="MaximumUnexplained">Above this <see cref="XrdFeatures.Unexplained"/> the references do not describe the frame and
/// it is flagged <see cref="XrdPhaseAnalyzer.FlagMisfit"/>; a frame 10–20 % off its references stays well below (about 0.1).</param>
/// <param name="MismatchBlocks">The axis is cut into this many blocks of equal reference intensity; the fraction's σ is the larger of
/// the least-squares σ and the block-robust (sandwich) σ, which sees model mismatch (intensities, widths off the references)
/// as correlated residuals that counting noise alone does not. 0 keeps the least-squares σ. On frames 10–20 % off their
/// references 16 blocks give z-scores with an RMS of 0.9–1.0 where counting noise alone gives 4–6 (docs/benchmarks.md).</param>
/// <param name="ShiftIterations">At most this many re-linearisations when a phase's peaks moved further than its derivative reaches.</param>
/// <param name="ReportedPhase">Whose fraction <see cref="XrdFeatures.PhaseFraction"/> reports; the last phase when null.</param>
public sealed record XrdAnalyzerOptions(
    int BackgroundDegree = 8,
    double WavelengthAngstrom = BatteryMaterials.DefaultWavelengthAngstrom,
    double SaturationCounts = 1_000_000,
    double EmptyMeanCounts = 1.0,
    double MinimumSignalSigmas = 8,
    bool ModelPeakShifts = true,
    double MaximumUnexplained = 0.35,
    int MismatchBlocks = 16,
    int ShiftIterations = 6,
    string? ReportedPhase = null)
{
    public static XrdAnalyzerOptions Default { get; } = new();
}

/// <summary>
/// Fits a diffraction pattern as a non-negative combination of any number of phase references plus a polynomial
/// background, with a per-phase peak shift (strain) and width change, and reports each phase's fraction, shift and peak
/// position, how much the references leave unexplained, and σ that include model mismatch.
/// </summary>
/// <remarks>
/// The references are computed once on the detector's axis (2θ or q, at the configured wavelength); while the fitted shifts
/// stay within the derivatives' reach a frame costs one pass over its bins and a few small solves, which keeps analysis well
/// above a thousand patterns per second. A phase allowed a large lattice change (a solid solution) is first located by a
/// coarse search of its shift, then re-linearised until the shift settles. Thread-safe: no state changes after construction.
/// </remarks>
public sealed class XrdPhaseAnalyzer : IXrdAnalyzer
{
    public const string FlagWrongKind = "wrong-kind";
    public const string FlagWrongLength = "wrong-length";
    public const string FlagWrongAxis = "wrong-axis";
    public const string FlagNonFinite = "non-finite";
    public const string FlagSaturated = "saturated";
    public const string FlagEmpty = "empty";
    public const string FlagFlat = "flat";
    public const string FlagMisfit = "reference-misfit";

    /// <summary>Default reach of a phase's shift when the materials do not give one: a few 10⁻⁴ of jitter, no lattice change.</summary>
    public const double DefaultMaximumStrain = 0.003;
    // The linearised shift is trusted up to this; beyond it the basis is rebuilt at the new strain.
    private const double RebuildStrain = 5e-4;
    /// <summary>A phase allowed more than this lattice change is a solid solution: its shift is searched coarsely before the
    /// fit, and its peaks may move across a run by more than their width.</summary>
    public const double SolidSolutionStrain = 0.004;
    // A phase below this share of the pattern does not move the basis (its shift is too uncertain to follow).
    private const double MinimumFractionToShift = 0.05;
    private const double StrainStep = 2e-4, WidthStep = 0.02;
    // The unexplained share is capped here: beyond it, "nothing fits" is all it says.
    private const double MaximumReported = 10;

    private readonly XrdAnalyzerOptions _options;
    private readonly IReadOnlyList<IDiffractionPhase> _phases;
    private readonly double[] _maxStrain;
    private readonly PeakShape _shape;
    private readonly XrayBeam _beam;
    private readonly int[] _blockOfBin;
    private readonly int _reported;
    private readonly XrdBasis _nominal;

    /// <param name="axis">The detector axis frames arrive on; <see cref="BatteryMaterials.DefaultXrdAxis"/> when null. Pass the axis
    /// the detector's <c>describe</c> reported.</param>
    /// <param name="reduced">Reference phase for fraction 0; LiFePO4 when null.</param>
    /// <param name="oxidised">Reference phase for fraction 1; FePO4 when null.</param>
    public XrdPhaseAnalyzer(UniformAxis? axis = null, XrdAnalyzerOptions? options = null,
        CrystalPhase? reduced = null, CrystalPhase? oxidised = null, PeakShape? shape = null)
        : this(axis ?? BatteryMaterials.DefaultXrdAxis,
            new DiffractionMaterials([reduced ?? BatteryMaterials.LiFePO4, oxidised ?? BatteryMaterials.FePO4], shape ?? PeakShape.Default), options)
    {
    }

    /// <exception cref="ArgumentException">The axis is neither 2θ nor q, there are no phases, or a phase has no peak on the axis.</exception>
    public XrdPhaseAnalyzer(UniformAxis axis, DiffractionMaterials materials, XrdAnalyzerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(materials);
        Axis = axis;
        Diffraction = DiffractionAxis.From(axis);
        _options = options ?? XrdAnalyzerOptions.Default;
        if (_options.BackgroundDegree < 0) throw new ArgumentOutOfRangeException(nameof(options), _options.BackgroundDegree, "background degree must be >= 0");
        if (_options.MismatchBlocks is < 3 and not 0) throw new ArgumentOutOfRangeException(nameof(options), _options.MismatchBlocks, "mismatch blocks must be 0 (off) or at least 3");
        if (materials.Phases.Count == 0) throw new ArgumentException("no phases to fit: without references, patterns go to the decomposition instead", nameof(materials));
        _phases = materials.Phases;
        _shape = materials.Shape;
        _beam = new XrayBeam(_options.WavelengthAngstrom);
        _maxStrain = _phases.Select(p => materials.MaximumStrain.TryGetValue(p.Name, out var m) ? m : DefaultMaximumStrain).ToArray();
        _reported = _options.ReportedPhase is { } name
            ? _phases.Select(p => p.Name).ToList().IndexOf(name) is var i and >= 0 ? i : throw new ArgumentException($"the reported phase '{name}' is not among {string.Join(", ", _phases.Select(p => p.Name))}", nameof(options))
            : _phases.Count - 1;
        _blockOfBin = Blocks();
        _nominal = Build(new double[_phases.Count]);
    }

    public UniformAxis Axis { get; }

    /// <summary>The axis with what it measures (2θ or q).</summary>
    public DiffractionAxis Diffraction { get; }

    public IReadOnlyList<IDiffractionPhase> Phases => _phases;

    public XrdFeatures Analyze(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var (y, rejected) = Counts(frame);
        if (rejected is not null) return Flagged(rejected);

        var (basis, fit, strains) = FitPattern(y);
        if (fit is null) return Flagged(FlagFlat);

        var noise = NoiseVariance(y);
        var (total, totalSigma) = basis.TotalAmount(fit);
        if (!(total > 0) || total < _options.MinimumSignalSigmas * totalSigma)
        {
            // No phase fits. Structure well beyond the noise is still a pattern: one the references cannot place.
            return fit.Rss > 2 * y.Length * noise
                ? new XrdFeatures(double.NaN, double.NaN, FlagMisfit) { Unexplained = MaximumReported }
                : Flagged(FlagFlat);
        }
        var fractions = basis.Fractions(fit);
        var mismatch = _options.MismatchBlocks > 0 ? basis.SandwichVariances(fit) : null;
        var unexplained = Math.Min(MaximumReported, basis.Unexplained(fit, y, noise));

        var phases = new PhaseResult[_phases.Count];
        for (var p = 0; p < _phases.Count; p++)
        {
            var (shift, shiftSigma) = basis.ShiftWithSigma(fit, p);
            var strain = Math.Clamp(strains[p] + shift, -_maxStrain[p], _maxStrain[p]);
            var sigma = Math.Sqrt(Math.Max(fractions[p].Variance, mismatch?[p] ?? 0));
            var phase = _phases[p];
            phases[p] = new PhaseResult(phase.Name, fractions[p].Value, sigma, strain, shiftSigma,
                Diffraction.PositionOf(phase.StrongestDSpacing * (1 + strain), _beam) ?? double.NaN,
                phase.LatticeA is { } a ? a * (1 + strain) : null);
        }
        var reported = phases[_reported];
        var flag = unexplained > _options.MaximumUnexplained ? FlagMisfit : null;
        return new XrdFeatures(reported.Fraction, reported.FractionSigma, flag) { Phases = phases, Unexplained = unexplained };
    }

    /// <summary>True when some phase is allowed a lattice change beyond <see cref="SolidSolutionStrain"/>.</summary>
    public bool FollowsMovingPhases => _maxStrain.Any(m => m > SolidSolutionStrain);

    /// <summary>The fit of the frame's pattern as <see cref="Analyze"/> makes it; null for a frame it would flag before fitting
    /// or on which no phase fits.</summary>
    public ReferenceExplanation? Explain(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var (y, rejected) = Counts(frame);
        if (rejected is not null) return null;
        var (basis, fit, _) = FitPattern(y);
        if (fit is null || !(basis.TotalAmount(fit).Total > 0)) return null;
        var (fitted, phases) = basis.Model(fit);
        return new ReferenceExplanation(fitted, phases);
    }

    /// <summary>The frame's counts, or why the frame cannot be fitted (the flag): another kind or axis, or counts that carry no
    /// usable pattern (not finite, saturated, empty, flat).</summary>
    private (double[] Counts, string? Flag) Counts(Frame frame)
    {
        var header = frame.Header;
        var raw = frame.Intensities;
        if (header.Kind != FrameKind.Xrd) return ([], FlagWrongKind);
        if (raw.Length != header.N || raw.Length != Axis.N) return ([], FlagWrongLength);
        if (frame.X is not null || header.XStart is not { } start || header.XStep is not { } step
            || Math.Abs(start - Axis.Start) > 1e-6 * Math.Max(1, Math.Abs(Axis.Start))
            || Math.Abs(step - Axis.Step) > 1e-6 * Axis.Step)
            return ([], FlagWrongAxis);

        var y = new double[raw.Length];
        double sum = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        for (var k = 0; k < raw.Length; k++)
        {
            double v = raw[k];
            if (!double.IsFinite(v)) return ([], FlagNonFinite);
            y[k] = v;
            sum += v;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        if (max >= _options.SaturationCounts) return ([], FlagSaturated);
        if (sum / y.Length < _options.EmptyMeanCounts) return ([], FlagEmpty);
        if (max - min <= 0) return ([], FlagFlat);
        return (y, null);
    }


    /// <summary>The pattern's fit: each solid solution's shift searched, then re-linearised until the shifts settle.</summary>
    private (XrdBasis Basis, LinearFit? Fit, double[] Strains) FitPattern(double[] y)
    {
        var strains = new double[_phases.Count];
        var basis = _nominal;
        if (_options.ModelPeakShifts && SearchShifts(y, strains)) basis = Build(strains);
        var fit = basis.Fit(y);
        for (var iteration = 0; _options.ModelPeakShifts && iteration < _options.ShiftIterations && fit is not null; iteration++)
        {
            var moved = false;
            var shifts = new double[_phases.Count];
            var shares = basis.Fractions(fit);
            for (var p = 0; p < _phases.Count; p++)
            {
                // Only a shift the data resolve moves the basis: a nearly absent phase's shift is noise.
                var (shift, sigma) = basis.ShiftWithSigma(fit, p);
                if (shares[p].Value < MinimumFractionToShift || !(Math.Abs(shift) > 3 * sigma)) continue;
                shifts[p] = Math.Clamp(strains[p] + shift, -_maxStrain[p], _maxStrain[p]) - strains[p];
                moved |= Math.Abs(shifts[p]) > RebuildStrain;
            }
            if (!moved) break;
            for (var p = 0; p < _phases.Count; p++) strains[p] += shifts[p];
            basis = Build(strains);
            fit = basis.Fit(y);
        }
        return (basis, fit, strains);
    }

    private static XrdFeatures Flagged(string flag) => new(double.NaN, double.NaN, flag);

    /// <summary>
    /// The noise variance per bin from the scatter of second differences (robust, by their median): independent of
    /// whether the counts are raw, scaled or corrected, which a threshold on χ² against √counts would not be.
    /// </summary>
    private static double NoiseVariance(double[] y)
    {
        // Every fourth second difference: the median of a thousand is as robust as of all of them, at a quarter of the sort.
        const int stride = 4;
        var d = new double[(y.Length - 2 + stride - 1) / stride];
        for (int i = 1, n = 0; i < y.Length - 1; i += stride, n++) d[n] = Math.Abs(y[i] - 0.5 * (y[i - 1] + y[i + 1]));
        Array.Sort(d);
        var mad = d[d.Length / 2] * 1.4826;
        return mad * mad / 1.5;
    }

    /// <summary>Coarse search of the shift of each phase allowed a large lattice change; true when any moved.</summary>
    private bool SearchShifts(double[] y, double[] strains)
    {
        var any = false;
        for (var p = 0; p < _phases.Count; p++)
        {
            if (_maxStrain[p] <= SolidSolutionStrain) continue;
            var steps = (int)Math.Ceiling(_maxStrain[p] / StrainStep / 2);
            double best = double.NegativeInfinity, bestStrain = 0;
            for (var s = -steps; s <= steps; s++)
            {
                var strain = s * _maxStrain[p] / steps;
                var column = Render(_phases[p], strain, 1);
                double dot = 0, norm = 0;
                for (var i = 0; i < y.Length; i++) { dot += column[i] * y[i]; norm += column[i] * column[i]; }
                var score = norm > 0 ? dot / Math.Sqrt(norm) : double.NegativeInfinity;
                if (score > best) { best = score; bestStrain = strain; }
            }
            strains[p] = bestStrain;
            any |= bestStrain != 0;
        }
        return any;
    }

    private double[] Render(IDiffractionPhase phase, double strain, double widthScale)
    {
        var density = new double[Axis.N];
        phase.AddDensity(density, Diffraction, _beam, _shape, strain, widthScale, 1.0);
        return density;
    }

    /// <summary>Blocks of bins holding equal shares of the references' summed intensity, for the mismatch σ.</summary>
    private int[] Blocks()
    {
        var blocks = Math.Max(1, _options.MismatchBlocks);
        var total = new double[Axis.N];
        foreach (var phase in _phases) phase.AddDensity(total, Diffraction, _beam, _shape, 0, 1, 1.0);
        var cumulative = 0.0;
        var sum = total.Sum();
        var block = new int[Axis.N];
        for (var i = 0; i < Axis.N; i++)
        {
            cumulative += total[i];
            block[i] = sum > 0 ? Math.Min(blocks - 1, (int)(cumulative / sum * blocks)) : i * blocks / Axis.N;
        }
        return block;
    }

    private XrdBasis Build(double[] strains)
    {
        var raw = new List<double[]>();
        var kinds = new List<(int Phase, ColumnKind Kind)>();
        for (var p = 0; p < _phases.Count; p++)
        {
            var reference = Render(_phases[p], strains[p], 1);
            if (!(reference.Sum() > 0))
                throw new ArgumentException($"no peaks of {_phases[p].Name} fall inside {Axis.Start}..{Axis[Axis.N - 1]} {Axis.Unit} at {_beam}", nameof(strains));
            raw.Add(reference);
            kinds.Add((p, ColumnKind.Amount));
        }
        if (_options.ModelPeakShifts)
        {
            for (var p = 0; p < _phases.Count; p++)
            {
                // Central differences; the steps are small against real strains/broadening yet far above rounding.
                raw.Add(Difference(Render(_phases[p], strains[p] + StrainStep, 1), Render(_phases[p], strains[p] - StrainStep, 1), 2 * StrainStep));
                kinds.Add((p, ColumnKind.Strain));
                var width = Difference(Render(_phases[p], strains[p], 1 + WidthStep), Render(_phases[p], strains[p], 1 - WidthStep), 2 * WidthStep);
                if (width.Any(v => v != 0)) { raw.Add(width); kinds.Add((p, ColumnKind.Width)); }
            }
        }
        foreach (var column in Chebyshev(Axis.N, _options.BackgroundDegree))
        {
            raw.Add(column);
            kinds.Add((-1, ColumnKind.Background));
        }
        return new XrdBasis(raw, kinds, _blockOfBin, Math.Max(1, _options.MismatchBlocks), _phases.Count);
    }

    private static double[] Difference(double[] plus, double[] minus, double step)
    {
        var d = new double[plus.Length];
        for (var i = 0; i < d.Length; i++) d[i] = (plus[i] - minus[i]) / step;
        return d;
    }

    /// <summary>Chebyshev polynomials T0..Tdegree on the axis mapped to [-1, 1]: well conditioned where plain powers are not.</summary>
    private static IEnumerable<double[]> Chebyshev(int n, int degree)
    {
        var previous = new double[n];
        var current = new double[n];
        for (var i = 0; i < n; i++)
        {
            previous[i] = 1;
            current[i] = n == 1 ? 0 : 2.0 * i / (n - 1) - 1;
        }
        yield return (double[])previous.Clone();
        if (degree == 0) yield break;
        yield return (double[])current.Clone();
        for (var d = 2; d <= degree; d++)
        {
            var next = new double[n];
            for (var i = 0; i < n; i++)
            {
                var x = n == 1 ? 0 : 2.0 * i / (n - 1) - 1;
                next[i] = 2 * x * current[i] - previous[i];
            }
            previous = current;
            current = next;
            yield return (double[])current.Clone();
        }
    }
}

using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Core.Materials;

namespace AutonomousBeamline.Learning.Features;

/// <summary>Settings of <see cref="XrdPhaseAnalyzer"/>.</summary>
/// <param name="BackgroundDegree">Degree of the Chebyshev polynomial that absorbs the smooth background and amorphous hump.</param>
/// <param name="SaturationCounts">A bin at or above this many counts is saturated (the counter's ceiling).</param>
/// <param name="EmptyMeanCounts">A frame averaging fewer counts per bin carries no beam (shutter closed, beam lost).</param>
/// <param name="MinimumSignalSigmas">The summed phase amounts must exceed this many standard errors, else the frame shows no diffraction.</param>
/// <param name="ModelPeakShifts">Also fit each phase's derivative with respect to strain and peak width, which follows
/// small lattice and broadening changes between frames and keeps them from biasing the phase amounts.</param>
public sealed record XrdAnalyzerOptions(
    int BackgroundDegree = 8,
    double WavelengthAngstrom = BatteryMaterials.DefaultWavelengthAngstrom,
    double SaturationCounts = 1_000_000,
    double EmptyMeanCounts = 1.0,
    double MinimumSignalSigmas = 8,
    bool ModelPeakShifts = true)
{
    public static XrdAnalyzerOptions Default { get; } = new();
}

/// <summary>
/// Extracts the FePO4 phase fraction from a diffraction pattern by one linear least-squares fit of the two
/// phase references (plus their strain/width derivatives) together with a polynomial background.
/// </summary>
/// <remarks>
/// The design matrix depends only on the axis, so its normal-equation inverse is computed once here; a
/// frame then costs one pass over its bins (Xᵀy and yᵀy) and a small matrix-vector product, which keeps
/// analysis well above a thousand patterns per second. The fraction is b/(a+b) of the fitted phase amounts,
/// its uncertainty propagated from the least-squares covariance s²(XᵀX)⁻¹. Thread-safe: no state changes after construction.
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

    private const int Reduced = 0;   // LiFePO4 column
    private const int Oxidised = 1;  // FePO4 column

    private readonly XrdAnalyzerOptions _options;
    private readonly float[][] _columns;      // unit-norm basis columns
    private readonly double[] _columnScale;   // original norm of each column
    private readonly double[,] _gramInverse;  // (XᵀX)⁻¹ of the unit-norm columns

    /// <param name="axis">The detector axis frames must arrive on (2θ, degrees); <see cref="BatteryMaterials.DefaultXrdAxis"/> when null.
    /// Pass the axis the detector's <c>describe</c> reported.</param>
    /// <param name="options">Fit and flag settings; <see cref="XrdAnalyzerOptions.Default"/> when null.</param>
    /// <param name="reduced">Reference phase for fraction 0; LiFePO4 when null.</param>
    /// <param name="oxidised">Reference phase for fraction 1; FePO4 when null.</param>
    /// <param name="shape">Instrumental peak shape; <see cref="PeakShape.Default"/> when null.</param>
    public XrdPhaseAnalyzer(UniformAxis? axis = null, XrdAnalyzerOptions? options = null,
        CrystalPhase? reduced = null, CrystalPhase? oxidised = null, PeakShape? shape = null)
    {
        Axis = axis ?? BatteryMaterials.DefaultXrdAxis;
        _options = options ?? XrdAnalyzerOptions.Default;
        if (_options.BackgroundDegree < 0) throw new ArgumentOutOfRangeException(nameof(options), _options.BackgroundDegree, "background degree must be >= 0");
        reduced ??= BatteryMaterials.LiFePO4;
        oxidised ??= BatteryMaterials.FePO4;
        shape ??= PeakShape.Default;

        var raw = new List<double[]>
        {
            Reference(reduced, shape, 0, 1),
            Reference(oxidised, shape, 0, 1),
        };
        if (_options.ModelPeakShifts)
        {
            // Central differences; the steps are small against real strains/broadening yet far above rounding.
            const double strainStep = 2e-4, widthStep = 0.02;
            foreach (var phase in new[] { reduced, oxidised })
            {
                raw.Add(Difference(Reference(phase, shape, strainStep, 1), Reference(phase, shape, -strainStep, 1)));
                raw.Add(Difference(Reference(phase, shape, 0, 1 + widthStep), Reference(phase, shape, 0, 1 - widthStep)));
            }
        }
        raw.AddRange(Chebyshev(Axis.N, _options.BackgroundDegree));

        var p = raw.Count;
        _columns = new float[p][];
        _columnScale = new double[p];
        for (var c = 0; c < p; c++)
        {
            var norm = Math.Sqrt(raw[c].Sum(v => v * v));
            if (!(norm > 0))
                throw new ArgumentException($"basis column {c} is zero on this axis: {(c < 2 ? $"no reflections of {(c == 0 ? reduced.Name : oxidised.Name)} fall inside {Axis.Start}..{Axis[Axis.N - 1]} deg" : "the axis is too short for the background polynomial")}", nameof(axis));
            _columnScale[c] = norm;
            _columns[c] = raw[c].Select(v => (float)(v / norm)).ToArray();
        }
        var gram = new double[p, p];
        for (var i = 0; i < p; i++)
        for (var j = 0; j <= i; j++)
        {
            var s = 0.0;
            var ci = _columns[i]; var cj = _columns[j];
            for (var k = 0; k < ci.Length; k++) s += (double)ci[k] * cj[k];
            gram[i, j] = s; gram[j, i] = s;
        }
        _gramInverse = LinearAlgebra.InvertSymmetricPositiveDefinite(gram, "XRD phase basis");
    }

    public UniformAxis Axis { get; }

    public XrdFeatures Analyze(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var header = frame.Header;
        var y = frame.Intensities;
        if (header.Kind != FrameKind.Xrd) return Flagged(FlagWrongKind);
        if (y.Length != header.N || y.Length != Axis.N) return Flagged(FlagWrongLength);
        if (frame.X is not null || header.XStart is not { } start || header.XStep is not { } step
            || Math.Abs(start - Axis.Start) > 1e-6 * Math.Max(1, Math.Abs(Axis.Start))
            || Math.Abs(step - Axis.Step) > 1e-6 * Axis.Step)
            return Flagged(FlagWrongAxis);

        var p = _columns.Length;
        var projections = new double[p];
        var sumSquares = 0.0;
        var sum = 0.0;
        var min = double.PositiveInfinity;
        var max = double.NegativeInfinity;
        for (var k = 0; k < y.Length; k++)
        {
            double v = y[k];
            if (!double.IsFinite(v)) return Flagged(FlagNonFinite);
            sum += v;
            sumSquares += v * v;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        if (max >= _options.SaturationCounts) return Flagged(FlagSaturated);
        if (sum / y.Length < _options.EmptyMeanCounts) return Flagged(FlagEmpty);
        if (max - min <= 0) return Flagged(FlagFlat);

        for (var c = 0; c < p; c++)
        {
            var column = _columns[c];
            var s = 0.0;
            for (var k = 0; k < column.Length; k++) s += column[k] * (double)y[k];
            projections[c] = s;
        }
        var beta = new double[p];
        var explained = 0.0;
        for (var i = 0; i < p; i++)
        {
            var s = 0.0;
            for (var j = 0; j < p; j++) s += _gramInverse[i, j] * projections[j];
            beta[i] = s;
            explained += s * projections[i];
        }
        var residualVariance = Math.Max(sumSquares - explained, 0) / Math.Max(1, y.Length - p);

        // Back to phase amounts in counts·degree (the references have unit area).
        var a = beta[Reduced] / _columnScale[Reduced];
        var b = beta[Oxidised] / _columnScale[Oxidised];
        var varA = residualVariance * _gramInverse[Reduced, Reduced] / (_columnScale[Reduced] * _columnScale[Reduced]);
        var varB = residualVariance * _gramInverse[Oxidised, Oxidised] / (_columnScale[Oxidised] * _columnScale[Oxidised]);
        var covAB = residualVariance * _gramInverse[Reduced, Oxidised] / (_columnScale[Reduced] * _columnScale[Oxidised]);

        var total = a + b;
        var totalSigma = Math.Sqrt(Math.Max(varA + varB + 2 * covAB, 0));
        if (!(total > 0) || total < _options.MinimumSignalSigmas * totalSigma) return Flagged(FlagFlat);

        // Clip negative amounts first: a phase that is absent fits as a small negative number in noise.
        var aPos = Math.Max(a, 0);
        var bPos = Math.Max(b, 0);
        var fraction = Math.Clamp(bPos / (aPos + bPos), 0, 1);
        // Delta method on f = b / (a + b): ∂f/∂a = -b/(a+b)², ∂f/∂b = a/(a+b)².
        var t2 = total * total;
        var da = -b / t2;
        var db = a / t2;
        var sigma = Math.Sqrt(Math.Max(da * da * varA + db * db * varB + 2 * da * db * covAB, 0));
        return new XrdFeatures(fraction, sigma, null);
    }

    private static XrdFeatures Flagged(string flag) => new(double.NaN, double.NaN, flag);

    private double[] Reference(CrystalPhase phase, PeakShape shape, double strain, double widthScale)
    {
        var density = new double[Axis.N];
        ReferencePattern.AddPeaks(density, phase, Axis, _options.WavelengthAngstrom, shape, strain, widthScale, 1.0);
        return density;
    }

    private static double[] Difference(double[] plus, double[] minus)
    {
        var d = new double[plus.Length];
        for (var i = 0; i < d.Length; i++) d[i] = plus[i] - minus[i];
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

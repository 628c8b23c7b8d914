namespace AutonomousBeamline.Core.Materials;

/// <summary>
/// A crystalline phase as a diffraction pattern can be fitted with: its pattern on any axis at any beam, under a small
/// isotropic strain (every spacing times 1 + strain) and a peak-width scale. The density has unit area over the axis,
/// so fitted amounts of different phases compare directly.
/// </summary>
public interface IDiffractionPhase
{
    string Name { get; }

    /// <summary>The spacing (Å) of the phase's strongest feature, unstrained: its reported peak position follows it.</summary>
    double StrongestDSpacing { get; }

    /// <summary>The cell length a, Å, when the phase is given as a lattice; null for a measured pattern.</summary>
    double? LatticeA { get; }

    /// <summary>Adds <paramref name="scale"/> times the phase's unit-area density (per axis unit) into <paramref name="target"/>.</summary>
    void AddDensity(double[] target, DiffractionAxis axis, XrayBeam beam, PeakShape shape, double strain, double widthScale, double scale);
}

/// <summary>A phase given by its lattice and a list of reflections with relative intensities (any crystal system).</summary>
public sealed class LatticePhase : IDiffractionPhase
{
    public LatticePhase(string name, ILattice lattice, IReadOnlyList<Reflection> reflections)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(lattice);
        if (reflections.Count == 0) throw new ArgumentException($"phase {name} has no reflections", nameof(reflections));
        foreach (var r in reflections)
        {
            if (r.H == 0 && r.K == 0 && r.L == 0) throw new ArgumentException($"phase {name} lists (0 0 0), which is not a reflection", nameof(reflections));
            if (!(r.RelativeIntensity > 0) || !double.IsFinite(r.RelativeIntensity))
                throw new ArgumentException($"reflection ({r.H} {r.K} {r.L}) of {name} has non-positive intensity {r.RelativeIntensity}", nameof(reflections));
        }
        Name = name;
        Lattice = lattice;
        Reflections = reflections;
        StrongestDSpacing = lattice.DSpacing(Strongest.H, Strongest.K, Strongest.L);
    }

    public string Name { get; }
    public ILattice Lattice { get; }
    public IReadOnlyList<Reflection> Reflections { get; }
    public double StrongestDSpacing { get; }
    public double? LatticeA => Lattice.A;

    private Reflection Strongest => Reflections.MaxBy(r => r.RelativeIntensity)!;

    /// <summary>The same phase with each reflection's intensity changed by <paramref name="change"/> (a simulator's deliberately different physics).</summary>
    public LatticePhase WithIntensities(Func<Reflection, double> change) =>
        new(Name, Lattice, Reflections.Select(r => r with { RelativeIntensity = Math.Max(1e-6, change(r)) }).ToArray());

    public void AddDensity(double[] target, DiffractionAxis axis, XrayBeam beam, PeakShape shape, double strain, double widthScale, double scale) =>
        PeakRenderer.Add(target, axis, beam, shape, Reflections.Select(r => (Lattice.DSpacing(r.H, r.K, r.L), r.RelativeIntensity)), strain, widthScale, scale);
}

/// <summary>Pseudo-Voigt peaks at given spacings on any axis; each phase's peaks inside the axis add up to unit area.</summary>
public static class PeakRenderer
{
    // Lorentzian tails fall slowly; beyond this many widths they are below the counting noise of any frame.
    private const double WindowInFwhm = 25;

    public static void Add(double[] target, DiffractionAxis axis, XrayBeam beam, PeakShape shape,
        IEnumerable<(double DSpacing, double Intensity)> peaks, double strain, double widthScale, double scale)
    {
        var a = axis.Axis;
        if (target.Length != a.N) throw new ArgumentException($"target has {target.Length} bins, the axis {a.N}", nameof(target));
        if (!(a.Step > 0)) throw new ArgumentException($"axis step must be positive, got {a.Step}", nameof(axis));
        if (!(widthScale > 0)) throw new ArgumentOutOfRangeException(nameof(widthScale), widthScale, "peak width scale must be positive");
        var first = a.Start;
        var last = a[a.N - 1];
        var inside = new List<(double Center, double Intensity)>();
        foreach (var (d, intensity) in peaks)
            if (axis.PositionOf(d * (1 + strain), beam) is { } x && x >= first && x <= last) inside.Add((x, intensity));
        var total = inside.Sum(p => p.Intensity);
        if (total <= 0) return;
        foreach (var (center, intensity) in inside)
        {
            var fwhm = shape.FwhmAt(axis.TwoThetaDegAt(center, beam)) * axis.UnitsPerTwoThetaDeg(center, beam) * widthScale;
            var area = scale * intensity / total;
            var from = Math.Max(0, (int)Math.Floor((center - WindowInFwhm * fwhm - a.Start) / a.Step));
            var to = Math.Min(a.N - 1, (int)Math.Ceiling((center + WindowInFwhm * fwhm - a.Start) / a.Step));
            for (var i = from; i <= to; i++)
                target[i] += area * ReferencePattern.PseudoVoigt(a[i] - center, fwhm, shape.Eta);
        }
    }
}

/// <summary>
/// A phase known from a measured (or calculated) reference pattern: intensity against 2θ (at the wavelength it was taken
/// at) or q. On another axis or beam it is resampled through the d-spacing; a strain stretches it in d. Its background
/// should have been removed (the fit adds its own); what remains is normalised to unit area on each axis.
/// </summary>
public sealed class MeasuredPhase : IDiffractionPhase
{
    private readonly double[] _d;          // ascending spacing
    private readonly double[] _intensity;  // per point, ≥ 0

    /// <param name="positions">2θ in degrees (with <paramref name="wavelengthAngstrom"/>) or q in Å⁻¹.</param>
    public MeasuredPhase(string name, ScatteringVariable variable, IReadOnlyList<double> positions, IReadOnlyList<double> intensities, double? wavelengthAngstrom)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (positions.Count != intensities.Count) throw new ArgumentException($"reference {name}: {positions.Count} positions but {intensities.Count} intensities");
        if (positions.Count < 8) throw new ArgumentException($"reference {name} has {positions.Count} points; a pattern needs at least 8");
        if (variable == ScatteringVariable.TwoThetaDeg && wavelengthAngstrom is not > 0)
            throw new ArgumentException($"reference {name} is on a 2θ axis, so it needs the wavelength it was measured at");
        var points = new List<(double D, double I)>(positions.Count);
        for (var i = 0; i < positions.Count; i++)
        {
            var x = positions[i];
            double d = variable == ScatteringVariable.QInverseAngstrom
                ? (x > 0 ? 2 * Math.PI / x : double.NaN)
                : (x > 0 && x < 180 ? Bragg.DSpacing(x, wavelengthAngstrom!.Value) : double.NaN);
            if (!double.IsFinite(d) || !double.IsFinite(intensities[i]))
                throw new ArgumentException($"reference {name}: point {i + 1} ({x}, {intensities[i]}) is not a finite position on the axis");
            points.Add((d, intensities[i]));
        }
        points.Sort((p, q) => p.D.CompareTo(q.D));
        // A measured pattern's own background is whatever lies under its weakest tenth: the fit's polynomial takes backgrounds.
        var floor = points.Select(p => p.I).Order().ElementAt(points.Count / 10);
        _d = points.Select(p => p.D).ToArray();
        _intensity = points.Select(p => Math.Max(0, p.I - floor)).ToArray();
        if (!(_intensity.Max() > 0)) throw new ArgumentException($"reference {name} is flat: no peaks above its background");
        Name = name;
        StrongestDSpacing = _d[Array.IndexOf(_intensity, _intensity.Max())];
    }

    public string Name { get; }
    public double StrongestDSpacing { get; }
    public double? LatticeA => null;

    /// <summary>Spacing range the pattern covers, Å.</summary>
    public (double Min, double Max) DRange => (_d[0], _d[^1]);

    /// <remarks>The width scale is not applied: a measured pattern carries its instrument's widths.</remarks>
    public void AddDensity(double[] target, DiffractionAxis axis, XrayBeam beam, PeakShape shape, double strain, double widthScale, double scale)
    {
        var a = axis.Axis;
        if (target.Length != a.N) throw new ArgumentException($"target has {target.Length} bins, the axis {a.N}", nameof(target));
        var values = new double[a.N];
        var total = 0.0;
        for (var i = 0; i < a.N; i++)
        {
            var d = axis.DSpacingAt(a[i], beam) / (1 + strain);
            values[i] = Interpolate(d);
            total += values[i] * a.Step;
        }
        if (!(total > 0)) return;
        for (var i = 0; i < a.N; i++) target[i] += scale * values[i] / total;
    }

    private double Interpolate(double d)
    {
        if (!double.IsFinite(d) || d < _d[0] || d > _d[^1]) return 0;
        var hi = Array.BinarySearch(_d, d);
        if (hi >= 0) return _intensity[hi];
        hi = ~hi;
        var lo = hi - 1;
        var t = (d - _d[lo]) / (_d[hi] - _d[lo]);
        return _intensity[lo] + t * (_intensity[hi] - _intensity[lo]);
    }
}

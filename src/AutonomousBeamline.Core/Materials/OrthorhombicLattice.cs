namespace AutonomousBeamline.Core.Materials;

/// <summary>An orthorhombic cell (all angles 90°), lengths in Å.</summary>
public sealed record OrthorhombicLattice(double A, double B, double C) : ILattice
{
    /// <summary>Interplanar spacing of (h k l): 1/d² = h²/a² + k²/b² + l²/c².</summary>
    public double DSpacing(int h, int k, int l)
    {
        if (h == 0 && k == 0 && l == 0) throw new ArgumentException("(0 0 0) is not a reflection");
        var inverseSquare = (double)h * h / (A * A) + (double)k * k / (B * B) + (double)l * l / (C * C);
        return 1.0 / Math.Sqrt(inverseSquare);
    }

    /// <summary>The cell under an isotropic strain: every length times (1 + strain).</summary>
    public OrthorhombicLattice Strained(double strain) => new(A * (1 + strain), B * (1 + strain), C * (1 + strain));
}

/// <summary>One reflection (h k l) with its intensity relative to the strongest (100).</summary>
public sealed record Reflection(int H, int K, int L, double RelativeIntensity);

/// <summary>Systematic absences of space group Pnma (No. 62), the olivine LiFePO4 and heterosite FePO4 share.</summary>
public static class PnmaExtinctions
{
    /// <summary>True when (h k l) may diffract in Pnma.</summary>
    public static bool IsAllowed(int h, int k, int l)
    {
        if (h == 0 && k == 0 && l == 0) return false;
        // The n-glide normal to a: 0kl only with k + l even.
        if (h == 0 && !IsEven(k + l)) return false;
        // The a-glide normal to c: hk0 only with h even.
        if (l == 0 && !IsEven(h)) return false;
        // The 2₁ screw axes: h00, 0k0, 00l only with the index even.
        if (k == 0 && l == 0 && !IsEven(h)) return false;
        if (h == 0 && l == 0 && !IsEven(k)) return false;
        if (h == 0 && k == 0 && !IsEven(l)) return false;
        return true;
    }

    private static bool IsEven(int n) => (n & 1) == 0;
}

/// <summary>A Pnma phase (the built-in olivines): its lattice and its reflections, checked against the space group's absences.</summary>
public sealed class CrystalPhase : IDiffractionPhase
{
    public CrystalPhase(string name, OrthorhombicLattice lattice, IReadOnlyList<Reflection> reflections)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        foreach (var r in reflections)
        {
            if (!PnmaExtinctions.IsAllowed(r.H, r.K, r.L))
                throw new ArgumentException($"reflection ({r.H} {r.K} {r.L}) of {name} is forbidden in Pnma", nameof(reflections));
            if (!(r.RelativeIntensity > 0))
                throw new ArgumentException($"reflection ({r.H} {r.K} {r.L}) of {name} has non-positive intensity {r.RelativeIntensity}", nameof(reflections));
        }
        Name = name;
        Lattice = lattice;
        Reflections = reflections;
        var strongest = reflections.MaxBy(r => r.RelativeIntensity) ?? throw new ArgumentException($"phase {name} has no reflections", nameof(reflections));
        StrongestDSpacing = lattice.DSpacing(strongest.H, strongest.K, strongest.L);
    }

    public double StrongestDSpacing { get; }
    public double? LatticeA => Lattice.A;

    public void AddDensity(double[] target, DiffractionAxis axis, XrayBeam beam, PeakShape shape, double strain, double widthScale, double scale) =>
        PeakRenderer.Add(target, axis, beam, shape, Reflections.Select(r => (Lattice.DSpacing(r.H, r.K, r.L), r.RelativeIntensity)), strain, widthScale, scale);

    public string Name { get; }
    public OrthorhombicLattice Lattice { get; }
    public IReadOnlyList<Reflection> Reflections { get; }

    /// <summary>Peak positions (2θ, degrees) and relative intensities at a wavelength; reflections beyond 2θ = 180° are left out.</summary>
    public IReadOnlyList<(Reflection Reflection, double TwoThetaDeg)> Peaks(double wavelengthAngstrom, double strain = 0)
    {
        var lattice = strain == 0 ? Lattice : Lattice.Strained(strain);
        var peaks = new List<(Reflection, double)>(Reflections.Count);
        foreach (var r in Reflections)
        {
            var twoTheta = Bragg.TwoThetaDeg(lattice.DSpacing(r.H, r.K, r.L), wavelengthAngstrom);
            if (twoTheta is { } value) peaks.Add((r, value));
        }
        return peaks;
    }
}

/// <summary>Bragg's law, λ = 2 d sin θ.</summary>
public static class Bragg
{
    /// <summary>The scattering angle 2θ in degrees, or null when the spacing is too small to diffract (d &lt; λ/2).</summary>
    public static double? TwoThetaDeg(double dSpacingAngstrom, double wavelengthAngstrom)
    {
        if (!(dSpacingAngstrom > 0)) throw new ArgumentOutOfRangeException(nameof(dSpacingAngstrom), dSpacingAngstrom, "d-spacing must be positive");
        if (!(wavelengthAngstrom > 0)) throw new ArgumentOutOfRangeException(nameof(wavelengthAngstrom), wavelengthAngstrom, "wavelength must be positive");
        var sinTheta = wavelengthAngstrom / (2 * dSpacingAngstrom);
        if (sinTheta > 1) return null;
        return 2 * Math.Asin(sinTheta) * 180 / Math.PI;
    }

    /// <summary>The spacing that diffracts at 2θ (degrees).</summary>
    public static double DSpacing(double twoThetaDeg, double wavelengthAngstrom) =>
        wavelengthAngstrom / (2 * Math.Sin(twoThetaDeg * Math.PI / 360));
}

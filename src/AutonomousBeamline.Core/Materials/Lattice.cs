namespace AutonomousBeamline.Core.Materials;

/// <summary>The crystal systems a lattice may be given in. Rhombohedral cells are given in their hexagonal setting.</summary>
public enum CrystalSystem
{
    Cubic,
    Tetragonal,
    Hexagonal,
    Orthorhombic,
    Monoclinic,
}

/// <summary>Anything that knows the spacing of its lattice planes.</summary>
public interface ILattice
{
    /// <summary>Interplanar spacing of (h k l) in Å.</summary>
    double DSpacing(int h, int k, int l);

    /// <summary>The first cell length, Å: what a refined "lattice parameter" reports.</summary>
    double A { get; }
}

/// <summary>
/// A unit cell in any of the common crystal systems, lengths in Å and the monoclinic angle β in degrees (unique axis b).
/// Parameters a system does not use are ignored (b = a and c = a for cubic, b = a for tetragonal and hexagonal).
/// </summary>
public sealed record Lattice(CrystalSystem System, double A, double B, double C, double BetaDeg = 90) : ILattice
{
    public static Lattice Cubic(double a) => new(CrystalSystem.Cubic, a, a, a);
    public static Lattice Tetragonal(double a, double c) => new(CrystalSystem.Tetragonal, a, a, c);
    public static Lattice Hexagonal(double a, double c) => new(CrystalSystem.Hexagonal, a, a, c);
    public static Lattice Orthorhombic(double a, double b, double c) => new(CrystalSystem.Orthorhombic, a, b, c);

    /// <summary>Checks the parameters; null when they are a cell, else what is wrong.</summary>
    public string? Problem()
    {
        foreach (var (name, value) in new[] { ("a", A), ("b", B), ("c", C) })
            if (!(value > 0) || !double.IsFinite(value)) return $"the cell length {name} must be a positive number of Å, got {value}";
        if (System == CrystalSystem.Monoclinic && !(BetaDeg > 60 && BetaDeg < 150)) return $"the monoclinic angle beta must be between 60 and 150 degrees, got {BetaDeg}";
        return null;
    }

    public double DSpacing(int h, int k, int l)
    {
        if (h == 0 && k == 0 && l == 0) throw new ArgumentException("(0 0 0) is not a reflection");
        double inverseSquare = System switch
        {
            CrystalSystem.Cubic => (h * h + k * k + l * l) / (A * A),
            CrystalSystem.Tetragonal => (h * h + k * k) / (A * A) + l * l / (C * C),
            CrystalSystem.Hexagonal => 4.0 / 3.0 * (h * h + h * k + k * k) / (A * A) + l * l / (C * C),
            CrystalSystem.Orthorhombic => h * h / (A * A) + k * k / (B * B) + l * l / (C * C),
            CrystalSystem.Monoclinic => Monoclinic(h, k, l),
            _ => throw new InvalidOperationException($"unknown crystal system {System}"),
        };
        return 1.0 / Math.Sqrt(inverseSquare);
    }

    private double Monoclinic(int h, int k, int l)
    {
        var beta = BetaDeg * Math.PI / 180;
        var sin2 = Math.Sin(beta) * Math.Sin(beta);
        return (h * h / (A * A) + k * k * sin2 / (B * B) + l * l / (C * C) - 2.0 * h * l * Math.Cos(beta) / (A * C)) / sin2;
    }
}

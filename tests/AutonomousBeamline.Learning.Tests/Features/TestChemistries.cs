using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Materials;

namespace AutonomousBeamline.Learning.Tests.Features;

/// <summary>Chemistries other than the built-in olivines, as a user would describe them (lattice and reflection list).</summary>
internal static class TestChemistries
{
    /// <summary>A Ni-rich layered oxide, R-3m in the hexagonal setting (−h + k + l = 3n).</summary>
    public static LatticePhase Nmc { get; } = new("NMC811", Lattice.Hexagonal(2.872, 14.20),
    [
        new(0, 0, 3, 100), new(1, 0, 1, 40), new(0, 0, 6, 5), new(0, 1, 2, 8), new(1, 0, 4, 80), new(0, 1, 5, 10),
        new(1, 0, 7, 8), new(0, 1, 8, 12), new(1, 1, 0, 12), new(1, 1, 3, 10), new(0, 2, 1, 4), new(1, 1, 6, 5),
    ]);

    /// <summary>A rock-salt phase (NiO-like) that a layered oxide can form at its surface and nobody gave a reference for.</summary>
    public static LatticePhase RockSalt { get; } = new("rock-salt", Lattice.Cubic(4.177),
        [new(1, 1, 1, 60), new(2, 0, 0, 100), new(2, 2, 0, 55), new(3, 1, 1, 20), new(2, 2, 2, 15), new(4, 0, 0, 8)]);

    /// <summary>Spinel LiMn2O4 and the delithiated λ-MnO2: a two-phase cubic pair.</summary>
    public static LatticePhase Lmo { get; } = new("LiMn2O4", Lattice.Cubic(8.24), Spinel(45));

    public static LatticePhase LambdaMnO2 { get; } = new("lambda-MnO2", Lattice.Cubic(8.05), Spinel(30));

    private static Reflection[] Spinel(double i311) =>
        [new(1, 1, 1, 100), new(3, 1, 1, i311), new(2, 2, 2, 8), new(4, 0, 0, 40), new(3, 3, 1, 10), new(5, 1, 1, 15), new(4, 4, 0, 20), new(5, 3, 1, 8)];

    /// <summary>A q axis (Å⁻¹) as an area detector's azimuthal integration delivers it.</summary>
    public static UniformAxis QAxis { get; } = new(3000, "q", "1/angstrom", 0.8, 0.0015);

    /// <summary>17 keV (0.7293 Å), the beamline of the first complaint.</summary>
    public static XrayBeam At17Kev { get; } = XrayBeam.FromEnergyKev(17);

    /// <summary>A 2θ axis suited to 17 keV.</summary>
    public static UniformAxis TwoThetaAt17Kev { get; } = new(4096, "two_theta", "deg", 7.0, 0.007);
}

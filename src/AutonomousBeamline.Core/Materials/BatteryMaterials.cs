using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Core.Materials;

/// <summary>
/// The numbers every part of the project shares about the LiFePO4 / FePO4 two-phase electrode: lattices,
/// reflections, the X-ray wavelength, the detector axis and the Fe K-edge. The simulators render from them and
/// the analysers fit against them, so a change here moves both sides together.
/// </summary>
public static class BatteryMaterials
{
    /// <summary>Default synchrotron wavelength in Å (about 24.8 keV): hard enough to see through a coin cell.</summary>
    public const double DefaultWavelengthAngstrom = 0.5;

    /// <summary>The detector's reduced 1D axis as FACILITY-ICD §3 describes it: 4096 bins of 0.005° from 5°.</summary>
    public static UniformAxis DefaultXrdAxis { get; } = new(4096, "two_theta", "deg", 5.0, 0.005);

    /// <summary>Lithiated olivine (discharged), Pnma.</summary>
    public static OrthorhombicLattice LiFePO4Lattice { get; } = new(10.33, 6.01, 4.69);

    /// <summary>Delithiated heterosite (charged), Pnma.</summary>
    public static OrthorhombicLattice FePO4Lattice { get; } = new(9.82, 5.79, 4.78);

    /// <summary>
    /// Main olivine reflections with relative intensities shaped after the LiFePO4 powder pattern.
    /// Both phases share the structure type, so FePO4 uses the same list with its own lattice and a few
    /// intensities changed where lithium removal is known to alter them.
    /// </summary>
    public static IReadOnlyList<Reflection> LiFePO4Reflections { get; } =
    [
        new(2, 0, 0, 38), new(1, 0, 1, 55), new(2, 1, 0, 28), new(0, 1, 1, 18),
        new(1, 1, 1, 72), new(2, 0, 1, 48), new(0, 2, 0, 42), new(2, 1, 1, 88),
        new(3, 0, 1, 22), new(3, 1, 1, 100), new(1, 2, 1, 45), new(4, 1, 0, 24),
        new(1, 0, 2, 12), new(2, 2, 1, 16), new(4, 0, 1, 14), new(1, 1, 2, 10),
        new(3, 2, 1, 18), new(4, 2, 0, 9), new(1, 3, 1, 26), new(2, 2, 2, 20),
        new(0, 3, 1, 11), new(6, 1, 0, 8), new(4, 0, 2, 9), new(3, 3, 1, 12),
        new(2, 4, 0, 7), new(0, 0, 2, 8), new(4, 2, 2, 6), new(5, 1, 2, 5),
    ];

    /// <summary>FePO4 intensities: the same reflections, (200) weaker and (020), (211), (101) stronger, as in heterosite.</summary>
    public static IReadOnlyList<Reflection> FePO4Reflections { get; } =
        LiFePO4Reflections.Select(r => (r.H, r.K, r.L) switch
        {
            (2, 0, 0) => r with { RelativeIntensity = 30 },
            (0, 2, 0) => r with { RelativeIntensity = 55 },
            (2, 1, 1) => r with { RelativeIntensity = 100 },
            (3, 1, 1) => r with { RelativeIntensity = 80 },
            (1, 0, 1) => r with { RelativeIntensity = 62 },
            _ => r,
        }).ToArray();

    public static CrystalPhase LiFePO4 { get; } = new("LiFePO4", LiFePO4Lattice, LiFePO4Reflections);

    public static CrystalPhase FePO4 { get; } = new("FePO4", FePO4Lattice, FePO4Reflections);

    /// <summary>Fe2+ K-edge position (LiFePO4), eV.</summary>
    public const double Fe2EdgeEv = 7122.0;

    /// <summary>The edge moves up with oxidation: Fe3+ (FePO4) sits about 3 eV above Fe2+.</summary>
    public const double Fe3EdgeShiftEv = 3.0;

    public static FeKEdgeModel FeKEdge { get; } = new(
        new FeEdgeShape(EdgeEv: Fe2EdgeEv, EdgeWidthEv: 1.6, WhiteLineOffsetEv: 6.0, WhiteLineHeight: 0.55,
            WhiteLineWidthEv: 3.0, PreEdgeEv: 7112.6, PreEdgeHeight: 0.035) { Name = "LiFePO4" },
        new FeEdgeShape(EdgeEv: Fe2EdgeEv + Fe3EdgeShiftEv, EdgeWidthEv: 1.8, WhiteLineOffsetEv: 5.0, WhiteLineHeight: 0.42,
            WhiteLineWidthEv: 3.5, PreEdgeEv: 7114.1, PreEdgeHeight: 0.06) { Name = "FePO4" });

    /// <summary>The built-in diffraction description: LiFePO4 then FePO4 (the fraction reported is FePO4's).</summary>
    public static DiffractionMaterials Olivines { get; } = new([LiFePO4, FePO4], PeakShape.Default);

    /// <summary>The built-in absorption description: the Fe K-edge with the Fe2+ and Fe3+ references.</summary>
    public static AbsorptionMaterials FeKAbsorption { get; } = new(EdgeTable.Get("Fe", EdgeKind.K), [FeKEdge.Reduced, FeKEdge.Oxidised]);
}

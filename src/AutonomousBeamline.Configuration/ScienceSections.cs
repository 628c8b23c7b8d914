namespace AutonomousBeamline.Configuration;

// The science of an experiment (issue 13): the beamline's X-ray energy, what the sample is made of, and what the
// learner maps. Absent, they default to the shipped LiFePO4 / FePO4 rehearsal at 0.5 Å with the Fe K-edge.

/// <summary>The beamline: give the X-ray wavelength or its energy, exactly one.</summary>
public sealed class BeamlineSection
{
    public double? WavelengthAngstrom { get; set; }
    public double? EnergyKev { get; set; }
}

/// <summary>The phases a diffraction pattern may contain and the edge an absorption spectrum shows.</summary>
public sealed class MaterialsSection
{
    public XrdMaterialsConfig? Xrd { get; set; }
    public XasMaterialsConfig? Xas { get; set; }
}

public sealed class XrdMaterialsConfig
{
    /// <summary>Any number of phases; none: patterns are only decomposed.</summary>
    public List<PhaseConfig> Phases { get; set; } = new();
    /// <summary>The instrument's peak shape for phases given as lattices (FWHM = fwhm_deg + fwhm_tan_theta_deg · tan θ).</summary>
    public PeakShapeConfig? PeakShape { get; set; }
}

public sealed class PeakShapeConfig
{
    public double FwhmDeg { get; set; } = 0.02;
    public double FwhmTanThetaDeg { get; set; } = 0.05;
    /// <summary>Lorentzian share of the pseudo-Voigt, 0..1.</summary>
    public double Eta { get; set; } = 0.4;
}

/// <summary>One phase: a measured reference pattern (<c>pattern</c>) or a lattice with a reflection list.</summary>
public sealed class PhaseConfig
{
    public string Name { get; set; } = "";
    /// <summary>A two-column file (2θ or q, intensity; <c>#</c> comments), relative to the config's folder.</summary>
    public string? Pattern { get; set; }
    /// <summary>The file's first column: "two_theta" (degrees) or "q" (1/angstrom).</summary>
    public string PatternAxis { get; set; } = "two_theta";
    /// <summary>The wavelength a 2θ pattern was measured at; the beamline's when absent.</summary>
    public double? PatternWavelengthAngstrom { get; set; }
    public LatticeConfig? Lattice { get; set; }
    /// <summary>Reflections as [h, k, l, relative intensity].</summary>
    public List<List<double>>? Reflections { get; set; }
    /// <summary>How far (relative) its spacings may move during the run: a solid solution's lattice change, e.g. 0.03.</summary>
    public double? MaxStrain { get; set; }
}

public sealed class LatticeConfig
{
    /// <summary>cubic, tetragonal, hexagonal (rhombohedral in the hexagonal setting), orthorhombic or monoclinic.</summary>
    public string System { get; set; } = "";
    public double A { get; set; }
    public double? B { get; set; }
    public double? C { get; set; }
    public double? BetaDeg { get; set; }
}

public sealed class XasMaterialsConfig
{
    /// <summary>The absorbing element's symbol (Ti … Zn, Nb, Mo, Sn).</summary>
    public string Element { get; set; } = "";
    /// <summary>"K" or "L3".</summary>
    public string Edge { get; set; } = "K";
    /// <summary>Reference spectra (energy in eV, normalised μ), any number; the last is the one whose share is reported.</summary>
    public List<ReferenceSpectrumConfig> References { get; set; } = new();
}

public sealed class ReferenceSpectrumConfig
{
    public string Name { get; set; } = "";
    public string File { get; set; } = "";
}

/// <summary>What the learner maps.</summary>
public sealed class LearningSection
{
    public TargetConfig Target { get; set; } = new();
}

public sealed class TargetConfig
{
    /// <summary>phase_fraction, lattice_parameter, peak_position (diffraction), edge_position, xas_fraction (absorption), or
    /// component_score (either: a reference-free component's share, docs/materials.md).</summary>
    public string Kind { get; set; } = "phase_fraction";
    /// <summary>The phase (diffraction) or reference (absorption) the target is of; the last configured when absent.</summary>
    public string? Of { get; set; }
    /// <summary>Divide the target's spread by 4·soc·(1 − soc), as a two-phase reaction's inhomogeneity behaves. Default: true
    /// for a phase fraction, false otherwise.</summary>
    public bool? NormaliseTwoPhase { get; set; }
    /// <summary>For component_score: the component's id, 1 for the first the decomposition finds.</summary>
    public int? Component { get; set; }
}

/// <summary>Deliberately different physics in the simulators (dry run only): the sample departs from the references.</summary>
public sealed class SimulatedPhysicsConfig
{
    /// <summary>Relative standard deviation of every reflection's intensity, e.g. 0.15.</summary>
    public double IntensityJitter { get; set; }
    /// <summary>Peak widths times this.</summary>
    public double WidthScale { get; set; } = 1;
    /// <summary>The absorption spectra moved by this much (eV).</summary>
    public double EdgeShiftEv { get; set; }
    /// <summary>The absorption structure above the edge step times this.</summary>
    public double WhiteLineScale { get; set; } = 1;
    public int Seed { get; set; } = 11;
    /// <summary>The X-ray wavelength the simulated beamline really runs at; beamline's when absent (a different one rehearses a
    /// config with the wrong energy, which preflight must catch).</summary>
    public double? WavelengthAngstrom { get; set; }
    /// <summary>Part-way through the run the beamline's real wavelength changes (someone moved the monochromator or the
    /// undulator), after preflight has passed: rehearses frames that stop fitting mid-run.</summary>
    public WavelengthChangeConfig? WavelengthChange { get; set; }
}

/// <summary>At <c>at_s</c> seconds of simulated time from the start of the run, the beamline runs at <c>wavelength_angstrom</c>.</summary>
public sealed class WavelengthChangeConfig
{
    public double AtS { get; set; }
    public double WavelengthAngstrom { get; set; }
}

/// <summary>How one phase of the simulated electrode reacts as its local state of charge runs from 0 to 1.</summary>
public sealed class ReactionPhaseConfig
{
    public string Phase { get; set; } = "";
    /// <summary>[amount at 0, amount at 1].</summary>
    public List<double> Amount { get; set; } = new() { 1, 1 };
    /// <summary>[lattice strain at 0, at 1]: a solid solution's continuous lattice change.</summary>
    public List<double> Strain { get; set; } = new() { 0, 0 };
    /// <summary>The phase grows only once the local state of charge passes this.</summary>
    public double AppearsAbove { get; set; }
}

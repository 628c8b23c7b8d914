using AutonomousBeamline.Core.Materials;

namespace AutonomousBeamline.Configuration;

/// <summary>A science section names a file or a value that cannot be used; <see cref="Path"/> is the YAML path of the field.</summary>
public sealed class ScienceConfigException(string path, string message) : Exception(message)
{
    public string Path { get; } = path;
}

/// <summary>
/// The config's <c>beamline:</c> and <c>materials:</c> sections as Core's materials description: the beam, the phases
/// (reference pattern files read and resampled, or lattices with reflection lists) and the edge with its reference spectra.
/// Absent sections give the built-in LiFePO4 / FePO4 rehearsal at 0.5 Å with the Fe K-edge.
/// </summary>
public static class ScienceMaterials
{
    public static readonly string[] CrystalSystems = ["cubic", "tetragonal", "hexagonal", "orthorhombic", "monoclinic"];
    public static readonly string[] PatternAxes = ["two_theta", "q"];

    public static XrayBeam Beam(ExperimentConfig c) => c.Beamline switch
    {
        { WavelengthAngstrom: { } lambda } => new XrayBeam(lambda),
        { EnergyKev: { } energy } => XrayBeam.FromEnergyKev(energy),
        _ => XrayBeam.Default,
    };

    /// <exception cref="ScienceConfigException">A phase cannot be built; the path names its field.</exception>
    public static DiffractionMaterials Diffraction(ExperimentConfig c)
    {
        if (c.Materials.Xrd is not { } xrd) return BatteryMaterials.Olivines;
        var beam = Beam(c);
        var phases = new List<IDiffractionPhase>();
        var strains = new Dictionary<string, double>();
        for (var i = 0; i < xrd.Phases.Count; i++)
        {
            var phase = xrd.Phases[i];
            var path = $"materials.xrd.phases[{i}]";
            phases.Add(Phase(phase, path, beam, c.BaseDirectory));
            if (phase.MaxStrain is { } m) strains[phase.Name] = m;
        }
        var shape = xrd.PeakShape is { } s ? new PeakShape(s.FwhmDeg, s.FwhmTanThetaDeg, s.Eta) : PeakShape.Default;
        return new DiffractionMaterials(phases, shape) { MaximumStrain = strains };
    }

    /// <summary>The phases only the simulator renders (<c>simulation.phases</c>), built as the materials' are; none when absent.</summary>
    /// <exception cref="ScienceConfigException">A phase cannot be built; the path names its field.</exception>
    public static IReadOnlyList<IDiffractionPhase> SimulationOnlyPhases(ExperimentConfig c)
    {
        if (c.Simulation.Phases is not { } phases) return [];
        var beam = Beam(c);
        return phases.Select((phase, i) => Phase(phase, $"simulation.phases[{i}]", beam, c.BaseDirectory)).ToArray();
    }

    /// <exception cref="ScienceConfigException">The element, the edge or a reference file cannot be used.</exception>
    public static AbsorptionMaterials Absorption(ExperimentConfig c)
    {
        if (c.Materials.Xas is not { } xas) return BatteryMaterials.FeKAbsorption;
        if (!EdgeTable.TryParseEdge(xas.Edge, out var kind))
            throw new ScienceConfigException("materials.xas.edge", $"must be K or L3, got '{xas.Edge}'");
        var edge = EdgeTable.Find(xas.Element, kind)
                   ?? throw new ScienceConfigException("materials.xas.element", $"the edge table has no element '{xas.Element}'; it knows {string.Join(", ", EdgeTable.Elements)}");
        var references = new List<IAbsorptionReference>();
        for (var i = 0; i < xas.References.Count; i++)
        {
            var reference = xas.References[i];
            var path = $"materials.xas.references[{i}].file";
            var (energies, mu) = ReadColumns(reference.File, path, c.BaseDirectory);
            if (energies[0] > edge.EnergyEv - 10 || energies[^1] < edge.EnergyEv + 20)
                throw new ScienceConfigException(path, FormattableString.Invariant(
                    $"the spectrum covers {energies[0]:0.#}..{energies[^1]:0.#} eV, which does not span the {edge} (from 10 eV below to 20 eV above)"));
            references.Add(new TabulatedSpectrum(reference.Name, energies, mu));
        }
        return new AbsorptionMaterials(edge, references);
    }

    private static IDiffractionPhase Phase(PhaseConfig phase, string path, XrayBeam beam, string baseDirectory)
    {
        if (phase.Pattern is { } file)
        {
            var variable = phase.PatternAxis switch
            {
                "two_theta" => ScatteringVariable.TwoThetaDeg,
                "q" => ScatteringVariable.QInverseAngstrom,
                var other => throw new ScienceConfigException(path + ".pattern_axis", $"must be two_theta or q, got '{other}'"),
            };
            var (x, y) = ReadColumns(file, path + ".pattern", baseDirectory);
            try { return new MeasuredPhase(phase.Name, variable, x, y, phase.PatternWavelengthAngstrom ?? beam.WavelengthAngstrom); }
            catch (ArgumentException e) { throw new ScienceConfigException(path + ".pattern", e.Message); }
        }
        var lattice = Lattice(phase.Lattice ?? throw new ScienceConfigException(path, "give either a pattern file or a lattice with reflections"), path + ".lattice");
        if (phase.Reflections is not { Count: > 0 } rows) throw new ScienceConfigException(path + ".reflections", "a lattice phase needs its reflections as [h, k, l, intensity]");
        var reflections = new List<Reflection>();
        for (var r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            if (row.Count != 4 || row.Take(3).Any(v => v != Math.Floor(v)) || !(row[3] > 0) || row.Take(3).All(v => v == 0))
                throw new ScienceConfigException($"{path}.reflections[{r}]", $"must be [h, k, l, intensity] with integer h k l (not all 0) and a positive intensity, got [{string.Join(", ", row)}]");
            reflections.Add(new Reflection((int)row[0], (int)row[1], (int)row[2], row[3]));
        }
        return new LatticePhase(phase.Name, lattice, reflections);
    }

    private static Lattice Lattice(LatticeConfig l, string path)
    {
        var system = l.System.ToLowerInvariant() switch
        {
            "cubic" => CrystalSystem.Cubic,
            "tetragonal" => CrystalSystem.Tetragonal,
            "hexagonal" or "rhombohedral" or "trigonal" => CrystalSystem.Hexagonal,
            "orthorhombic" => CrystalSystem.Orthorhombic,
            "monoclinic" => CrystalSystem.Monoclinic,
            _ => throw new ScienceConfigException(path + ".system", $"must be one of {string.Join(", ", CrystalSystems)}, got '{l.System}'"),
        };
        string? Missing(string name, double? value, params CrystalSystem[] needing) => needing.Contains(system) && value is null ? name : null;
        if (Missing("c", l.C, CrystalSystem.Tetragonal, CrystalSystem.Hexagonal, CrystalSystem.Orthorhombic, CrystalSystem.Monoclinic) is { } c) throw new ScienceConfigException($"{path}.{c}", $"a {l.System} lattice needs {c}");
        if (Missing("b", l.B, CrystalSystem.Orthorhombic, CrystalSystem.Monoclinic) is { } b) throw new ScienceConfigException($"{path}.{b}", $"a {l.System} lattice needs {b}");
        if (Missing("beta_deg", l.BetaDeg, CrystalSystem.Monoclinic) is { } beta) throw new ScienceConfigException($"{path}.{beta}", "a monoclinic lattice needs beta_deg");
        var lattice = system switch
        {
            CrystalSystem.Cubic => Core.Materials.Lattice.Cubic(l.A),
            CrystalSystem.Tetragonal or CrystalSystem.Hexagonal => new Lattice(system, l.A, l.A, l.C!.Value),
            _ => new Lattice(system, l.A, l.B!.Value, l.C!.Value, l.BetaDeg ?? 90),
        };
        if (lattice.Problem() is { } problem) throw new ScienceConfigException(path, problem);
        return lattice;
    }

    private static (double[] X, double[] Y) ReadColumns(string file, string path, string baseDirectory)
    {
        if (string.IsNullOrWhiteSpace(file)) throw new ScienceConfigException(path, "names no file");
        var full = System.IO.Path.IsPathRooted(file) ? file : System.IO.Path.Combine(baseDirectory, file);
        if (!File.Exists(full)) throw new ScienceConfigException(path, $"no such file: {full}");
        try { return TwoColumnData.Parse(File.ReadAllText(full), file); }
        catch (ReferenceFileException e) { throw new ScienceConfigException(path, e.Message); }
        catch (IOException e) { throw new ScienceConfigException(path, $"cannot read {full}: {e.Message}"); }
    }
}

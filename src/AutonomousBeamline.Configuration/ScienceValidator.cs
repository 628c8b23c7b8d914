namespace AutonomousBeamline.Configuration;

/// <summary>
/// The rules of the science sections (<c>beamline</c>, <c>materials</c>, <c>learning</c>, <c>simulation.physics</c> and
/// <c>simulation.reaction</c>): every reference file is read here, so a bad file stops the config before anything runs.
/// </summary>
public static class ScienceValidator
{
    public static readonly string[] XrdTargets = ["phase_fraction", "lattice_parameter", "peak_position"];
    public static readonly string[] XasTargets = ["edge_position", "xas_fraction"];
    /// <summary>Targets of either modality: the decomposition runs on the diffraction patterns unless the run takes only spectra.</summary>
    public static readonly string[] AnyTargets = ["component_score"];

    /// <summary>The most components the decomposition resolves (its cap; a larger component id could never be scored).</summary>
    public const int MaxComponents = 8;

    public static void Validate(ExperimentConfig c, Action<string, string> fail)
    {
        var b = c.Beamline;
        if (b.WavelengthAngstrom is not null && b.EnergyKev is not null)
            fail("beamline.energy_kev", "give the wavelength or the energy, not both");
        else if (b.WavelengthAngstrom is { } lambda && !(lambda is >= 0.05 and <= 5))
            fail("beamline.wavelength_angstrom", $"must be 0.05 to 5 Å, got {lambda}");
        else if (b.EnergyKev is { } energy && !(energy is >= 2.5 and <= 250))
            fail("beamline.energy_kev", $"must be 2.5 to 250 keV, got {energy}");

        var phaseNames = new List<string>();
        if (c.Materials.Xrd is { } xrd)
        {
            for (var i = 0; i < xrd.Phases.Count; i++) ValidatePhase(xrd.Phases[i], $"materials.xrd.phases[{i}]", phaseNames, fail);
            if (xrd.PeakShape is { } s && (!(s.FwhmDeg > 0) || s.FwhmTanThetaDeg < 0 || s.Eta is < 0 or > 1))
                fail("materials.xrd.peak_shape", "needs fwhm_deg > 0, fwhm_tan_theta_deg >= 0 and eta in [0, 1]");
        }
        else phaseNames.AddRange(["LiFePO4", "FePO4"]);
        // The builder reads the files and reports the first problem it meets; the checks above report all of theirs.
        if (c.Materials.Xrd is not null) TryBuild(() => ScienceMaterials.Diffraction(c), fail);

        var referenceNames = new List<string>();
        if (c.Materials.Xas is { } xas)
        {
            for (var i = 0; i < xas.References.Count; i++)
            {
                var name = xas.References[i].Name;
                if (string.IsNullOrWhiteSpace(name)) fail($"materials.xas.references[{i}].name", "is required");
                else if (referenceNames.Contains(name)) fail($"materials.xas.references[{i}].name", $"'{name}' is given twice");
                referenceNames.Add(name);
            }
            TryBuild(() => ScienceMaterials.Absorption(c), fail);
        }
        else referenceNames.AddRange(["LiFePO4", "FePO4"]);

        ValidateTarget(c, phaseNames, referenceNames, fail);
        ValidateSimulation(c, phaseNames, fail);
    }

    /// <summary>A phase's own fields (a materials phase or a simulation-only one); its name joins <paramref name="names"/>.</summary>
    private static void ValidatePhase(PhaseConfig phase, string path, List<string> names, Action<string, string> fail)
    {
        if (string.IsNullOrWhiteSpace(phase.Name)) fail(path + ".name", "is required");
        else if (names.Contains(phase.Name)) fail(path + ".name", $"'{phase.Name}' is given twice");
        names.Add(phase.Name);
        if (phase.Pattern is not null && phase.Lattice is not null) fail(path, "give a pattern file or a lattice, not both");
        if (phase.MaxStrain is { } m && !(m is >= 0 and <= 0.1)) fail(path + ".max_strain", $"must be 0 to 0.1, got {m}");
        if (phase.PatternWavelengthAngstrom is { } w && !(w is >= 0.05 and <= 5)) fail(path + ".pattern_wavelength_angstrom", $"must be 0.05 to 5 Å, got {w}");
    }

    private static void TryBuild(Action build, Action<string, string> fail)
    {
        try { build(); }
        catch (ScienceConfigException e) { fail(e.Path, e.Message); }
        catch (ArgumentException e) { fail("materials", e.Message); }
    }

    private static void ValidateTarget(ExperimentConfig c, List<string> phases, List<string> references, Action<string, string> fail)
    {
        var t = c.Learning.Target;
        var takesXrd = c.Acquisition.Kind is "xrd" or "xrd+xas";
        var takesXas = c.Acquisition.Kind is "xas" or "xrd+xas";
        if (t.Component is not null && t.Kind != "component_score")
            fail("learning.target.component", $"only a component_score target takes a component, the target is '{t.Kind}'");
        if (XrdTargets.Contains(t.Kind))
        {
            if (!takesXrd) fail("learning.target.kind", $"'{t.Kind}' is measured by diffraction, but acquisition.kind is '{c.Acquisition.Kind}'");
            if (t.Of is { } of && !phases.Contains(of)) fail("learning.target.of", $"'{of}' is not a configured phase ({string.Join(", ", phases)})");
            if (t.Kind == "lattice_parameter" && c.Materials.Xrd is { } xrd
                && xrd.Phases.FirstOrDefault(p => p.Name == (t.Of ?? xrd.Phases.LastOrDefault()?.Name)) is { Lattice: null })
                fail("learning.target.of", "a lattice parameter needs a phase given as a lattice; for a pattern file use peak_position");
            if (phases.Count == 0) fail("learning.target.kind", "there are no phases to take the target from");
        }
        else if (XasTargets.Contains(t.Kind))
        {
            if (!takesXas) fail("learning.target.kind", $"'{t.Kind}' is measured by absorption, but acquisition.kind is '{c.Acquisition.Kind}'");
            if (t.Kind == "xas_fraction")
            {
                if (references.Count < 2) fail("learning.target.kind", "an absorption fraction needs at least two reference spectra");
                if (t.Of is { } of && !references.Contains(of)) fail("learning.target.of", $"'{of}' is not a configured reference ({string.Join(", ", references)})");
            }
        }
        else if (AnyTargets.Contains(t.Kind))
        {
            if (t.Component is not { } n) fail("learning.target.component", "a component_score target needs the component's id (1 for the first component found)");
            else if (n is < 1 or > MaxComponents) fail("learning.target.component", $"must be 1 to {MaxComponents} (the most components resolved), got {n}");
            if (t.Of is not null) fail("learning.target.of", "a component has no reference to be of; give learning.target.component");
            if (t.NormaliseTwoPhase == true) fail("learning.target.normalise_two_phase", "a component's share need not follow a two-phase reaction; leave it out");
        }
        else fail("learning.target.kind", $"must be one of {string.Join(", ", XrdTargets.Concat(XasTargets).Concat(AnyTargets))}, got '{t.Kind}'");
    }

    private static void ValidateSimulation(ExperimentConfig c, List<string> phases, Action<string, string> fail)
    {
        var s = c.Simulation;
        var p = s.Physics;
        if (p.IntensityJitter is < 0 or > 0.5) fail("simulation.physics.intensity_jitter", $"must be 0 to 0.5, got {p.IntensityJitter}");
        if (p.WidthScale is < 0.5 or > 2) fail("simulation.physics.width_scale", $"must be 0.5 to 2, got {p.WidthScale}");
        if (Math.Abs(p.EdgeShiftEv) > 20) fail("simulation.physics.edge_shift_ev", $"must be within ±20 eV, got {p.EdgeShiftEv}");
        if (p.WhiteLineScale is < 0.5 or > 2) fail("simulation.physics.white_line_scale", $"must be 0.5 to 2, got {p.WhiteLineScale}");
        if (p.WavelengthAngstrom is { } w && !(w is >= 0.05 and <= 5)) fail("simulation.physics.wavelength_angstrom", $"must be 0.05 to 5 Å, got {w}");
        if (p.WavelengthChange is { } change)
        {
            const string path = "simulation.physics.wavelength_change";
            // What the simulated beamline runs at before the change (a bad beamline section is reported on its own).
            var before = p.WavelengthAngstrom ?? c.Beamline.WavelengthAngstrom
                ?? (c.Beamline.EnergyKev is { } e && e > 0 ? Core.Materials.XrayBeam.HcKevAngstrom / e : Core.Materials.BatteryMaterials.DefaultWavelengthAngstrom);
            if (!(change.AtS is > 0 and <= 1e8))
                fail(path + ".at_s", $"must be after the start of the run and within 1e8 s (a time in seconds of simulated time), got {change.AtS}");
            if (!(change.WavelengthAngstrom is >= 0.05 and <= 5))
                fail(path + ".wavelength_angstrom", $"must be 0.05 to 5 Å, got {change.WavelengthAngstrom}");
            else if (Math.Abs(change.WavelengthAngstrom / before - 1) < 1e-3)
                fail(path + ".wavelength_angstrom", $"{change.WavelengthAngstrom} Å is the wavelength the simulated beamline already runs at ({before} Å): nothing would change");
        }
        // Phases only the simulator renders: the analysers' materials do not know them; their names must not be the materials'.
        var rendered = new List<string>(phases);
        var simulationOnly = new List<string>();
        if (s.Phases is { } extra)
        {
            if (extra.Count == 0) fail("simulation.phases", "is empty: give the phases only the simulator renders, or leave it out");
            for (var i = 0; i < extra.Count; i++)
            {
                var path = $"simulation.phases[{i}]";
                if (phases.Contains(extra[i].Name))
                    fail(path + ".name", $"'{extra[i].Name}' is a phase of materials.xrd; a simulation-only phase needs a name of its own");
                else ValidatePhase(extra[i], path, rendered, fail);
                simulationOnly.Add(extra[i].Name);
                if (extra[i].MaxStrain is not null) fail(path + ".max_strain", "is the analyser's allowance; the simulator's strain is simulation.reaction's strain");
            }
            TryBuild(() => ScienceMaterials.SimulationOnlyPhases(c), fail);
            if (s.Reaction is not { Count: > 0 })
                fail("simulation.phases", "a simulation-only phase is rendered only as simulation.reaction says: give the reaction, naming it with its amount");
        }
        if (s.Reaction is not { } reaction) return;
        foreach (var name in simulationOnly.Where(n => !string.IsNullOrWhiteSpace(n) && reaction.All(r => r.Phase != n)))
            fail("simulation.reaction", $"names no entry for the simulation-only phase '{name}', so it would never be rendered");
        for (var i = 0; i < reaction.Count; i++)
        {
            var r = reaction[i];
            var path = $"simulation.reaction[{i}]";
            if (!rendered.Contains(r.Phase))
                fail(path + ".phase", $"'{r.Phase}' is neither a phase of materials.xrd ({string.Join(", ", phases)}) nor of simulation.phases"
                    + (simulationOnly.Count > 0 ? $" ({string.Join(", ", simulationOnly)})" : ""));
            else if (reaction.Take(i).Any(o => o.Phase == r.Phase)) fail(path + ".phase", $"'{r.Phase}' has a reaction entry already");
            if (r.Amount.Count != 2 || r.Amount.Any(a => !(a >= 0))) fail(path + ".amount", "must be [amount at 0, amount at 1], both >= 0");
            if (r.Strain.Count != 2 || r.Strain.Any(v => !(Math.Abs(v) <= 0.1))) fail(path + ".strain", "must be [strain at 0, strain at 1], each within ±0.1");
            if (r.AppearsAbove is < 0 or >= 1) fail(path + ".appears_above", $"must be 0 to below 1, got {r.AppearsAbove}");
        }
    }
}

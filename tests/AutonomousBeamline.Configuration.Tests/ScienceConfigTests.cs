using AutonomousBeamline.Core.Materials;

namespace AutonomousBeamline.Configuration.Tests;

public sealed class ScienceConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("science-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static string RepoFile(string relative)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AutonomousBeamline.sln"))) dir = dir.Parent;
        return Path.Combine(dir!.FullName, relative);
    }

    private static string Base => File.ReadAllText(RepoFile("configs/dry-run.yaml"));

    private ConfigException Refused(string yaml) => Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "test.yaml", baseDirectory: _dir));

    [Theory]
    [InlineData("dry-run.yaml")]
    [InlineData("dry-run-nmc.yaml")]
    [InlineData("dry-run-lmo.yaml")]
    [InlineData("dry-run-17kev.yaml")]
    public void The_shipped_chemistries_load_with_their_reference_files(string name)
    {
        var config = ConfigLoader.Load(RepoFile($"configs/{name}"));
        Assert.NotEmpty(ScienceMaterials.Diffraction(config).Phases);
        ScienceMaterials.Absorption(config);
    }

    [Fact]
    public void Without_science_sections_the_olivines_at_half_an_angstrom_with_the_Fe_K_edge_are_used()
    {
        var config = ConfigLoader.Parse(Base);
        Assert.Equal(0.5, ScienceMaterials.Beam(config).WavelengthAngstrom);
        Assert.Equal(["LiFePO4", "FePO4"], ScienceMaterials.Diffraction(config).Phases.Select(p => p.Name));
        Assert.Equal("Fe", ScienceMaterials.Absorption(config).Edge.Element);
    }

    [Fact]
    public void The_energy_or_the_wavelength_is_given_not_both()
    {
        var config = ConfigLoader.Parse(Base + "\nbeamline: { energy_kev: 17 }\n");
        Assert.Equal(0.7293, ScienceMaterials.Beam(config).WavelengthAngstrom, 4);
        var error = Refused(Base + "\nbeamline: { energy_kev: 17, wavelength_angstrom: 0.5 }\n");
        Assert.Contains(error.Errors, e => e.Path == "beamline.energy_kev" && e.Message.Contains("not both") && e.Line > 0);
        Assert.Contains(Refused(Base + "\nbeamline: { wavelength_angstrom: 50 }\n").Errors, e => e.Path == "beamline.wavelength_angstrom");
    }

    [Fact]
    public void A_lattice_phase_and_a_pattern_file_beside_the_config_are_read()
    {
        var lines = Enumerable.Range(0, 2000).Select(i => FormattableString.Invariant($"{5 + i * 0.01:0.00} {(Math.Abs(5 + i * 0.01 - 9.3) < 0.05 ? 1000 : 10)}"));
        File.WriteAllText(Path.Combine(_dir, "phase.xy"), "# 2theta intensity\n" + string.Join("\n", lines));
        var yaml = Base + """

            materials:
              xrd:
                phases:
                  - name: measured
                    pattern: phase.xy
                  - name: spinel
                    lattice: { system: cubic, a: 8.24 }
                    reflections: [[1, 1, 1, 100], [3, 1, 1, 45]]
                    max_strain: 0.02
            learning:
              target: { kind: lattice_parameter, of: spinel }
            """;
        var config = ConfigLoader.Parse(yaml, "test.yaml", baseDirectory: _dir);
        var materials = ScienceMaterials.Diffraction(config);
        Assert.IsType<MeasuredPhase>(materials.Phases[0]);
        Assert.Equal(8.24, Assert.IsType<LatticePhase>(materials.Phases[1]).LatticeA);
        Assert.Equal(0.02, materials.MaximumStrain["spinel"]);
    }

    [Fact]
    public void Bad_phases_and_files_are_refused_with_the_field()
    {
        File.WriteAllText(Path.Combine(_dir, "broken.xy"), "1 2\n2 3\nthree four\n");
        var errors = Refused(Base + """

            materials:
              xrd:
                phases:
                  - { name: a, pattern: missing.xy }
                  - { name: a, lattice: { system: cubic, a: 8 }, reflections: [[1, 1, 1, 100]] }
                  - { name: c, lattice: { system: hexagonal, a: 2.8 }, reflections: [[0, 0, 3, 100]] }
                  - { name: d, lattice: { system: triclinic, a: 2.8 }, reflections: [[0, 0, 3, 100]] }
            learning:
              target: { kind: phase_fraction, of: nothing }
            """).Errors;
        Assert.Contains(errors, e => e.Path == "materials.xrd.phases[0].pattern" && e.Message.Contains("no such file"));
        Assert.Contains(errors, e => e.Path == "materials.xrd.phases[1].name" && e.Message.Contains("twice"));
        Assert.Contains(errors, e => e.Path == "learning.target.of" && e.Message.Contains("nothing"));
        var lattice = Refused(Base + """

            materials:
              xrd:
                phases:
                  - { name: c, lattice: { system: hexagonal, a: 2.8 }, reflections: [[0, 0, 3, 100]] }
            """).Errors;
        Assert.Contains(lattice, e => e.Path == "materials.xrd.phases[0].lattice.c");
        var reflections = Refused(Base + """

            materials:
              xrd:
                phases:
                  - { name: c, lattice: { system: cubic, a: 2.8 }, reflections: [[1, 1, 1.5, 100]] }
            """).Errors;
        Assert.Contains(reflections, e => e.Path == "materials.xrd.phases[0].reflections[0]");
        var file = Refused(Base + """

            materials:
              xrd:
                phases:
                  - { name: b, pattern: broken.xy }
            """).Errors;
        Assert.Contains(file, e => e.Path == "materials.xrd.phases[0].pattern" && e.Message.Contains("line 3"));
    }

    [Fact]
    public void The_absorption_edge_comes_from_the_table_and_the_target_must_match_the_acquisition()
    {
        var errors = Refused(Base + """

            materials:
              xas: { element: Unobtainium, edge: K }
            """).Errors;
        Assert.Contains(errors, e => e.Path == "materials.xas.element" && e.Message.Contains("Ni"));
        Assert.Contains(Refused(Base + "\nmaterials:\n  xas: { element: Ni, edge: M5 }\n").Errors, e => e.Path == "materials.xas.edge");
        var xrdOnly = Base.Replace("kind: xrd+xas", "kind: xrd");
        Assert.Contains(Refused(xrdOnly + "\nlearning:\n  target: { kind: edge_position }\n").Errors,
            e => e.Path == "learning.target.kind" && e.Message.Contains("absorption"));
        Assert.Contains(Refused(Base + "\nlearning:\n  target: { kind: colour }\n").Errors, e => e.Path == "learning.target.kind");
        var config = ConfigLoader.Parse(Base + "\nmaterials:\n  xas: { element: Ni, edge: K }\n");
        Assert.Equal(8332.8, ScienceMaterials.Absorption(config).Edge.EnergyEv);
        Assert.Empty(ScienceMaterials.Absorption(config).References);
    }

    [Fact]
    public void The_simulated_reaction_must_name_configured_phases()
    {
        var errors = Refused(Base.Replace("simulation:\n", """
            simulation:
              reaction:
                - { phase: NMC, amount: [1], strain: [0, 0.5] }
              physics: { intensity_jitter: 0.9 }

            """)).Errors;
        Assert.Contains(errors, e => e.Path == "simulation.reaction[0].phase");
        Assert.Contains(errors, e => e.Path == "simulation.reaction[0].amount");
        Assert.Contains(errors, e => e.Path == "simulation.reaction[0].strain");
        Assert.Contains(errors, e => e.Path == "simulation.physics.intensity_jitter");
    }

    private const string UnknownPhase = """
        simulation:
          phases:
            - name: rock-salt
              lattice: { system: cubic, a: 4.18 }
              reflections: [[1,1,1,30], [2,0,0,100], [2,2,0,55]]
          reaction:
            - { phase: LiFePO4, amount: [1, 0] }
            - { phase: FePO4, amount: [0, 1] }
            - { phase: rock-salt, amount: [0, 0.3], appears_above: 0.5 }

        """;

    [Fact]
    public void A_phase_only_the_simulator_renders_is_built_beside_the_materials_but_not_among_them()
    {
        var config = ConfigLoader.Parse(Base.Replace("simulation:\n", UnknownPhase), "test.yaml", baseDirectory: _dir);
        Assert.Equal(["LiFePO4", "FePO4"], ScienceMaterials.Diffraction(config).Phases.Select(p => p.Name));
        var extra = Assert.Single(ScienceMaterials.SimulationOnlyPhases(config));
        Assert.Equal("rock-salt", extra.Name);
        Assert.Equal(4.18, extra.LatticeA);
    }

    [Theory]
    // A reaction naming a phase neither section defines, with the phases of both listed.
    [InlineData("- { phase: rock-salt, amount: [0, 0.3], appears_above: 0.5 }", "- { phase: spinel, amount: [0, 0.3] }",
        "simulation.reaction[2].phase", "neither a phase of materials.xrd (LiFePO4, FePO4) nor of simulation.phases (rock-salt)")]
    // A simulation-only phase no reaction entry names would never be rendered.
    [InlineData("    - { phase: rock-salt, amount: [0, 0.3], appears_above: 0.5 }\n", "", "simulation.reaction", "never be rendered")]
    // The simulator's unknown phase may not take a name the analysers know.
    [InlineData("- name: rock-salt", "- name: FePO4", "simulation.phases[0].name", "is a phase of materials.xrd")]
    [InlineData("lattice: { system: cubic, a: 4.18 }", "lattice: { system: cubic, a: 4.18 }\n      pattern: rock-salt.xy", "simulation.phases[0]", "not both")]
    [InlineData("reflections: [[1,1,1,30], [2,0,0,100], [2,2,0,55]]", "reflections: [[1,1,1,30], [0,0,0,100]]", "simulation.phases[0].reflections[1]", "not all 0")]
    [InlineData("- { phase: FePO4, amount: [0, 1] }", "- { phase: LiFePO4, amount: [0, 1] }", "simulation.reaction[1].phase", "has a reaction entry already")]
    public void A_simulation_only_phase_is_refused_by_field_when_it_cannot_be_rendered(string from, string to, string path, string message)
    {
        Assert.Contains(from, UnknownPhase);
        var errors = Refused(Base.Replace("simulation:\n", UnknownPhase.Replace(from, to))).Errors;
        Assert.Contains(errors, e => e.Path == path && e.Message.Contains(message));
    }

    [Fact]
    public void Simulation_only_phases_need_a_reaction_to_say_how_much_of_them_there_is()
    {
        var yaml = UnknownPhase[..UnknownPhase.IndexOf("  reaction:", StringComparison.Ordinal)] + "\n";
        var errors = Refused(Base.Replace("simulation:\n", yaml)).Errors;
        Assert.Contains(errors, e => e.Path == "simulation.phases" && e.Message.Contains("give the reaction"));
    }
}

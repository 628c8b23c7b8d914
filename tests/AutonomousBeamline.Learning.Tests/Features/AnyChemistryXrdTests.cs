using System.Globalization;
using System.Text;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Materials;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Simulators.Physics;
using Xunit.Abstractions;

namespace AutonomousBeamline.Learning.Tests.Features;

public sealed class AnyChemistryXrdTests(ITestOutputHelper output)
{
    private static XrdPatternRenderer Renderer(UniformAxis axis, IReadOnlyList<IDiffractionPhase> phases, SampleReaction reaction, XrayBeam beam,
        PhysicsMismatch? mismatch = null, PeakShape? shape = null) =>
        new(axis, new SimulatedDiffraction(phases.Select((p, i) => (mismatch ?? PhysicsMismatch.None).Apply(p, i)).ToArray(), reaction, beam,
            shape ?? PeakShape.Default));

    private static XrdPhaseAnalyzer Analyzer(UniformAxis axis, XrayBeam beam, IReadOnlyList<IDiffractionPhase> phases,
        IReadOnlyDictionary<string, double>? maxStrain = null) =>
        new(axis, new DiffractionMaterials(phases, PeakShape.Default) { MaximumStrain = maxStrain ?? new Dictionary<string, double>() },
            XrdAnalyzerOptions.Default with { WavelengthAngstrom = beam.WavelengthAngstrom });

    [Fact]
    public void Lattices_of_each_system_give_the_textbook_spacings()
    {
        Assert.Equal(4.177 / Math.Sqrt(3), Lattice.Cubic(4.177).DSpacing(1, 1, 1), 9);
        Assert.Equal(14.20 / 3, Lattice.Hexagonal(2.872, 14.20).DSpacing(0, 0, 3), 9);
        Assert.Equal(2.872 / 2, Lattice.Hexagonal(2.872, 14.20).DSpacing(1, 1, 0), 9);
        Assert.Equal(1 / Math.Sqrt(1 / 16.0 + 1 / 9.0), Lattice.Tetragonal(4, 3).DSpacing(1, 0, 1), 9);
        // Monoclinic with β = 90° is orthorhombic; with β ≠ 90° (h0l) splits into (h0l) and (−h0l).
        Assert.Equal(Lattice.Orthorhombic(5, 6, 7).DSpacing(1, 1, 1), new Lattice(CrystalSystem.Monoclinic, 5, 6, 7, 90).DSpacing(1, 1, 1), 9);
        var mono = new Lattice(CrystalSystem.Monoclinic, 5, 6, 7, 105);
        Assert.NotEqual(mono.DSpacing(1, 0, 1), mono.DSpacing(-1, 0, 1), 3);
        Assert.Equal(5 * Math.Sin(105 * Math.PI / 180), mono.DSpacing(1, 0, 0), 9);
        Assert.NotNull(new Lattice(CrystalSystem.Monoclinic, 5, 6, 7, 170).Problem());
        Assert.NotNull(Lattice.Cubic(-1).Problem());
    }

    [Fact]
    public void Axes_are_read_from_describe_and_place_a_spacing_in_two_theta_or_q()
    {
        var beam = XrayBeam.FromEnergyKev(17);
        Assert.Equal(0.7293, beam.WavelengthAngstrom, 4);
        var twoTheta = DiffractionAxis.From(new UniformAxis(10, "two_theta", "deg", 5, 0.1));
        var q = DiffractionAxis.From(new UniformAxis(10, "q", "1/angstrom", 1, 0.1));
        var qNm = DiffractionAxis.From(new UniformAxis(10, "q", "1/nm", 10, 1));
        Assert.Equal(2 * Math.Asin(beam.WavelengthAngstrom / 4) * 180 / Math.PI, twoTheta.PositionOf(2, beam)!.Value, 9);
        Assert.Equal(Math.PI, q.PositionOf(2, beam)!.Value, 9);
        Assert.Equal(10 * Math.PI, qNm.PositionOf(2, beam)!.Value, 9);
        Assert.Equal(2, q.DSpacingAt(Math.PI, beam), 9);
        Assert.Equal(2, twoTheta.DSpacingAt(twoTheta.PositionOf(2, beam)!.Value, beam), 9);
        Assert.Null(DiffractionAxis.TryFrom(new UniformAxis(10, "pixel", "px", 0, 1), out var why));
        Assert.Contains("pixel", why);
        Assert.Throws<ArgumentException>(() => DiffractionAxis.From(new UniformAxis(10, "q", "deg", 0, 1)));
    }

    [Fact]
    public void Three_phases_on_a_q_axis_at_17_keV_are_each_recovered()
    {
        var phases = new IDiffractionPhase[] { TestChemistries.Lmo, TestChemistries.LambdaMnO2, TestChemistries.RockSalt };
        var reaction = new SampleReaction([new ReactionPhase("LiMn2O4", 1, 0), new ReactionPhase("lambda-MnO2", 0, 0.7), new ReactionPhase("rock-salt", 0.1, 0.3)]);
        var renderer = Renderer(TestChemistries.QAxis, phases, reaction, TestChemistries.At17Kev);
        var analyzer = Analyzer(TestChemistries.QAxis, TestChemistries.At17Kev, phases);
        var rng = new Random(5);
        foreach (var progress in new[] { 0.0, 0.3, 0.6, 1.0 })
        {
            var truth = reaction.Fractions(progress);
            var features = analyzer.Analyze(FrameFactory.Xrd(renderer.Render(progress, 2, 1, rng), TestChemistries.QAxis, 2));
            Assert.True(features.Usable, features.Flag);
            for (var p = 0; p < phases.Length; p++)
                Assert.True(Math.Abs(features.Phases[p].Fraction - truth[p]) < 0.02, $"progress {progress}: {phases[p].Name} {features.Phases[p].Fraction:F3} vs {truth[p]:F3}");
            Assert.Equal(features.Phases[^1].Fraction, features.PhaseFraction, 9);
            Assert.True(features.Unexplained < 0.15, $"unexplained {features.Unexplained:F3}");
        }
    }

    [Fact]
    public void A_solid_solution_is_followed_as_a_lattice_change_not_mistaken_for_a_new_phase()
    {
        var axis = TestChemistries.TwoThetaAt17Kev;
        var beam = TestChemistries.At17Kev;
        var reaction = new SampleReaction([new ReactionPhase("NMC811", 1, 1, 0, -0.015)]);
        var renderer = Renderer(axis, [TestChemistries.Nmc], reaction, beam);
        var analyzer = Analyzer(axis, beam, [TestChemistries.Nmc], new Dictionary<string, double> { ["NMC811"] = 0.03 });
        var rng = new Random(9);
        var lattice = new List<double>();
        foreach (var progress in new[] { 0.0, 0.25, 0.5, 0.75, 1.0 })
        {
            var features = analyzer.Analyze(FrameFactory.Xrd(renderer.Render(progress, 2, 1, rng), axis, 2));
            Assert.True(features.Usable, features.Flag);
            var phase = features.Phases.Single();
            var expected = 2.872 * (1 - 0.015 * progress);
            output.WriteLine($"progress {progress}: a = {phase.LatticeA:F5} Å (expected {expected:F5}), strain {phase.Strain:F5} ± {phase.StrainSigma:F6}, (003) at {phase.PeakPosition:F4}°, unexplained {features.Unexplained:F3}");
            Assert.True(Math.Abs(phase.LatticeA!.Value - expected) < 0.0012, $"a {phase.LatticeA:F5} vs {expected:F5}");
            Assert.True(features.Unexplained < 0.15);
            lattice.Add(phase.LatticeA.Value);
        }
        Assert.True(lattice.Zip(lattice.Skip(1)).All(pair => pair.Second < pair.First), "the lattice parameter falls as the cell charges");
        // Without the allowance the same shift leaves most of the pattern unexplained: the analyser says so rather than guessing.
        var rigid = Analyzer(axis, beam, [TestChemistries.Nmc]);
        Assert.Equal(XrdPhaseAnalyzer.FlagMisfit, rigid.Analyze(FrameFactory.Xrd(renderer.Render(1.0, 2, 1, rng), axis, 2)).Flag);
    }

    [Fact]
    public void A_moving_phase_s_explanation_follows_it_so_that_what_it_leaves_is_a_new_phase_at_its_own_place()
    {
        var axis = TestChemistries.TwoThetaAt17Kev;
        var beam = TestChemistries.At17Kev;
        var moving = Analyzer(axis, beam, [TestChemistries.Nmc], new Dictionary<string, double> { ["NMC811"] = 0.03 });
        Assert.True(moving.FollowsMovingPhases);
        Assert.False(Analyzer(axis, beam, [TestChemistries.Nmc]).FollowsMovingPhases);

        // The charged end (the lattice 1.5 % smaller), with a stranger the references do not have: the fit takes NMC811 where it
        // moved to, and leaves the stranger's strongest peak where it is.
        var reaction = new SampleReaction([new ReactionPhase("NMC811", 1, 1, 0, -0.015), new ReactionPhase("rock-salt", 0, 0.5, 0, 0)]);
        var renderer = Renderer(axis, [TestChemistries.Nmc, TestChemistries.RockSalt], reaction, beam);
        var frame = FrameFactory.Xrd(renderer.Render(1.0, 2, 1, new Random(3)), axis, 2);
        var explained = moving.Explain(frame)!;
        Assert.Equal(axis.N, explained.Fitted.Length);
        var residual = frame.Intensities.Select((v, i) => v - explained.Fitted[i]).ToArray();
        var strongest = Enumerable.Range(0, axis.N).MaxBy(i => residual[i]);
        var rockSalt = Bragg.TwoThetaDeg(TestChemistries.RockSalt.StrongestDSpacing, beam.WavelengthAngstrom)!.Value;
        Assert.Equal(rockSalt, axis[strongest], 1);
        // The phases' part is the fit less its background: its peaks, far above the fit's floor between them.
        Assert.True(explained.Phases.Max() > 10 * Math.Abs(explained.Phases.Min()));
        Assert.All(explained.Fitted.Zip(explained.Phases), p => Assert.True(p.First >= p.Second - 1e-6 * explained.Phases.Max()));

        // A frame the analyser flags before any fit has no explanation.
        Assert.Null(moving.Explain(frame with { Header = frame.Header with { XStart = axis.Start + 1 } }));
    }

    [Fact]
    public void A_reference_pattern_file_from_another_beamtime_fits_frames_at_this_beamline()
    {
        // The references were measured in 2θ at 0.5 Å; this beamline runs at 17 keV. Resampled through d, they still fit.
        var oldAxis = BatteryMaterials.DefaultXrdAxis;
        string PatternFile(LatticePhase phase)
        {
            var density = new double[oldAxis.N];
            phase.AddDensity(density, DiffractionAxis.From(oldAxis), XrayBeam.Default, PeakShape.Default, 0, 1, 1e4);
            var text = new StringBuilder("# measured at 0.5 A, two-theta in degrees\n# 2theta intensity\n");
            for (var i = 0; i < oldAxis.N; i++) text.Append(CultureInfo.InvariantCulture, $"{oldAxis[i]:0.0000} {density[i] + 40:0.###}\n");
            return text.ToString();
        }
        IDiffractionPhase FromFile(LatticePhase phase)
        {
            var (x, y) = TwoColumnData.Parse(PatternFile(phase), phase.Name + ".xy");
            return new MeasuredPhase(phase.Name, ScatteringVariable.TwoThetaDeg, x, y, 0.5);
        }
        var phases = new[] { FromFile(TestChemistries.Lmo), FromFile(TestChemistries.LambdaMnO2) };
        var axis = TestChemistries.TwoThetaAt17Kev with { Start = 8, Step = 0.004 };
        var renderer = Renderer(axis, [TestChemistries.Lmo, TestChemistries.LambdaMnO2], SampleReaction.TwoPhase(["LiMn2O4", "lambda-MnO2"]), TestChemistries.At17Kev);
        var analyzer = Analyzer(axis, TestChemistries.At17Kev, phases);
        var rng = new Random(2);
        foreach (var truth in new[] { 0.1, 0.5, 0.9 })
        {
            var features = analyzer.Analyze(FrameFactory.Xrd(renderer.Render(truth, 2, 1, rng), axis, 2));
            Assert.True(features.Usable, features.Flag);
            Assert.True(Math.Abs(features.PhaseFraction - truth) < 0.03, $"{features.PhaseFraction:F3} vs {truth}");
            Assert.Null(features.Phases[0].LatticeA);
            Assert.True(double.IsFinite(features.Phases[0].PeakPosition));
        }
    }

    [Fact]
    public void Reference_files_with_bad_lines_are_refused_with_the_line()
    {
        var good = string.Join("\n", Enumerable.Range(0, 10).Select(i => $"{5 + i * 0.1:0.0}, {i * 3}"));
        Assert.Equal(10, TwoColumnData.Parse("header caption\n" + good, "a.xy").X.Length);
        var error = Assert.Throws<ReferenceFileException>(() => TwoColumnData.Parse(good + "\nabc def\n", "a.xy"));
        Assert.Contains("line 11", error.Message);
        Assert.Contains("must increase", Assert.Throws<ReferenceFileException>(() => TwoColumnData.Parse(good + "\n5.0 3\n", "a.xy")).Message);
        Assert.Contains("at least 8", Assert.Throws<ReferenceFileException>(() => TwoColumnData.Parse("1 2\n3 4\n", "a.xy")).Message);
    }

    [Fact]
    public void An_unknown_third_phase_is_flagged_as_unexplained_by_the_references()
    {
        var axis = BatteryMaterials.DefaultXrdAxis;
        var phases = new IDiffractionPhase[] { BatteryMaterials.LiFePO4, BatteryMaterials.FePO4, TestChemistries.RockSalt };
        var withStranger = new SampleReaction([new ReactionPhase("LiFePO4", 1, 0), new ReactionPhase("FePO4", 0, 1), new ReactionPhase("rock-salt", 0, 0.8, AppearsAbove: 0.5)]);
        var renderer = Renderer(axis, phases, withStranger, XrayBeam.Default);
        var analyzer = new XrdPhaseAnalyzer();
        var rng = new Random(4);
        var early = analyzer.Analyze(FrameFactory.Xrd(renderer.Render(0.4, 1, 1, rng), axis));
        var late = analyzer.Analyze(FrameFactory.Xrd(renderer.Render(0.95, 1, 1, rng), axis));
        output.WriteLine($"unexplained before the stranger {early.Unexplained:F3}, with it {late.Unexplained:F3}");
        Assert.True(early.Usable, early.Flag);
        Assert.Equal(XrdPhaseAnalyzer.FlagMisfit, late.Flag);
    }

    [Fact]
    public void The_wrong_X_ray_energy_leaves_the_pattern_unexplained()
    {
        var axis = BatteryMaterials.DefaultXrdAxis;
        var renderer = Renderer(axis, [BatteryMaterials.LiFePO4, BatteryMaterials.FePO4], SampleReaction.TwoPhase(["LiFePO4", "FePO4"]), new XrayBeam(0.55));
        var features = new XrdPhaseAnalyzer().Analyze(FrameFactory.Xrd(renderer.Render(0.5, 1, 1, new Random(3)), axis));
        output.WriteLine($"unexplained {features.Unexplained:F3}, flag {features.Flag}");
        Assert.Equal(XrdPhaseAnalyzer.FlagMisfit, features.Flag);
    }
}

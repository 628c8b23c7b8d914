using AutonomousBeamline.Configuration;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Materials;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Decomposition;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Learning.Surrogate;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Cli.Composition;

/// <summary>
/// The science of a run from the config (<c>beamline</c>, <c>materials</c>, <c>learning.target</c>): the analysers, the target,
/// the preflight reference check, and for a dry run the simulators' sample, rendered from the same materials description
/// with the deliberate differences of <c>simulation.physics</c>.
/// </summary>
internal static class ScienceComposition
{
    public static ObservationTarget Target(ExperimentConfig c) =>
        ObservationTarget.Parse(c.Learning.Target.Kind, c.Learning.Target.Of, c.Learning.Target.NormaliseTwoPhase, c.Learning.Target.Component,
            c.Acquisition.Kind == "xas" ? Core.Domain.FrameKind.Xas : Core.Domain.FrameKind.Xrd);

    /// <summary>The reference-free decomposition: always there, fed only a component-score target's frames and the frames the
    /// references leave unexplained (docs/materials.md). Where the diffraction references follow a moving phase, the patterns
    /// reach it as what those references leave, weighted to one noise level (Gaussian, not counts).</summary>
    public static IFrameDecomposition Decomposition(IXrdAnalyzer xrd) => new FrameDecomposition(maxComponents: ScienceValidator.MaxComponents,
        noise: xrd.FollowsMovingPhases ? new Dictionary<Core.Domain.FrameKind, NoiseModel> { [Core.Domain.FrameKind.Xrd] = NoiseModel.Gaussian } : null);

    /// <summary>The map's options for the configured target (<see cref="ObservationTarget.MapOptions"/>).</summary>
    public static ForestPhaseMapOptions MapOptions(ExperimentConfig c) => Target(c).MapOptions(c.Experiment.Seed);

    /// <summary>The diffraction analyser for whatever axis the detector describes, at the configured X-ray energy.</summary>
    public static DetectorAxisXrdAnalyzer XrdAnalyzer(ExperimentConfig c)
    {
        var target = Target(c);
        var options = XrdAnalyzerOptions.Default with
        {
            WavelengthAngstrom = ScienceMaterials.Beam(c).WavelengthAngstrom,
            ReportedPhase = target.MeasuredBy == Core.Domain.FrameKind.Xrd ? target.Of : null,
        };
        return new DetectorAxisXrdAnalyzer(ScienceMaterials.Diffraction(c), options);
    }

    public static XasEdgeAnalyzer XasAnalyzer(ExperimentConfig c) => new(ScienceMaterials.Absorption(c));

    public static IReferenceCheck ReferenceCheck(DetectorAxisXrdAnalyzer xrd, XasEdgeAnalyzer xas) => new ReferenceCheck(xrd, xas);

    /// <summary>
    /// The detector axis the simulated detector describes: 4096 bins of 2θ covering the same spacings (5.7 to 1.1 Å) as the
    /// default axis does at 0.5 Å, whatever the X-ray energy.
    /// </summary>
    public static UniformAxis SimulatedAxis(ExperimentConfig c)
    {
        var beam = ScienceMaterials.Beam(c);
        var standard = BatteryMaterials.DefaultXrdAxis;
        if (Math.Abs(beam.WavelengthAngstrom - BatteryMaterials.DefaultWavelengthAngstrom) < 1e-12) return standard;
        var dMax = Bragg.DSpacing(standard.Start, BatteryMaterials.DefaultWavelengthAngstrom);
        var dMin = Bragg.DSpacing(standard[standard.N - 1], BatteryMaterials.DefaultWavelengthAngstrom);
        var from = Bragg.TwoThetaDeg(dMax, beam.WavelengthAngstrom) ?? standard.Start;
        var to = Bragg.TwoThetaDeg(dMin, beam.WavelengthAngstrom) ?? 150;
        return standard with { Start = Math.Round(from, 3), Step = Math.Round((to - from) / (standard.N - 1), 5) };
    }

    public static PhysicsMismatch Mismatch(ExperimentConfig c)
    {
        var p = c.Simulation.Physics;
        return new PhysicsMismatch(p.IntensityJitter, p.WidthScale, p.EdgeShiftEv, p.WhiteLineScale, p.Seed);
    }

    /// <summary>The simulated sample: the configured phases and the simulation-only ones, as the simulator's physics has them, and their reaction.</summary>
    /// <param name="wavelengthAngstrom">The beamline's real wavelength; <c>simulation.physics.wavelength_angstrom</c> or the configured one when null.</param>
    public static SimulatedDiffraction SimulatedSample(ExperimentConfig c, double? wavelengthAngstrom = null)
    {
        var materials = ScienceMaterials.Diffraction(c);
        var mismatch = Mismatch(c);
        var names = materials.Phases.Select(p => p.Name).ToList();
        var reaction = c.Simulation.Reaction is { Count: > 0 } r
            ? new SampleReaction(r.Select(x => new ReactionPhase(x.Phase, x.Amount[0], x.Amount[1], x.Strain[0], x.Strain[1], x.AppearsAbove)).ToArray())
            : SampleReaction.TwoPhase(names);
        var shape = materials.Shape with { FwhmDeg = materials.Shape.FwhmDeg * mismatch.WidthScale, FwhmTanThetaDeg = materials.Shape.FwhmTanThetaDeg * mismatch.WidthScale };
        var beam = (wavelengthAngstrom ?? c.Simulation.Physics.WavelengthAngstrom) is { } actual ? new XrayBeam(actual) : ScienceMaterials.Beam(c);
        // The simulation-only phases (simulation.phases) beside the analysers' own: rendered, never given to the analysers.
        var phases = materials.Phases.Concat(ScienceMaterials.SimulationOnlyPhases(c)).Select((p, i) => mismatch.Apply(p, i)).ToArray();
        return new SimulatedDiffraction(phases, reaction, beam, shape);
    }

    /// <summary>
    /// The simulated diffraction: from the start at the beamline's real wavelength, and with <c>simulation.physics.wavelength_change</c>
    /// at the new one from <paramref name="runStart"/> + <c>at_s</c> on, on the same detector axis.
    /// </summary>
    public static IXrdRenderer XrdRenderer(ExperimentConfig c, DateTimeOffset runStart, TimeProvider time)
    {
        var before = new XrdPatternRenderer(SimulatedAxis(c), SimulatedSample(c));
        if (c.Simulation.Physics.WavelengthChange is not { } change) return before;
        var after = new XrdPatternRenderer(SimulatedAxis(c), SimulatedSample(c, change.WavelengthAngstrom));
        return new BeamlineChangeRenderer(before, after, runStart + TimeSpan.FromSeconds(change.AtS), time);
    }

    /// <summary>The simulated spectra: the first and last configured references (the Fe K-edge shapes by default), as the simulator's physics has them.</summary>
    public static XasSpectrumRenderer XasRenderer(ExperimentConfig c)
    {
        var absorption = ScienceMaterials.Absorption(c);
        var mismatch = Mismatch(c);
        if (absorption.References.Count == 0)
        {
            // No references: a plain edge at the tabulated energy moving 3 eV up with the state of charge.
            var e0 = absorption.Edge.EnergyEv + 3;
            var start = new FeEdgeShape(e0, 1.8, 6, 0.5, 3.5, e0 - 10, 0.03) { Name = "start" };
            return new XasSpectrumRenderer(mismatch.Apply(start), mismatch.Apply(start with { EdgeEv = e0 + 3, PreEdgeEv = e0 - 9, Name = "end" }));
        }
        return new XasSpectrumRenderer(mismatch.Apply(absorption.References[0]), mismatch.Apply(absorption.References[^1]));
    }

    /// <summary>The simulated monochromator's range: from 250 eV below the configured edge to 350 eV above.</summary>
    public static (double Min, double Max, double Start) MonochromatorRange(ExperimentConfig c)
    {
        var edge = ScienceMaterials.Absorption(c).Edge.EnergyEv;
        return c.Materials.Xas is null ? (6900, 7500, 7150) : (edge - 250, edge + 350, edge + 30);
    }

    /// <summary>The simulator's true value of the target at a local state of charge, for the dry run's map error; null where it has none.</summary>
    public static Func<double, double>? TruthOfTarget(ExperimentConfig c)
    {
        var target = Target(c);
        var sample = SimulatedSample(c);
        var phases = sample.Reaction.Phases;
        var name = target.Of ?? (target.Kind == TargetKind.XasFraction ? null : ScienceMaterials.Diffraction(c).Phases[^1].Name);
        var index = phases.Select(p => p.Name).ToList().IndexOf(name ?? "");
        switch (target.Kind)
        {
            case TargetKind.PhaseFraction when index >= 0:
                return u => sample.Reaction.Fractions(u)[index];
            case TargetKind.LatticeParameter when index >= 0 && sample.Phases.First(p => p.Name == name).LatticeA is { } a:
                return u => a * (1 + phases[index].Strain(u));
            case TargetKind.PeakPosition when index >= 0:
                var phase = sample.Phases.First(p => p.Name == name);
                var axis = DiffractionAxis.From(SimulatedAxis(c));
                return u => axis.PositionOf(phase.StrongestDSpacing * (1 + phases[index].Strain(u)), sample.Beam) ?? double.NaN;
            case TargetKind.XasFraction:
                var references = ScienceMaterials.Absorption(c).References;
                return references.Count > 0 && target.Of == references[0].Name ? u => 1 - u : u => u;
            default:
                return null;
        }
    }
}

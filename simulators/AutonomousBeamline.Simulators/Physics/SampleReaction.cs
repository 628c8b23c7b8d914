using AutonomousBeamline.Core.Materials;

namespace AutonomousBeamline.Simulators.Physics;

/// <summary>
/// How one phase takes part in the electrode's reaction as its local progress p runs from 0 (discharged, pristine) to 1
/// (charged): its amount and its lattice strain, each linear in p between the two ends (a two-phase reaction moves the
/// amounts, a solid solution the strain). <paramref name="AppearsAbove"/> lets a phase grow only once p passes it (a phase
/// that forms late, which no reference may have).
/// </summary>
public sealed record ReactionPhase(string Name, double AmountAt0, double AmountAt1, double StrainAt0 = 0, double StrainAt1 = 0, double AppearsAbove = 0)
{
    public double Amount(double progress)
    {
        if (progress < AppearsAbove) return AmountAt0;
        var t = AppearsAbove >= 1 ? 1 : (progress - AppearsAbove) / (1 - AppearsAbove);
        return Math.Max(0, AmountAt0 + t * (AmountAt1 - AmountAt0));
    }

    public double Strain(double progress) => StrainAt0 + progress * (StrainAt1 - StrainAt0);
}

/// <summary>The reaction of the simulated electrode: every phase's amount and strain at a local progress.</summary>
public sealed record SampleReaction(IReadOnlyList<ReactionPhase> Phases)
{
    /// <summary>The default for a list of phases: the first one converts into the last (two-phase); a single phase stays, unstrained.</summary>
    public static SampleReaction TwoPhase(IReadOnlyList<string> phases) => new(phases.Select((name, i) => i == 0 && phases.Count > 1
        ? new ReactionPhase(name, 1, 0)
        : i == phases.Count - 1 ? new ReactionPhase(name, phases.Count > 1 ? 0 : 1, 1) : new ReactionPhase(name, 0, 0)).ToArray());

    /// <summary>Each phase's share of the scattering at a progress (amounts normalised to sum 1).</summary>
    public double[] Fractions(double progress)
    {
        var amounts = Phases.Select(p => p.Amount(progress)).ToArray();
        var total = amounts.Sum();
        return total > 0 ? amounts.Select(a => a / total).ToArray() : amounts;
    }
}

/// <summary>
/// What the simulated world is made of, for the diffraction renderer: the phases (the same materials description the
/// analyser gets, or a deliberately different one), their reaction, the beam and the instrument's peak shape.
/// </summary>
public sealed record SimulatedDiffraction(IReadOnlyList<IDiffractionPhase> Phases, SampleReaction Reaction, XrayBeam Beam, PeakShape Shape)
{
    public static SimulatedDiffraction Olivines { get; } = new([BatteryMaterials.LiFePO4, BatteryMaterials.FePO4],
        SampleReaction.TwoPhase(["LiFePO4", "FePO4"]), XrayBeam.Default, PeakShape.Default);
}

/// <summary>
/// Deliberately different physics: how far the simulator's sample departs from the references the analysers are given,
/// so that a dry run rehearses references that are not quite right (config <c>simulation.physics</c>).
/// </summary>
/// <param name="IntensityJitter">Relative standard deviation of each reflection's intensity (a measured pattern: of a smooth modulation).</param>
/// <param name="WidthScale">Peak widths times this.</param>
/// <param name="EdgeShiftEv">The absorption references moved by this much in energy.</param>
/// <param name="WhiteLineScale">The references' structure above the edge step times this.</param>
public sealed record PhysicsMismatch(double IntensityJitter = 0, double WidthScale = 1, double EdgeShiftEv = 0, double WhiteLineScale = 1, int Seed = 11)
{
    public static PhysicsMismatch None { get; } = new();

    /// <summary>A phase as the simulated sample has it.</summary>
    public IDiffractionPhase Apply(IDiffractionPhase phase, int index)
    {
        if (IntensityJitter == 0) return phase;
        // Not HashCode.Combine: it is salted per process, and a rehearsal must render the same sample every time.
        var rng = new Random(unchecked(Seed * 7919 + index * 104_729 + 17));
        return phase switch
        {
            LatticePhase lattice => lattice.WithIntensities(r => r.RelativeIntensity * (1 + IntensityJitter * Gaussian(rng))),
            CrystalPhase crystal => new LatticePhase(crystal.Name, crystal.Lattice, crystal.Reflections)
                .WithIntensities(r => r.RelativeIntensity * (1 + IntensityJitter * Gaussian(rng))),
            _ => new ModulatedPhase(phase, IntensityJitter, rng.Next()),
        };
    }

    public IAbsorptionReference Apply(IAbsorptionReference reference) => EdgeShiftEv == 0 && WhiteLineScale == 1
        ? reference
        : new AlteredReference(reference, EdgeShiftEv, WhiteLineScale);

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>A measured phase whose intensities are scaled by a smooth random function of the spacing.</summary>
    private sealed class ModulatedPhase(IDiffractionPhase inner, double jitter, int seed) : IDiffractionPhase
    {
        private readonly (double Frequency, double Phase, double Amplitude)[] _waves = Waves(jitter, seed);

        public string Name => inner.Name;
        public double StrongestDSpacing => inner.StrongestDSpacing;
        public double? LatticeA => inner.LatticeA;

        public void AddDensity(double[] target, DiffractionAxis axis, XrayBeam beam, PeakShape shape, double strain, double widthScale, double scale)
        {
            var own = new double[target.Length];
            inner.AddDensity(own, axis, beam, shape, strain, widthScale, scale);
            for (var i = 0; i < own.Length; i++)
            {
                var inverseD = 1 / axis.DSpacingAt(axis.Axis[i], beam);
                var factor = 1.0;
                foreach (var (f, p, a) in _waves) factor += a * Math.Sin(f * inverseD + p);
                target[i] += own[i] * Math.Max(0.1, factor);
            }
        }

        private static (double, double, double)[] Waves(double jitter, int seed)
        {
            var rng = new Random(seed);
            return Enumerable.Range(0, 3).Select(_ => (8 + 20 * rng.NextDouble(), 2 * Math.PI * rng.NextDouble(), jitter * 0.8 * Gaussian(rng))).ToArray();
        }
    }

    private sealed class AlteredReference(IAbsorptionReference inner, double shiftEv, double structureScale) : IAbsorptionReference
    {
        public string Name => inner.Name;

        public double Mu(double energyEv)
        {
            var mu = inner.Mu(energyEv - shiftEv);
            return mu > 1 ? 1 + (mu - 1) * structureScale : mu;
        }
    }
}

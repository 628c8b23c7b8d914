using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Learning.Tests;

internal static class TestObservations
{
    public static Observation Make(double x, double y, double soc, double fraction, long sequence = 0, DecisionSource source = DecisionSource.Learner) => new()
    {
        Sequence = sequence,
        Frame = sequence,
        Time = DateTimeOffset.UnixEpoch.AddSeconds(sequence),
        Kind = FrameKind.Xrd,
        XMm = x,
        YMm = y,
        StateOfCharge = soc,
        CRate = 0.5,
        PhaseFraction = fraction,
        PhaseFractionSigma = 0.005,
        BeamCurrentMa = 200,
        Source = source,
    };

    /// <summary>Observations of <paramref name="truth"/> at seeded random points of a 20 x 10 mm electrode, at states of charge
    /// 0.1 … 0.9 (where the cell is two-phase and a normalised map keeps every frame).</summary>
    public static List<Observation> Random(int count, Func<double, double, double, double> truth, int seed, double noise = 0.0)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            var x = rng.NextDouble() * 20; var y = rng.NextDouble() * 10; var soc = 0.1 + 0.8 * rng.NextDouble();
            return Make(x, y, soc, truth(x, y, soc) + noise * (rng.NextDouble() - 0.5), i);
        }).ToList();
    }
}

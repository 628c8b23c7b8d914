using AutonomousBeamline.Learning.Evaluation;

namespace AutonomousBeamline.Learning.Tests.Evaluation;

public sealed class SpotChoiceErrorTests
{
    private static readonly RoiSearchSpace Space = new(0, 10, 0, 10, 0.5);

    private static double Bumpy(double x, double y) => 0.5 + 0.3 * Math.Sin(x / 1.5) * Math.Cos(y / 2);

    private static (double X, double Y)[] Lattice(double lo, double hi, int side) =>
        [.. from i in Enumerable.Range(0, side) from j in Enumerable.Range(0, side)
            select (lo + (hi - lo) * i / (side - 1), lo + (hi - lo) * j / (side - 1))];

    [Fact]
    public void A_plane_is_recovered_from_any_three_spots_off_a_line()
    {
        Assert.True(SpotChoiceError.Static([(0, 0), (10, 0), (3, 9)], Space, (x, y) => 0.2 + 0.03 * x + 0.01 * y) < 1e-6);
    }

    [Fact]
    public void Spots_spread_over_the_electrode_score_better_than_spots_in_one_corner()
    {
        var spread = SpotChoiceError.Static(Lattice(0, 10, 7), Space, Bumpy);
        var corner = SpotChoiceError.Static(Lattice(0, 4, 7), Space, Bumpy);
        Assert.True(spread < corner / 3, $"spread {spread:F4}, corner {corner:F4}");
    }

    [Fact]
    public void Operando_scoring_needs_spots_along_the_charge_too()
    {
        double Truth(double x, double y, double soc) => soc + 0.2 * Math.Sin(x / 2) * 4 * soc * (1 - soc);
        var spots = Lattice(0, 10, 6);
        var along = spots.Select((s, k) => (s.X, s.Y, 0.1 + 0.8 * k / (spots.Length - 1))).ToArray();
        var early = spots.Select((s, k) => (s.X, s.Y, 0.1 + 0.1 * k / (spots.Length - 1))).ToArray();
        Assert.True(SpotChoiceError.Operando(along, Space, Truth) < SpotChoiceError.Operando(early, Space, Truth));
        Assert.Throws<ArgumentException>(() => SpotChoiceError.Operando([], Space, Truth));
    }
}

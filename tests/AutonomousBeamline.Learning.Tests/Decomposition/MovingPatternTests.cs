using AutonomousBeamline.Core.Materials;
using AutonomousBeamline.Learning.Decomposition;

namespace AutonomousBeamline.Learning.Tests.Decomposition;

/// <summary>
/// Components that are one reflection in pieces (a solid solution's moving peaks, which a decomposition cuts into one component
/// per position) are told apart from distinct phases, and from two phases whose strongest peaks overlap. Patterns made here:
/// Gaussian peaks placed by Bragg's law from d-spacings, on a 2θ axis at 0.5 Å or a q axis.
/// </summary>
public sealed class MovingPatternTests
{
    private const double Wavelength = 0.5;
    private static readonly double[] TwoTheta = Enumerable.Range(0, 1500).Select(i => 4 + i * 0.01).ToArray();

    /// <summary>A layered oxide's strongest lines (Å, relative intensity).</summary>
    private static readonly (double D, double I)[] Layered = [(4.74, 1.0), (2.44, 0.4), (2.04, 0.7), (1.43, 0.3)];

    /// <summary>A rock salt's.</summary>
    private static readonly (double D, double I)[] RockSalt = [(2.41, 0.6), (2.09, 1.0), (1.48, 0.55)];

    private static double[] Pattern((double D, double I)[] lines, double strain, double[] axis, Func<double, double> position, double width)
    {
        var shape = new double[axis.Length];
        foreach (var (d, intensity) in lines)
        {
            var centre = position(d * (1 + strain));
            for (var i = 0; i < axis.Length; i++) shape[i] += intensity * Math.Exp(-0.5 * Math.Pow((axis[i] - centre) / width, 2));
        }
        var sum = shape.Sum();
        return shape.Select(v => v / sum + 1e-6).ToArray();
    }

    private static double[] OnTwoTheta((double D, double I)[] lines, double strain) =>
        Pattern(lines, strain, TwoTheta, d => Bragg.TwoThetaDeg(d, Wavelength)!.Value, 0.025);

    private static ResolvedComponent Component(int id, double[] shape) => new(id, shape, 1);

    [Fact]
    public void Four_components_of_one_pattern_at_successive_lattices_are_one_reflection_in_pieces_in_the_order_of_their_d_spacing()
    {
        // Shuffled ids: the chain's order comes from the lattices, not from the ids.
        var components = new[]
        {
            Component(3, OnTwoTheta(Layered, -0.010)),
            Component(1, OnTwoTheta(Layered, 0)),
            Component(5, OnTwoTheta(RockSalt, 0)),
            Component(4, OnTwoTheta(Layered, -0.005)),
            Component(2, OnTwoTheta(Layered, -0.015)),
        };
        var moving = Assert.Single(MovingPatterns.Find(components, TwoTheta, "two_theta", "deg"));
        Assert.Equal([2, 3, 4, 1], moving.Ids);
        Assert.Equal(0.015, moving.StrainSpan, 0.001);
        Assert.Equal(Bragg.TwoThetaDeg(4.74 * (1 - 0.015), Wavelength)!.Value, moving.PeaksTo, 0.01);
        Assert.Equal(Bragg.TwoThetaDeg(4.74, Wavelength)!.Value, moving.PeaksFrom, 0.01);
    }

    [Fact]
    public void Distinct_phases_are_no_reflection_in_pieces_nor_are_two_whose_strongest_peaks_overlap()
    {
        // Two phases of one structure a small strain apart overlap: two components, which a reflection in pieces never is alone.
        var components = new[]
        {
            Component(1, OnTwoTheta(Layered, 0)),
            Component(2, OnTwoTheta(Layered, -0.004)),
            Component(3, OnTwoTheta(RockSalt, 0)),
            Component(4, OnTwoTheta(Layered, -0.03)),
        };
        Assert.Empty(MovingPatterns.Find(components, TwoTheta, "two_theta", "deg"));
    }

    [Fact]
    public void A_pattern_moving_on_a_q_axis_is_found_too_and_an_absorption_axis_is_not_searched()
    {
        var q = Enumerable.Range(0, 1500).Select(i => 1.0 + i * 0.003).ToArray();
        double[] OnQ(double strain) => Pattern(Layered, strain, q, d => 2 * Math.PI / d, 0.006);
        var components = new[] { Component(1, OnQ(0)), Component(2, OnQ(0.006)), Component(3, OnQ(0.012)) };
        Assert.Equal([1, 2, 3], Assert.Single(MovingPatterns.Find(components, q, "q", "1/angstrom")).Ids);

        var energy = Enumerable.Range(0, 1500).Select(i => 8300 + i * 0.1).ToArray();
        Assert.Empty(MovingPatterns.Find(components, energy, "energy", "eV"));
    }
}

using AutonomousBeamline.Core.Materials;

namespace AutonomousBeamline.Learning.Tests.Materials;

public sealed class MaterialsTests
{
    [Theory]
    [InlineData(0, 1, 1, true)]
    [InlineData(0, 1, 0, false)]  // 0k0 needs k even
    [InlineData(0, 2, 1, false)]  // 0kl needs k + l even
    [InlineData(1, 1, 0, false)]  // hk0 needs h even
    [InlineData(2, 1, 0, true)]
    [InlineData(1, 0, 0, false)]  // h00 needs h even
    [InlineData(0, 0, 1, false)]  // 00l needs l even
    [InlineData(1, 0, 1, true)]   // h0l is unrestricted in Pnma
    [InlineData(1, 1, 1, true)]
    public void Pnma_extinctions(int h, int k, int l, bool allowed) => Assert.Equal(allowed, PnmaExtinctions.IsAllowed(h, k, l));

    [Fact]
    public void Every_listed_reflection_is_allowed_and_a_forbidden_one_is_refused()
    {
        Assert.All(BatteryMaterials.LiFePO4Reflections, r => Assert.True(PnmaExtinctions.IsAllowed(r.H, r.K, r.L), $"({r.H}{r.K}{r.L})"));
        Assert.All(BatteryMaterials.FePO4Reflections, r => Assert.True(PnmaExtinctions.IsAllowed(r.H, r.K, r.L), $"({r.H}{r.K}{r.L})"));
        var error = Assert.Throws<ArgumentException>(() => new CrystalPhase("bad", BatteryMaterials.LiFePO4Lattice, [new Reflection(1, 0, 0, 10)]));
        Assert.Contains("(1 0 0)", error.Message);
    }

    [Fact]
    public void D_spacings_follow_the_orthorhombic_formula()
    {
        var lattice = BatteryMaterials.LiFePO4Lattice;
        Assert.Equal(10.33 / 2, lattice.DSpacing(2, 0, 0), 10);
        Assert.Equal(6.01 / 2, lattice.DSpacing(0, 2, 0), 10);
        // (311) of LiFePO4 lies near 2.52 Å, its strongest laboratory line (35.6° with Cu Kα).
        Assert.InRange(lattice.DSpacing(3, 1, 1), 2.50, 2.54);
        Assert.Equal(1 / Math.Sqrt(1 / (10.33 * 10.33) + 1 / (4.69 * 4.69)), lattice.DSpacing(1, 0, 1), 10);
    }

    [Fact]
    public void Bragg_angles_at_the_synchrotron_wavelength()
    {
        // d = 5.165 Å at 0.5 Å: 2θ = 2 asin(0.5 / 10.33) = 5.549°.
        Assert.Equal(5.549, Bragg.TwoThetaDeg(5.165, 0.5)!.Value, 3);
        Assert.Null(Bragg.TwoThetaDeg(0.2, 0.5));
        Assert.Equal(2.0, Bragg.DSpacing(Bragg.TwoThetaDeg(2.0, 0.5)!.Value, 0.5), 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => Bragg.TwoThetaDeg(-1, 0.5));
    }

    [Fact]
    public void Delithiation_moves_peaks_apart_the_way_the_lattice_shrinks()
    {
        var lfp = BatteryMaterials.LiFePO4.Peaks(0.5).ToDictionary(p => (p.Reflection.H, p.Reflection.K, p.Reflection.L), p => p.TwoThetaDeg);
        var fp = BatteryMaterials.FePO4.Peaks(0.5).ToDictionary(p => (p.Reflection.H, p.Reflection.K, p.Reflection.L), p => p.TwoThetaDeg);
        Assert.True(fp[(2, 0, 0)] > lfp[(2, 0, 0)]); // a shrinks
        Assert.True(fp[(0, 0, 2)] < lfp[(0, 0, 2)]); // c grows
    }

    [Fact]
    public void Reference_patterns_have_unit_area_on_the_default_axis()
    {
        var axis = BatteryMaterials.DefaultXrdAxis;
        Assert.Equal(4096, axis.N);
        Assert.Equal(5.0, axis.Start);
        Assert.Equal(0.005, axis.Step);
        foreach (var phase in new[] { BatteryMaterials.LiFePO4, BatteryMaterials.FePO4 })
        {
            var pattern = ReferencePattern.Calculate(phase, axis);
            var area = pattern.Density.Sum() * axis.Step;
            // Lorentzian tails that fall outside the axis or the peak window take a little of the area.
            Assert.InRange(area, 0.97, 1.001);
            Assert.All(pattern.Density, v => Assert.True(v >= 0));
        }
    }

    [Fact]
    public void Pseudo_voigt_has_unit_area()
    {
        var sum = 0.0;
        for (var x = -50.0; x <= 50.0; x += 0.001) sum += ReferencePattern.PseudoVoigt(x, 0.05, 0.5) * 0.001;
        Assert.InRange(sum, 0.999, 1.0001);
    }

    [Fact]
    public void Fe_K_edge_is_normalised_and_linear_in_the_oxidised_fraction()
    {
        var edge = BatteryMaterials.FeKEdge;
        Assert.InRange(edge.Mu(7000, 0.3), -0.001, 0.01);
        Assert.InRange(edge.Mu(7400, 0.3), 0.98, 1.02);
        foreach (var e in new[] { 7115.0, 7122.0, 7126.0, 7135.0 })
            Assert.Equal(0.7 * edge.Reduced.Mu(e) + 0.3 * edge.Oxidised.Mu(e), edge.Mu(e, 0.3), 12);
        Assert.InRange(edge.EdgeEnergyEv(0), 7121.5, 7122.5);
        Assert.InRange(edge.EdgeEnergyEv(1) - edge.EdgeEnergyEv(0), 2.5, 3.5);
        // A white line: the normalised absorption overshoots 1 just above the edge.
        Assert.True(edge.Mu(edge.Reduced.WhiteLineEv, 0) > 1.3);
    }
}

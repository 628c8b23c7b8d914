using AutonomousBeamline.Cli.OperatorConsole;
using AutonomousBeamline.Control.Operator;
using Spectre.Console.Testing;

namespace AutonomousBeamline.EndToEnd.Tests.OperatorConsole;

/// <summary>
/// The heat map says what its spread is of and in which unit, with digits enough for the target's scale: a peak position's
/// spread in degrees, a lattice parameter's in Å (a few 1e-4, which three fixed decimals showed as 0), a share's in none.
/// </summary>
public class SpreadUnitsTests
{
    /// <summary>The sample snapshot with a 2 × 2 map of the (003) position's spread (degrees, as the detector's 2θ axis has it).</summary>
    private static DashboardModel Model(double[] spread, string? quantity, string? unit) => new()
    {
        Endpoint = "tcp://127.0.0.1:5560",
        Snapshot = ScriptedOperations.Sample("Measuring") with { Uncertainty = new UncertaintyGrid(0, 0, 1, 2, 2, spread) { Quantity = quantity, Unit = unit } },
    };

    [Fact]
    public void The_full_layout_names_the_quantity_and_gives_the_spread_in_its_unit()
    {
        var console = new TestConsole().Width(180).Height(80).SupportsUnicode(true);
        console.Write(DashboardView.Render(Model([0.0004, 0.0009, 0.0013, 0.0021], "peak position of NMC811", "degree")));

        Assert.Contains("spread (°) at SOC 37 %", console.Output);
        Assert.Contains("spread 0.0004 .. 0.0021 °, ?? none", console.Output);
        Assert.Contains("of the peak position of NMC811", console.Output);
    }

    [Fact]
    public void The_compact_layout_names_the_quantity_and_gives_the_spread_in_its_unit()
    {
        var console = new TestConsole().Width(80).Height(24).SupportsUnicode(true).Colors(Spectre.Console.ColorSystem.NoColors);
        console.Write(DashboardView.Render(Model([0.00031, 0.0004, 0.00052, 0.00075], "lattice parameter a of NMC811", "angstrom")));

        Assert.Contains(console.Lines, l => l.Contains("spread of lattice parameter a of NMC811 (Å) at SOC 37 %"));
        Assert.Contains(console.Lines, l => l.Contains("low 0.00031 .. '@' high 0.00075 Å spread"));
    }

    [Fact]
    public void A_share_has_no_unit_and_a_controller_that_does_not_say_gets_the_old_labels()
    {
        var share = new TestConsole().Width(180).Height(80).SupportsUnicode(true);
        share.Write(DashboardView.Render(Model([0.012, 0.02, 0.031, 0.05], "fraction of FePO4", "")));
        Assert.Contains("spread at SOC 37 %", share.Output);
        Assert.Contains("spread 0.012 .. 0.05, ?? none", share.Output);
        Assert.Contains("of the fraction of FePO4", share.Output);

        var older = new TestConsole().Width(180).Height(80).SupportsUnicode(true);
        older.Write(DashboardView.Render(Model([0.012, 0.02, 0.031, 0.05], null, null)));
        Assert.Contains("model uncertainty over the ROI", older.Output);
        Assert.Contains("spread 0.012 .. 0.05, ?? none", older.Output);
        Assert.DoesNotContain("of the fraction", older.Output);
    }
}

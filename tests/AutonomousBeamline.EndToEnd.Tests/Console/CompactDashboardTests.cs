using AutonomousBeamline.Cli.OperatorConsole;
using Spectre.Console.Testing;

namespace AutonomousBeamline.EndToEnd.Tests.OperatorConsole;

/// <summary>The dashboard on a standard 80×24 terminal: it fits, keeps the header, and its heat map reads without colour.</summary>
public class CompactDashboardTests
{
    private static DashboardModel Model(bool help = false) => new()
    {
        Endpoint = "tcp://127.0.0.1:5560",
        Snapshot = ScriptedOperations.Sample("Measuring"),
        Messages = [new ConsoleMessage(DateTimeOffset.Now, false, "c-rate refused (REFUSED): outside the envelope, and a reason long enough to need cutting at the edge of the screen")],
        Input = "goto 3",
        ShowHelp = help,
    };

    [Theory]
    [InlineData(80, 24)]
    [InlineData(100, 30)]
    public void On_a_standard_terminal_the_dashboard_fits_without_wrapping_and_keeps_the_header(int width, int height)
    {
        var console = new TestConsole().Width(width).Height(height);
        console.Write(DashboardView.Render(Model()));
        var lines = console.Lines.ToList();
        Assert.True(lines.Count <= height, $"{lines.Count} lines on a {height}-line terminal:\n{console.Output}");
        Assert.All(lines, l => Assert.True(l.TrimEnd().Length <= width, $"a line wider than {width}: {l}"));
        Assert.Contains("run-0042", lines[0]);
        Assert.Contains("state Measuring", lines[0]);
        Assert.Contains("attached", lines[1]);
        Assert.Contains(lines, l => l.Contains("3.4125 V") && l.Contains("37.0 %"));
        Assert.Contains(lines, l => l.Contains("frames 12/200"));
        Assert.Contains(lines, l => l.Contains("PENDING") && l.Contains("faster cycling"));
        Assert.Contains(lines, l => l.Contains("largest spread near the phase front"));
        Assert.Contains(lines, l => l.StartsWith("> goto 3", StringComparison.Ordinal));
    }

    [Fact]
    public void Without_colour_the_heat_map_reads_through_its_character_ramp_and_legend()
    {
        var console = new TestConsole().Width(80).Height(24).Colors(Spectre.Console.ColorSystem.NoColors);
        console.Write(DashboardView.Render(Model()));
        var lines = console.Lines.ToList();
        var title = lines.FindIndex(l => l.Contains("model uncertainty"));
        Assert.True(title > 0, console.Output);
        // The sample grid: 4 × 3 spreads 0.1 … 1.1 and one missing, high y first; the stage at (2, 1) is X.
        var map = lines.Skip(title + 1).Take(3).Select(l => l.TrimEnd()).ToList();
        Assert.Equal(["#%@?", "=+X*", " .:-"], map);
        Assert.Contains(lines, l => l.Contains("legend") && l.Contains("low 0.1") && l.Contains("high 1.1") && l.Contains(CompactDashboardView.Ramp));
        // Whether the spread can be trusted, right under it.
        Assert.Contains(lines, l => l.Contains("calibration: 90 % intervals held on 86 % of the last 50 new frames"));
    }

    [Fact]
    public void Help_takes_the_maps_place_and_still_fits()
    {
        var console = new TestConsole().Width(80).Height(24);
        console.Write(DashboardView.Render(Model(help: true)));
        Assert.True(console.Lines.Count <= 24, console.Output);
        Assert.Contains("goto", console.Output);
        Assert.Contains("run-0042", console.Lines[0]);
    }
}

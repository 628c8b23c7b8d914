namespace AutonomousBeamline.Configuration.Tests;

/// <summary><c>simulation.physics.wavelength_change</c> (the beamline changes mid-run) and the bounded wait for an operator.</summary>
public sealed class WavelengthChangeConfigTests
{
    private static string Base(string physics, string acquisition = "")
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AutonomousBeamline.sln"))) dir = dir.Parent;
        return File.ReadAllText(Path.Combine(dir!.FullName, "configs/dry-run.yaml"))
            .Replace("simulation:\n", $"simulation:\n  physics: {physics}\n")
            .Replace("  beam_settle_s: 60", "  beam_settle_s: 60" + acquisition);
    }

    [Fact]
    public void A_change_of_wavelength_part_way_through_is_read_with_its_time()
    {
        var config = ConfigLoader.Parse(Base("{ wavelength_change: { at_s: 3600, wavelength_angstrom: 0.55 } }", "\n  unusable_operator_wait_s: 600"));
        var change = config.Simulation.Physics.WavelengthChange!;
        Assert.Equal((3600.0, 0.55), (change.AtS, change.WavelengthAngstrom));
        Assert.Equal(600, config.Acquisition.UnusableOperatorWaitS);
        Assert.Equal(1800, ConfigLoader.Parse(Base("{ }")).Acquisition.UnusableOperatorWaitS);
    }

    [Theory]
    [InlineData("{ wavelength_change: { at_s: 0, wavelength_angstrom: 0.55 } }", "simulation.physics.wavelength_change.at_s", "after the start")]
    [InlineData("{ wavelength_change: { at_s: 60, wavelength_angstrom: 9 } }", "simulation.physics.wavelength_change.wavelength_angstrom", "0.05 to 5")]
    [InlineData("{ wavelength_change: { at_s: 60, wavelength_angstrom: 0.5 } }", "simulation.physics.wavelength_change.wavelength_angstrom", "already runs at (0.5 Å)")]
    [InlineData("{ wavelength_angstrom: 0.6, wavelength_change: { at_s: 60, wavelength_angstrom: 0.6 } }", "simulation.physics.wavelength_change.wavelength_angstrom", "already runs at (0.6 Å)")]
    public void A_change_that_changes_nothing_or_makes_no_sense_is_refused_naming_the_field(string physics, string path, string says)
    {
        var error = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Base(physics))).Errors);
        Assert.Equal(path, error.Path);
        Assert.Contains(says, error.Message);
    }

    [Fact]
    public void The_wait_for_an_operator_must_be_bounded_and_positive()
    {
        var error = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Base("{ }", "\n  unusable_operator_wait_s: 0"))).Errors);
        Assert.Equal("acquisition.unusable_operator_wait_s", error.Path);
    }
}

using AutonomousBeamline.Cli;
using AutonomousBeamline.Configuration;
using AutonomousBeamline.Simulators.Faults;

namespace AutonomousBeamline.EndToEnd.Tests;

/// <summary>The program checks <c>simulation.faults</c> against what its simulators can do, though the config project does not know them.</summary>
public sealed class UnknownFaultKindTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fault-kind-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task Validate_and_dry_run_refuse_a_fault_the_simulators_cannot_commit()
    {
        var yaml = File.ReadAllText(DryRunTests.RepoFile("configs/dry-run-faults.yaml"));
        Assert.Contains("device: detector, kind: drop_frame", yaml);
        var path = Path.Combine(_dir, "melt.yaml");
        File.WriteAllText(path, yaml.Replace("device: detector, kind: drop_frame", "device: detector, kind: melt"));
        var runs = Path.Combine(_dir, "runs");

        Assert.Equal(Commands.BadConfig, Commands.Validate(path));
        Assert.Equal(Commands.BadConfig, await Commands.DryRunAsync(path, runs, seed: null, CancellationToken.None));
        Assert.False(Directory.Exists(runs));

        // What both print: the loader's error against the simulators' table.
        var error = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, FaultKinds.ByDevice)).Errors);
        Assert.Equal("simulation.faults[1].kind", error.Path);
        Assert.Equal("a detector fault must be one of drop_reply, slow_reply, drop_frame, truncated_frame, wrong_n, nan_values, " +
                     "frame_for_no_request, fault, got 'melt'", error.Message);
    }
}

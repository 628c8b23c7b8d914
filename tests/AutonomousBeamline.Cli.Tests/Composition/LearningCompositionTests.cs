using AutonomousBeamline.Cli.Composition;
using AutonomousBeamline.Configuration;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Cli.Tests.Composition;

/// <summary>The learner reads the target's values as the map learns them.</summary>
public class LearningCompositionTests
{
    private static string RepoFile(string relative)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AutonomousBeamline.sln"))) dir = dir.Parent;
        return Path.Combine(dir!.FullName, relative);
    }

    [Theory]
    [InlineData("configs/dry-run.yaml", MapValues.TwoPhaseShape)]   // the FePO4 fraction
    [InlineData("configs/dry-run-nmc.yaml", MapValues.Raw)]         // the (003) peak position, in degrees
    public void The_learner_reads_values_as_the_configured_targets_map_does(string config, MapValues expected)
    {
        var c = ConfigLoader.Load(RepoFile(config));
        var planner = Assert.IsType<LearnerRoiPlanner>(LearningComposition.Planner(c, () => null, new AxisSpeeds(2, 2)));
        Assert.Equal(expected, planner.Options.Values);
        Assert.Equal(expected, ScienceComposition.MapOptions(c).Values);
    }
}

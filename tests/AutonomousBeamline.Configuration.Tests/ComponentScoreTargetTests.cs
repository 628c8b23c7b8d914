namespace AutonomousBeamline.Configuration.Tests;

public sealed class ComponentScoreTargetTests
{
    private static string Base => File.ReadAllText(Path.Combine(RepoRoot(), "configs", "dry-run.yaml"));

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AutonomousBeamline.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    private static IReadOnlyList<ConfigError> Errors(string yaml) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Base + yaml)).Errors;

    [Fact]
    public void A_component_score_target_names_its_component()
    {
        var config = ConfigLoader.Parse(Base + "\nlearning:\n  target: { kind: component_score, component: 2 }\n");
        Assert.Equal(("component_score", 2), (config.Learning.Target.Kind, config.Learning.Target.Component));
    }

    [Theory]
    [InlineData("{ kind: component_score }", "learning.target.component", "needs the component's id")]
    [InlineData("{ kind: component_score, component: 0 }", "learning.target.component", "must be 1 to 8")]
    [InlineData("{ kind: component_score, component: 9 }", "learning.target.component", "must be 1 to 8")]
    [InlineData("{ kind: component_score, component: 1, of: FePO4 }", "learning.target.of", "no reference")]
    [InlineData("{ kind: component_score, component: 1, normalise_two_phase: true }", "learning.target.normalise_two_phase", "two-phase")]
    [InlineData("{ kind: phase_fraction, component: 1 }", "learning.target.component", "only a component_score")]
    public void A_wrong_component_score_target_is_refused_by_name(string target, string path, string message)
    {
        var errors = Errors($"\nlearning:\n  target: {target}\n");
        Assert.Contains(errors, e => e.Path == path && e.Message.Contains(message));
    }
}

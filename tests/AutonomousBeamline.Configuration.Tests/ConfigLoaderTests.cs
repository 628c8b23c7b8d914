using AutonomousBeamline.Configuration;

namespace AutonomousBeamline.Configuration.Tests;

public class ConfigLoaderTests
{
    private static string RepoFile(string relative)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AutonomousBeamline.sln"))) dir = dir.Parent;
        return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("repository root not found"), relative);
    }

    [Fact]
    public void The_shipped_dry_run_config_is_valid()
    {
        var config = ConfigLoader.Load(RepoFile("configs/dry-run.yaml"));
        Assert.Equal("lfp-operando-demo", config.Experiment.Name);
        Assert.Equal(0.005, config.Cell.NominalCapacityAh);
        Assert.Equal(3, config.Protocol.Steps.Count);
        Assert.Equal(-2.0, config.Protocol.Steps[2].CRate);
        Assert.Equal(3.8, config.Protocol.Steps[0].Until.VoltageV);
        Assert.Equal("sample_x", config.Axes.X);
        Assert.Equal(0.5, config.Search.Roi.StepMm);
    }

    private static string Modified(string find, string replace)
    {
        var text = File.ReadAllText(RepoFile("configs/dry-run.yaml"));
        Assert.Contains(find, text);
        return text.Replace(find, replace);
    }

    private static int LineOf(string yaml, string fragment) =>
        yaml.Split('\n').Select((l, i) => (l, i)).First(p => p.l.Contains(fragment)).i + 1;

    [Fact]
    public void A_value_outside_the_rules_is_named_with_its_line()
    {
        var yaml = Modified("voltage_max_v: 4.0", "voltage_max_v: 2.0");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "test.yaml"));
        var error = Assert.Single(e.Errors, x => x.Path == "cell.voltage_max_v");
        Assert.Equal(LineOf(yaml, "voltage_max_v: 2.0"), error.Line);
        Assert.Contains("must be above voltage_min_v", error.Message);
        Assert.Contains("test.yaml", e.Message);
    }

    [Fact]
    public void A_step_error_points_into_the_sequence()
    {
        var yaml = Modified("c_rate: -2.0", "c_rate: -5.0");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml));
        var error = Assert.Single(e.Errors, x => x.Path == "protocol.steps[2].c_rate");
        Assert.Equal(LineOf(yaml, "c_rate: -5.0"), error.Line);
        Assert.Contains("exceeds cell.max_c_rate", error.Message);
    }

    [Fact]
    public void A_cut_off_outside_the_window_is_refused()
    {
        var yaml = Modified("until: { voltage_v: 3.8, duration_s: 4500 }", "until: { voltage_v: 4.3, duration_s: 4500 }");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml));
        Assert.Contains(e.Errors, x => x.Path == "protocol.steps[0].until.voltage_v" && x.Message.Contains("outside the cell window"));
    }

    [Fact]
    public void An_unknown_key_is_named_with_its_line()
    {
        var yaml = Modified("  max_c_rate: 3.0", "  max_c_rate: 3.0\n  max_crate: 2");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml));
        var error = Assert.Single(e.Errors);
        Assert.Equal(LineOf(yaml, "max_crate: 2"), error.Line);
        Assert.Contains("max_crate", error.Message);
    }

    [Fact]
    public void A_value_of_the_wrong_type_is_named_with_its_line()
    {
        var yaml = Modified("nominal_capacity_ah: 0.005", "nominal_capacity_ah: five");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml));
        var error = Assert.Single(e.Errors);
        Assert.Equal(LineOf(yaml, "nominal_capacity_ah: five"), error.Line);
    }

    [Fact]
    public void Broken_yaml_syntax_is_reported_with_its_line()
    {
        var yaml = "experiment:\n  name: x\ncell: [unclosed\n";
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml));
        Assert.True(Assert.Single(e.Errors).Line >= 3);
    }

    [Fact]
    public void Every_problem_is_listed_not_only_the_first()
    {
        var yaml = Modified("frames: 80", "frames: 0").Replace("strategy: learner", "strategy: clever");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml));
        Assert.Contains(e.Errors, x => x.Path == "budget.frames");
        Assert.Contains(e.Errors, x => x.Path == "acquisition.strategy" && x.Message.Contains("clever"));
    }

    /// <summary>Stands in for the simulators' fault table, which this project does not see.</summary>
    private static readonly Dictionary<string, string[]> FaultKinds = new()
    {
        ["motion"] = ["drop_reply", "fault"],
        ["detector"] = ["drop_frame"],
    };

    private static string WithFault(string device, string kind) =>
        Modified("simulation:\n", $"simulation:\n  faults:\n    - {{ at_s: 100, device: {device}, kind: {kind} }}\n");

    [Fact]
    public void A_fault_kind_the_given_vocabulary_does_not_know_is_named_with_its_line()
    {
        var yaml = WithFault("motion", "explode");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "test.yaml", FaultKinds));
        var error = Assert.Single(e.Errors);
        Assert.Equal("simulation.faults[0].kind", error.Path);
        Assert.Equal(LineOf(yaml, "kind: explode"), error.Line);
        Assert.Equal("a motion fault must be one of drop_reply, fault, got 'explode'", error.Message);
    }

    [Fact]
    public void A_fault_device_the_given_vocabulary_does_not_know_is_refused()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(WithFault("cryostat", "fault"), "test.yaml", FaultKinds));
        var error = Assert.Single(e.Errors);
        Assert.Equal("simulation.faults[0].device", error.Path);
        Assert.Equal("must be one of motion, detector, got 'cryostat'", error.Message);
    }

    [Fact]
    public void Without_a_vocabulary_fault_kinds_are_left_to_whoever_injects_them_but_the_rest_is_checked()
    {
        var config = ConfigLoader.Parse(WithFault("cryostat", "explode"));
        Assert.Equal("explode", Assert.Single(config.Simulation.Faults).Kind);

        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(WithFault("cryostat", "explode").Replace("at_s: 100", "at_s: -1")));
        Assert.Equal("simulation.faults[0].at_s", Assert.Single(e.Errors).Path);
    }

    [Fact]
    public void A_known_fault_passes_with_the_vocabulary() =>
        Assert.Equal("drop_frame", Assert.Single(ConfigLoader.Parse(WithFault("detector", "drop_frame"), "test.yaml", FaultKinds).Simulation.Faults).Kind);

    [Fact]
    public void A_missing_file_is_a_clear_error() =>
        Assert.Contains("no such file", Assert.Throws<ConfigException>(() => ConfigLoader.Load("/nonexistent/x.yaml")).Message);
}

using System.Diagnostics;
using AutonomousBeamline.Configuration;

namespace AutonomousBeamline.Configuration.Tests;

/// <summary>
/// The configs a demanding user (or a fuzzer) writes: every one that would crash or hang a run is refused by the loader,
/// naming the field and its line, in words rather than .NET type names.
/// </summary>
public sealed class HostileConfigTests
{
    internal static string Shipped => File.ReadAllText(RepoFile("configs/dry-run.yaml"));

    internal static string RepoFile(string relative)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AutonomousBeamline.sln"))) dir = dir.Parent;
        return Path.Combine(dir!.FullName, relative);
    }

    private static string Modified(string find, string replace)
    {
        Assert.Contains(find, Shipped);
        return Shipped.Replace(find, replace);
    }

    private static int LineOf(string yaml, string fragment) =>
        yaml.Split('\n').Select((l, i) => (l, i)).First(p => p.l.Contains(fragment)).i + 1;

    private static ConfigError Refused(string yaml, string path)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "test.yaml"));
        AssertNoDotNetNames(e);
        return Assert.Single(e.Errors, x => x.Path == path);
    }

    internal static void AssertNoDotNetNames(ConfigException e)
    {
        foreach (var error in e.Errors)
            foreach (var name in new[] { "System.", "Double", "Int32", "Int64", "String", "Boolean", "List`1", "Exception" })
                Assert.DoesNotContain(name, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("voltage_min_v: 2.5", "voltage_min_v: .nan", "cell.voltage_min_v")]
    [InlineData("initial_state_of_charge: 0.45", "initial_state_of_charge: .nan", "cell.initial_state_of_charge")]
    [InlineData("x_min_mm: 0,", "x_min_mm: .nan,", "search.roi.x_min_mm")]
    [InlineData("y_max_mm: 10,", "y_max_mm: -.inf,", "search.roi.y_max_mm")]
    [InlineData("start_ev: 7090", "start_ev: .NaN", "search.energy_windows[0].start_ev")]
    [InlineData("beam_threshold_ma: 10", "beam_threshold_ma: .nan", "acquisition.beam_threshold_ma")]
    [InlineData("exposure_s: 20", "exposure_s: .inf", "acquisition.exposure_s")]
    public void A_number_that_is_not_finite_is_refused_by_name_and_line(string find, string replace, string path)
    {
        var yaml = Modified(find, replace);
        var error = Refused(yaml, path);
        Assert.Equal(LineOf(yaml, replace), error.Line);
        Assert.Contains("finite", error.Message);
    }

    [Theory]
    [InlineData("step_ev: 0.5", "step_ev: 1e-300", "search.energy_windows[0].step_ev")]
    [InlineData("sample_period_s: 10", "sample_period_s: 1e-300", "protocol.sample_period_s")]
    [InlineData("until: { duration_s: 120 }", "until: { duration_s: 1e308 }", "protocol.steps[1].until.duration_s")]
    [InlineData("timeout_s: 5", "timeout_s: 1e308", "devices.detector.timeout_s")]
    [InlineData("retries: 3\n  detector", "retries: -1\n  detector", "devices.motion.retries")]
    [InlineData("frames: 80", "frames: -5", "budget.frames")]
    [InlineData("exposure_s: 20", "exposure_s: 1e9", "acquisition.exposure_s")]
    [InlineData("beam_poll_s", "beam_poll_s", "acquisition.beam_poll_s")]
    public void A_number_outside_any_sane_range_is_refused(string find, string replace, string path)
    {
        var yaml = path == "acquisition.beam_poll_s" ? Modified("beam_settle_s: 60", "beam_settle_s: 60\n  beam_poll_s: 0") : Modified(find, replace);
        var error = Refused(yaml, path);
        Assert.True(error.Line > 0);
    }

    [Fact]
    public void A_whole_number_given_as_a_fraction_or_as_text_says_what_was_expected()
    {
        var yaml = Modified("frames: 80", "frames: 80.5").Replace("seed: 42", "seed: forty-two");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml));
        Assert.Contains(e.Errors, x => x.Path == "budget.frames" && x.Message == "expected a whole number, got '80.5'");
        Assert.Contains(e.Errors, x => x.Path == "experiment.seed" && x.Message == "expected a whole number, got 'forty-two'");
        AssertNoDotNetNames(e);
    }

    [Theory]
    [InlineData("  voltage_min_v: 2.5\n", "cell.voltage_min_v")]
    [InlineData("  initial_state_of_charge: 0.45", "cell.initial_state_of_charge")]
    [InlineData("  name: lfp-operando-demo\n", "experiment.name")]
    public void A_required_field_left_out_is_an_error_not_a_silent_zero(string start, string path)
    {
        // The whole line goes, its comment with it.
        var from = Shipped.IndexOf(start, StringComparison.Ordinal);
        Assert.True(from >= 0, $"the shipped config has no line starting '{start.Trim()}'");
        var to = Shipped.IndexOf('\n', from) + 1;
        var error = Refused(Shipped[..from] + Shipped[to..], path);
        Assert.StartsWith("is required", error.Message);
    }

    [Fact]
    public void A_missing_section_is_named_once_not_as_every_rule_it_breaks()
    {
        var yaml = Shipped[..Shipped.IndexOf("cell:", StringComparison.Ordinal)] + Shipped[Shipped.IndexOf("protocol:", StringComparison.Ordinal)..];
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml));
        Assert.Contains(e.Errors, x => x.Path == "cell" && x.Message.StartsWith("is required", StringComparison.Ordinal));
        Assert.DoesNotContain(e.Errors, x => x.Path.StartsWith("cell.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("  exposure_s: 20", "  exposure: 20", "acquisition.exposure", "did you mean exposure_s?")]
    [InlineData("  beam_threshold_ma: 10", "  beam_treshold_ma: 10", "acquisition.beam_treshold_ma", "did you mean beam_threshold_ma?")]
    [InlineData("  max_c_rate: 3.0", "  max-c-rate: 3.0", "cell.max-c-rate", "did you mean max_c_rate?")]
    public void An_unknown_field_suggests_the_near_miss(string find, string replace, string path, string suggestion)
    {
        var error = Refused(Modified(find, replace), path);
        Assert.EndsWith(suggestion, error.Message);
    }

    [Fact]
    public void An_unknown_top_level_section_is_an_error_that_lists_the_sections()
    {
        var error = Refused(Shipped + "\nsimulaton:\n  field_seed: 1\n", "simulaton");
        Assert.Contains("did you mean", error.Message);
        var other = Refused(Shipped + "\nwhatever:\n  id: 1\n", "whatever");
        Assert.Contains("experiment", other.Message);
    }

    [Fact]
    public void A_duplicate_key_is_an_error_naming_both_lines()
    {
        var yaml = Modified("  voltage_max_v: 4.0\n", "  voltage_max_v: 4.0\n  voltage_max_v: 4.5\n");
        var error = Refused(yaml, "cell.voltage_max_v");
        Assert.Equal(LineOf(yaml, "voltage_max_v: 4.5"), error.Line);
        Assert.Contains($"first given on line {LineOf(yaml, "voltage_max_v: 4.0")}", error.Message);
    }

    [Fact]
    public void Every_problem_is_listed_with_its_line_kind_range_key_and_rule_alike()
    {
        var yaml = Modified("frames: 80", "frames: many")
            .Replace("  exposure_s: 20", "  exposur_s: 20")
            .Replace("voltage_min_v: 2.5", "voltage_min_v: .nan")
            .Replace("strategy: learner", "strategy: clever")
            .Replace("retries: 3\n  detector", "retries: -1\n  detector");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml));
        Assert.Equal(["cell.voltage_min_v", "devices.motion.retries", "acquisition.exposur_s", "acquisition.strategy", "budget.frames"],
            e.Errors.Select(x => x.Path));
        Assert.All(e.Errors, x => Assert.True(x.Line > 0));
    }

    [Fact]
    public void Deeply_nested_brackets_are_refused_without_overflowing_the_stack()
    {
        var yaml = "experiment: " + new string('[', 100_000) + new string(']', 100_000) + "\n";
        var error = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml)).Errors);
        Assert.Contains("nests", error.Message);
    }

    [Fact]
    public void An_alias_bomb_is_refused_at_once_without_filling_memory()
    {
        var bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" +
                   string.Concat(Enumerable.Range(1, 12).Select(i => $"{(char)('a' + i)}: &{(char)('a' + i)} [{string.Join(", ", Enumerable.Repeat($"*{(char)('a' + i - 1)}", 10))}]\n"));
        var watch = Stopwatch.StartNew();
        var error = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Parse(bomb)).Errors);
        Assert.Contains("aliases expanded", error.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
    }

    [Fact]
    public void A_file_too_large_to_be_an_experiment_is_refused_before_it_is_parsed()
    {
        var yaml = Modified("name: lfp-operando-demo", "name: " + new string('x', 5_000_000));
        var error = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml)).Errors);
        Assert.Equal("(file)", error.Path);
    }

    [Theory]
    [InlineData("../../../x")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData(".hidden")]
    [InlineData("name\u202Egnp.exe")]
    [InlineData("zero\u200Bwidth")]
    [InlineData("tab\tname")]
    public void An_experiment_name_that_is_not_a_safe_file_name_is_refused(string name)
    {
        var yaml = Modified("name: lfp-operando-demo", $"name: \"{name.Replace("\t", "\\t", StringComparison.Ordinal)}\"");
        Refused(yaml, "experiment.name");
    }

    [Fact]
    public void An_experiment_name_longer_than_a_folder_name_should_be_is_refused() =>
        Assert.Contains("at most 64", Refused(Modified("name: lfp-operando-demo", "name: " + new string('x', 65)), "experiment.name").Message);

    [Theory]
    [InlineData("tcp://*:5560", "reachable from other machines")]
    [InlineData("tcp://0.0.0.0:5560", "reachable from other machines")]
    [InlineData("tcp://127.0.0.1:65535", "at most 65534")]
    [InlineData("tcp://127.0.0.1:abc", "port must be a number")]
    [InlineData("tcp://127.0.0.1:70000", "port must be a number")]
    [InlineData("tcp://[::1]", "needs a port")]
    [InlineData("tcp://bad host:5560", "is not a host")]
    [InlineData("http://127.0.0.1:5560", "ZeroMQ TCP endpoint")]
    public void An_operator_endpoint_that_would_throw_at_run_time_is_refused_by_validate(string endpoint, string message)
    {
        var error = Refused(Modified("endpoint: tcp://127.0.0.1:5560", $"endpoint: \"{endpoint}\""), "operator.endpoint");
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Loopback_endpoints_in_every_spelling_pass()
    {
        foreach (var endpoint in new[] { "tcp://127.0.0.1:5560", "tcp://localhost:5560", "tcp://[::1]:5560", "tcp://127.0.0.2:6000" })
            ConfigLoader.Parse(Modified("endpoint: tcp://127.0.0.1:5560", $"endpoint: \"{endpoint}\""));
    }

    [Fact]
    public void A_curve_key_that_is_not_z85_is_refused_and_keys_open_other_interfaces()
    {
        const string key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
        var keyed = Modified("  approval_window_s: 0", $"  approval_window_s: 0\n  curve_secret_key: \"{key}\"\n  curve_client_public_keys: [\"{key}\"]")
            .Replace("endpoint: tcp://127.0.0.1:5560", "endpoint: tcp://*:5560");
        ConfigLoader.Parse(keyed);

        var bad = keyed.Replace($"curve_secret_key: \"{key}\"", "curve_secret_key: \"not-a-key\"");
        Assert.Contains("Z85", Refused(bad, "operator.curve_secret_key").Message);
        var noClients = keyed.Replace($"curve_client_public_keys: [\"{key}\"]", "curve_client_public_keys: []");
        Refused(noClients, "operator.curve_clients");
    }

    [Fact]
    public void A_device_endpoint_without_a_host_or_port_is_refused()
    {
        Assert.Contains("needs a port", Refused(Modified("endpoint: tcp://127.0.0.1:5555", "endpoint: tcp://127.0.0.1"), "devices.motion.endpoint").Message);
        Assert.Contains("only for an endpoint that binds", Refused(Modified("data: tcp://127.0.0.1:5558", "data: tcp://*:5558"), "devices.detector.data").Message);
    }

    [Fact]
    public void Merge_keys_and_more_than_one_document_are_refused_with_a_reason()
    {
        Assert.Contains("merge keys", Refused(Modified("cell:\n", "cell:\n  <<: {}\n"), "cell.<<").Message);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Shipped + "\n---\nexperiment: {}\n"));
        Assert.Contains(e.Errors, x => x.Message.Contains("more than one YAML document"));
    }
}

using System.Globalization;
using AutonomousBeamline.Configuration;

namespace AutonomousBeamline.Configuration.Tests;

/// <summary>The protocol section: every step kind's fields, loops, c_rate_by_cycle, and an error for each mistake.</summary>
public class ProtocolConfigTests
{
    private static string RepoFile(string relative)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AutonomousBeamline.sln"))) dir = dir.Parent;
        return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("repository root not found"), relative);
    }

    /// <summary>The shipped protocol demo with its protocol section replaced.</summary>
    private static string WithProtocol(string protocol)
    {
        var text = File.ReadAllText(RepoFile("configs/dry-run-protocol.yaml"));
        var start = text.IndexOf("protocol:\n", StringComparison.Ordinal);
        var end = text.IndexOf("devices:\n", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "the demo config has a protocol section before devices");
        return text[..start] + "protocol:\n" + protocol.TrimEnd() + "\n\n" + text[end..];
    }

    private static IReadOnlyList<ConfigError> Errors(string protocol) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.Parse(WithProtocol(protocol))).Errors;

    private static int LineOf(string yaml, string fragment) =>
        yaml.Split('\n').Select((l, i) => (l, i)).First(p => p.l.Contains(fragment, StringComparison.Ordinal)).i + 1;

    [Fact]
    public void The_shipped_protocol_demo_is_valid_and_uses_every_common_kind()
    {
        var config = ConfigLoader.Load(RepoFile("configs/dry-run-protocol.yaml"));
        var p = config.Protocol;
        Assert.Equal(2, p.Cycles);
        Assert.Equal([1.0, 2.0], p.CRateByCycle!);
        Assert.Equal(["cc", "cv", "rest", "cc", "gitt"], p.Steps.Select(s => s.Type).ToArray());
        Assert.Equal(0.00025, p.Steps[1].HoldUntilCurrentA);
        Assert.Equal(0.0001, p.Steps[2].DvDtVPerS);
        Assert.Equal(60, p.Steps[2].DvDtWindowS);
        Assert.Equal(120, p.Steps[4].PulseS);
        Assert.Equal(300, p.Steps[4].RestS);
        Assert.Equal(3, p.Steps[4].MaxPulses);
        Assert.Equal(20, p.Steps[4].SamplePeriodS);
        // The budget outlasts the protocol, so that the dry run ends with the protocol done.
        Assert.True(config.Budget.Frames * config.Acquisition.ExposureS > 2 * 3 * 3600);
    }

    [Fact]
    public void Every_step_kind_and_a_nested_loop_read_from_yaml()
    {
        var config = ConfigLoader.Parse(WithProtocol("""
              sample_period_s: 5
              cycles: 3
              c_rate_by_cycle: [0.5, 1.5]
              steps:
                - name: formation
                  type: cccv
                  current_a: 0.0025
                  voltage_v: 3.65
                  hold_until_current_a: 0.0002
                  until: { duration_s: 20000, charge_ah: 0.006 }
                - name: block
                  type: loop
                  repeat: 2
                  steps:
                    - name: inner
                      type: loop
                      repeat: 3
                      steps:
                        - { name: push, type: cc, c_rate: 1, until: { voltage_v: 3.9, duration_s: 60 } }
                        - { name: pause, type: rest, until: { duration_s: 30 } }
                    - name: hold
                      type: cv
                      voltage_v: 3.5
                      until: { current_a: 0.0001, duration_s: 600 }
                - name: titration
                  type: gitt
                  current_a: -0.001
                  pulse_s: 300
                  rest_s: 1800
                  max_pulses: 40
                  until: { voltage_v: 2.9, duration_s: 90000 }
            """));

        var steps = config.Protocol.Steps;
        Assert.Equal([0.5, 1.5], config.Protocol.CRateByCycle!);
        Assert.Equal(0.0025, steps[0].CurrentA);
        Assert.Equal(3.65, steps[0].VoltageV);
        Assert.Equal(0.006, steps[0].Until.ChargeAh);
        Assert.Equal(2, steps[1].Repeat);
        Assert.Equal(3, steps[1].Steps![0].Repeat);
        Assert.Equal("pause", steps[1].Steps![0].Steps![1].Name);
        Assert.Equal(0.0001, steps[1].Steps![1].Until.CurrentA);
        Assert.Equal(-0.001, steps[2].CurrentA);
        Assert.Equal(40, steps[2].MaxPulses);
    }

    [Fact]
    public void An_error_inside_a_loop_names_the_nested_path_and_its_line()
    {
        var yaml = WithProtocol("""
              cycles: 1
              steps:
                - name: block
                  type: loop
                  repeat: 2
                  steps:
                    - { name: rest, type: rest, until: { duration_s: 30 } }
                    - name: push
                      type: cc
                      c_rate: 7.5
                      until: { voltage_v: 3.9, duration_s: 60 }
            """);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml));
        var error = Assert.Single(e.Errors);
        Assert.Equal("protocol.steps[0].steps[1].c_rate", error.Path);
        Assert.Equal(LineOf(yaml, "c_rate: 7.5"), error.Line);
        Assert.Contains("exceeds cell.max_c_rate", error.Message);
    }

    [Theory]
    // A missing time limit is refused for every kind that drives the cell.
    [InlineData("- { name: a, type: rest }", "protocol.steps[0].until.duration_s", "every step needs a time limit")]
    [InlineData("- { name: a, type: cc, c_rate: 1, until: { voltage_v: 3.6, duration_s: -5 } }", "protocol.steps[0].until.duration_s", "must be positive")]
    [InlineData("- { name: a, type: cc, c_rate: 1, current_a: 0.005, until: { voltage_v: 3.6, duration_s: 60 } }", "protocol.steps[0].current_a", "either c_rate or current_a")]
    [InlineData("- { name: a, type: cc, current_a: 0.02, until: { voltage_v: 3.6, duration_s: 60 } }", "protocol.steps[0].current_a", "exceeds the cell's maximum current")]
    [InlineData("- { name: a, type: cc, current_a: 0, until: { voltage_v: 3.6, duration_s: 60 } }", "protocol.steps[0].current_a", "non-zero")]
    [InlineData("- { name: a, type: cc, until: { voltage_v: 3.6, duration_s: 60 } }", "protocol.steps[0].c_rate", "needs a non-zero signed C-rate")]
    [InlineData("- { name: a, type: cc, c_rate: 1, until: { duration_s: 60 } }", "protocol.steps[0].until.voltage_v", "needs a voltage cut-off")]
    [InlineData("- { name: a, type: cc, c_rate: 1, voltage_v: 3.6, until: { voltage_v: 3.6, duration_s: 60 } }", "protocol.steps[0].voltage_v", "is not used by a cc step")]
    [InlineData("- { name: a, type: cc, c_rate: 1, sample_period_s: 0, until: { voltage_v: 3.6, duration_s: 60 } }", "protocol.steps[0].sample_period_s", "must be a positive number")]
    [InlineData("- { name: a, type: cv, until: { duration_s: 60 } }", "protocol.steps[0].voltage_v", "needs the voltage to hold")]
    [InlineData("- { name: a, type: cv, voltage_v: 4.5, until: { duration_s: 60 } }", "protocol.steps[0].voltage_v", "outside the cell window")]
    [InlineData("- { name: a, type: cv, voltage_v: 3.6, hold_until_current_a: -1, until: { duration_s: 60 } }", "protocol.steps[0].hold_until_current_a", "must be a positive number")]
    [InlineData("- { name: a, type: cv, voltage_v: 3.6, hold_until_current_a: 0.001, until: { current_a: 0.001, duration_s: 60 } }", "protocol.steps[0].hold_until_current_a", "not both")]
    [InlineData("- { name: a, type: cv, voltage_v: 3.6, c_rate: 1, until: { duration_s: 60 } }", "protocol.steps[0].c_rate", "is not used by a cv step")]
    [InlineData("- { name: a, type: cccv, c_rate: 1, voltage_v: 3.6, until: { duration_s: 60 } }", "protocol.steps[0].hold_until_current_a", "needs the current below which its hold ends")]
    [InlineData("- { name: a, type: cccv, c_rate: 0.1, voltage_v: 3.6, hold_until_current_a: 0.001, until: { duration_s: 60 } }", "protocol.steps[0].hold_until_current_a", "not below the constant current")]
    [InlineData("- { name: a, type: cccv, c_rate: 1, hold_until_current_a: 0.001, until: { duration_s: 60 } }", "protocol.steps[0].voltage_v", "needs the voltage to reach and then hold")]
    [InlineData("- { name: a, type: cccv, c_rate: 1, voltage_v: 3.6, hold_until_current_a: 0.001, until: { voltage_v: 3.6, duration_s: 60 } }", "protocol.steps[0].until.voltage_v", "is not used by a cccv step")]
    [InlineData("- { name: a, type: rest, dv_dt_v_per_s: 0, until: { duration_s: 60 } }", "protocol.steps[0].dv_dt_v_per_s", "must be a positive number")]
    [InlineData("- { name: a, type: rest, dv_dt_window_s: 30, until: { duration_s: 60 } }", "protocol.steps[0].dv_dt_window_s", "only used with dv_dt_v_per_s")]
    [InlineData("- { name: a, type: rest, until: { duration_s: 60, charge_ah: 0.001 } }", "protocol.steps[0].until.charge_ah", "is not used by a rest step")]
    [InlineData("- { name: a, type: rest, c_rate: 1, until: { duration_s: 60 } }", "protocol.steps[0].c_rate", "is not used by a rest step")]
    [InlineData("- { name: a, type: cc, c_rate: 1, dv_dt_v_per_s: 0.001, until: { voltage_v: 3.6, duration_s: 60 } }", "protocol.steps[0].dv_dt_v_per_s", "is not used by a cc step")]
    [InlineData("- { name: a, type: gitt, c_rate: 0.2, rest_s: 60, max_pulses: 3, until: { voltage_v: 3.6, duration_s: 600 } }", "protocol.steps[0].pulse_s", "needs the pulse length")]
    [InlineData("- { name: a, type: gitt, c_rate: 0.2, pulse_s: 60, max_pulses: 3, until: { voltage_v: 3.6, duration_s: 600 } }", "protocol.steps[0].rest_s", "needs the rest after each pulse")]
    [InlineData("- { name: a, type: gitt, c_rate: 0.2, pulse_s: 60, rest_s: 60, until: { voltage_v: 3.6, duration_s: 600 } }", "protocol.steps[0].max_pulses", "needs the most pulses")]
    [InlineData("- { name: a, type: gitt, c_rate: 0.2, pulse_s: 60, rest_s: 60, max_pulses: 0, until: { voltage_v: 3.6, duration_s: 600 } }", "protocol.steps[0].max_pulses", "at least 1")]
    [InlineData("- { name: a, type: gitt, c_rate: 0.2, pulse_s: -1, rest_s: 60, max_pulses: 3, until: { voltage_v: 3.6, duration_s: 600 } }", "protocol.steps[0].pulse_s", "must be a positive number")]
    [InlineData("- { name: a, type: gitt, c_rate: 0.2, pulse_s: 60, rest_s: 60, max_pulses: 3, until: { duration_s: 600 } }", "protocol.steps[0].until.voltage_v", "voltage limit")]
    [InlineData("- { name: a, type: gitt, c_rate: 0.2, pulse_s: 60, rest_s: 60, max_pulses: 3, until: { voltage_v: 4.2, duration_s: 600 } }", "protocol.steps[0].until.voltage_v", "outside the cell window")]
    [InlineData("- { name: a, type: cc, c_rate: 1, max_pulses: 3, until: { voltage_v: 3.6, duration_s: 60 } }", "protocol.steps[0].max_pulses", "is not used by a cc step")]
    [InlineData("- { name: a, type: loop, steps: [ { name: b, type: rest, until: { duration_s: 5 } } ] }", "protocol.steps[0].repeat", "a loop needs repeat")]
    [InlineData("- { name: a, type: loop, repeat: 0, steps: [ { name: b, type: rest, until: { duration_s: 5 } } ] }", "protocol.steps[0].repeat", "at least 1")]
    [InlineData("- { name: a, type: loop, repeat: 2 }", "protocol.steps[0].steps", "at least one step")]
    [InlineData("- { name: a, type: loop, repeat: 2, until: { duration_s: 60 }, steps: [ { name: b, type: rest, until: { duration_s: 5 } } ] }", "protocol.steps[0].until", "put the limits on its steps")]
    [InlineData("- { name: a, type: loop, repeat: 2, c_rate: 1, steps: [ { name: b, type: rest, until: { duration_s: 5 } } ] }", "protocol.steps[0].c_rate", "is not used by a loop step")]
    [InlineData("- { name: a, type: rest, repeat: 2, until: { duration_s: 60 } }", "protocol.steps[0].repeat", "is not used by a rest step")]
    [InlineData("- { name: a, type: ocv, until: { duration_s: 60 } }", "protocol.steps[0].type", "must be one of cc, cv, cccv, rest, gitt, loop")]
    public void A_wrong_step_is_named_by_its_field(string step, string path, string message)
    {
        var errors = Errors("  cycles: 1\n  steps:\n    " + step);
        Assert.Contains(errors, e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void Loops_may_not_nest_without_end()
    {
        var rest = "{ name: r, type: rest, until: { duration_s: 5 } }";
        var nested = rest;
        for (var i = 0; i < 5; i++) nested = $"{{ name: l{i}, type: loop, repeat: 2, steps: [ {nested} ] }}";
        var errors = Errors($"  cycles: 1\n  steps:\n    - {nested}");
        Assert.Contains(errors, e => e.Path.EndsWith(".steps", StringComparison.Ordinal) && e.Message.Contains("nest deeper than 4", StringComparison.Ordinal));
    }

    [Fact]
    public void A_protocol_that_unrolls_to_too_many_step_runs_is_refused()
    {
        var errors = Errors("""
              cycles: 1000
              steps:
                - name: block
                  type: loop
                  repeat: 1000
                  steps: [ { name: r, type: rest, until: { duration_s: 5 } } ]
            """);
        Assert.Contains(errors, e => e.Path == "protocol.cycles" && e.Message.Contains("100,000", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("[1.0, 2.0, 1.0]", "protocol.c_rate_by_cycle", "has 3 entries but the protocol runs 2 cycle(s)")]
    [InlineData("[1.0, 3.5]", "protocol.c_rate_by_cycle[1]", "at most cell.max_c_rate (3)")]
    [InlineData("[-1.0]", "protocol.c_rate_by_cycle[0]", "must be a magnitude above 0")]
    [InlineData("[]", "protocol.c_rate_by_cycle", "is empty")]
    public void C_rate_by_cycle_is_checked_against_the_cycles_and_the_window(string rates, string path, string message)
    {
        var errors = Errors($$"""
              cycles: 2
              c_rate_by_cycle: {{rates}}
              steps:
                - { name: charge, type: cc, c_rate: 1, until: { voltage_v: 3.6, duration_s: 60 } }
            """);
        Assert.Contains(errors, e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void C_rate_by_cycle_respects_the_current_cap_and_needs_a_step_to_act_on()
    {
        var yaml = WithProtocol("""
              cycles: 2
              c_rate_by_cycle: [1.0, 2.0]
              steps:
                - { name: pause, type: rest, until: { duration_s: 60 } }
            """).Replace("max_c_rate: 3.0", "max_c_rate: 3.0\n  max_current_a: 0.008", StringComparison.Ordinal);
        var errors = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml)).Errors;
        Assert.Contains(errors, e => e.Path == "protocol.c_rate_by_cycle[1]" && e.Message.Contains("above cell.max_current_a (0.008 A)", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "protocol.c_rate_by_cycle" && e.Message.Contains("has none", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_step_example_in_the_docs_is_a_valid_step()
    {
        var doc = File.ReadAllText(RepoFile("docs/scpi.md")).ReplaceLineEndings("\n");
        var examples = doc.Split("```yaml\n").Skip(1)
            .Select(block => block[..block.IndexOf("```", StringComparison.Ordinal)])
            .Where(block => block.StartsWith("- name:", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(6, examples.Count);
        foreach (var example in examples)
        {
            var indented = string.Join("\n", example.TrimEnd().Split('\n').Select(line => "    " + line));
            var config = ConfigLoader.Parse(WithProtocol("  cycles: 1\n  steps:\n" + indented), "docs/scpi.md example");
            Assert.Single(config.Protocol.Steps);
        }
    }

    [Fact]
    public void Messages_print_numbers_the_same_in_every_culture()
    {
        var previous = CultureInfo.CurrentCulture;
        // A decimal comma, as in much of Europe (built by hand: the test host may run without culture data).
        var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        comma.NumberFormat.NumberDecimalSeparator = ",";
        CultureInfo.CurrentCulture = comma;
        try
        {
            var errors = Errors("  cycles: 1\n  steps:\n    - { name: a, type: cv, voltage_v: 4.5, until: { duration_s: 60 } }");
            Assert.Contains(errors, e => e.Message.Contains("4.5 V is outside the cell window [2.5, 4] V", StringComparison.Ordinal));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }
}

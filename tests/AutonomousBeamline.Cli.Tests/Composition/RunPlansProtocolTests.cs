using AutonomousBeamline.Cli.Composition;
using AutonomousBeamline.Configuration;
using AutonomousBeamline.Control.Cycling;

namespace AutonomousBeamline.Cli.Tests.Composition;

/// <summary>From the config's fields to the steps the cycler runs, and the schedule they unroll to.</summary>
public class RunPlansProtocolTests
{
    private static ProtocolStepConfig Leaf(string name, string type, double durationS = 60) =>
        new() { Name = name, Type = type, Until = new StepLimits { DurationS = durationS } };

    [Fact]
    public void Each_config_field_reaches_its_step()
    {
        var section = new ProtocolSection
        {
            SamplePeriodS = 5,
            Cycles = 2,
            CRateByCycle = [0.5, 1],
            Steps =
            [
                new() { Name = "cc", Type = "cc", CurrentA = -0.002, SamplePeriodS = 2, Until = new() { VoltageV = 3.0, DurationS = 100, ChargeAh = 0.001 } },
                new() { Name = "cv", Type = "cv", VoltageV = 3.5, Until = new() { CurrentA = 0.0001, DurationS = 200 } },
                new() { Name = "cccv", Type = "cccv", CRate = 1, VoltageV = 3.6, HoldUntilCurrentA = 0.0003, Until = new() { DurationS = 300 } },
                new() { Name = "rest", Type = "rest", DvDtVPerS = 1e-5, DvDtWindowS = 90, Until = new() { DurationS = 400 } },
                new() { Name = "gitt", Type = "gitt", CRate = 0.2, PulseS = 30, RestS = 120, MaxPulses = 7, Until = new() { VoltageV = 3.7, DurationS = 5000 } },
                new() { Name = "loop", Type = "loop", Repeat = 3, Steps = [Leaf("a", "rest"), Leaf("b", "rest")] },
            ],
        };

        var protocol = RunPlans.Protocol(section);

        Assert.Equal(TimeSpan.FromSeconds(5), protocol.SamplePeriod);
        Assert.Equal([0.5, 1.0], protocol.CRateByCycle);
        var s = protocol.Steps;
        Assert.Equal([StepKind.ConstantCurrent, StepKind.ConstantVoltage, StepKind.ConstantCurrentConstantVoltage, StepKind.Rest, StepKind.Gitt, StepKind.Loop],
            s.Select(x => x.Kind).ToArray());
        Assert.Equal(-0.002, s[0].CurrentA);
        Assert.Equal(3.0, s[0].CutoffVoltageV);
        Assert.Equal(0.001, s[0].MaxChargeAh);
        Assert.Equal(TimeSpan.FromSeconds(2), s[0].SamplePeriod);
        Assert.Equal((-0.4, -0.002), s[0].SourceCurrent(0.005, null));
        Assert.Equal(0.0001, s[1].CutoffCurrentA);
        Assert.Equal(3.6, s[2].HoldVoltageV);
        Assert.Equal(0.0003, s[2].CutoffCurrentA);
        Assert.Equal(1e-5, s[3].DvDtThresholdVPerS);
        Assert.Equal(TimeSpan.FromSeconds(90), s[3].DvDtWindow);
        Assert.Equal(TimeSpan.FromSeconds(30), s[4].PulseDuration);
        Assert.Equal(TimeSpan.FromSeconds(120), s[4].RestDuration);
        Assert.Equal(7, s[4].MaxPulses);
        Assert.Equal(3, s[5].Repeat);
        Assert.Equal(["a", "b"], s[5].Steps.Select(x => x.Name).ToArray());
    }

    [Fact]
    public void A_requested_rate_keeps_the_steps_sign_and_leaves_gitt_pulses_alone()
    {
        var discharge = new ProtocolStep { Name = "d", Kind = StepKind.ConstantCurrent, CurrentA = -0.001, CutoffVoltageV = 3, MaxDuration = TimeSpan.FromMinutes(1) };
        var gitt = new ProtocolStep
        {
            Name = "g", Kind = StepKind.Gitt, CRate = 0.1, PulseDuration = TimeSpan.FromSeconds(1), RestDuration = TimeSpan.FromSeconds(1),
            MaxPulses = 1, CutoffVoltageV = 3.6, MaxDuration = TimeSpan.FromMinutes(1),
        };
        Assert.Equal((-2.0, -0.01), discharge.SourceCurrent(0.005, 2));
        Assert.Equal((0.1, 0.1 * 0.005), gitt.SourceCurrent(0.005, 2));
    }

    [Fact]
    public void The_schedule_unrolls_nested_loops_in_every_cycle_with_their_paths()
    {
        var rest = new ProtocolStep { Name = "r", Kind = StepKind.Rest, MaxDuration = TimeSpan.FromSeconds(1) };
        var inner = new ProtocolStep { Name = "inner", Kind = StepKind.Loop, Repeat = 2, Steps = [rest] };
        var outer = new ProtocolStep { Name = "outer", Kind = StepKind.Loop, Repeat = 2, Steps = [inner, rest with { Name = "s" }] };
        var protocol = new CyclingProtocol([outer, rest with { Name = "end" }], 2, TimeSpan.FromSeconds(1));

        var schedule = protocol.Schedule();

        Assert.Equal(14, schedule.Count);
        Assert.Equal(
            ["outer[1]/inner[1]/r", "outer[1]/inner[2]/r", "outer[1]/s", "outer[2]/inner[1]/r", "outer[2]/inner[2]/r", "outer[2]/s", "end"],
            schedule.Take(7).Select(x => x.Path).ToArray());
        Assert.Equal(Enumerable.Range(0, 14).ToArray(), schedule.Select(x => x.Index).ToArray());
        Assert.All(schedule.Skip(7), x => Assert.Equal(2, x.Cycle));
    }

    [Fact]
    public void A_step_that_could_run_forever_is_refused_by_name()
    {
        var endless = new ProtocolStep { Name = "endless", Kind = StepKind.Rest };
        var e = Assert.Throws<ArgumentException>(() => new CyclingProtocol([endless], 1, TimeSpan.FromSeconds(1)));
        Assert.Contains("'endless'", e.Message);
        Assert.Contains("time limit", e.Message);

        var emptyLoop = new ProtocolStep { Name = "l", Kind = StepKind.Loop, Repeat = 2 };
        Assert.Contains("at least one step", Assert.Throws<ArgumentException>(() => new CyclingProtocol([emptyLoop], 1, TimeSpan.FromSeconds(1))).Message);

        var noPulses = new ProtocolStep { Name = "g", Kind = StepKind.Gitt, CRate = 0.1, PulseDuration = TimeSpan.FromSeconds(1), RestDuration = TimeSpan.FromSeconds(1), CutoffVoltageV = 3.6, MaxDuration = TimeSpan.FromMinutes(1) };
        Assert.Contains("max pulses", Assert.Throws<ArgumentException>(() => new CyclingProtocol([noPulses], 1, TimeSpan.FromSeconds(1))).Message);
    }

    [Fact]
    public void An_unknown_type_is_named()
    {
        var e = Assert.Throws<ArgumentException>(() => RunPlans.Step(Leaf("x", "ocv")));
        Assert.Contains("unknown type 'ocv'", e.Message);
    }
}

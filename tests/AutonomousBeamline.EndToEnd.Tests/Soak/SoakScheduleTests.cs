using AutonomousBeamline.Cli.Soak;
using AutonomousBeamline.Configuration;
using AutonomousBeamline.Simulators.Faults;

namespace AutonomousBeamline.EndToEnd.Tests.Soak;

public sealed class SoakScheduleTests
{
    [Fact]
    public void The_same_seed_gives_the_same_night_and_another_seed_another()
    {
        var baseConfig = ConfigLoader.Load(DryRunTests.RepoFile("configs/soak.yaml"));
        string Night(int seed) => string.Join("\n", SoakSchedule.Describe(SoakSchedule.Build(12, seed).Apply(baseConfig)));

        Assert.Equal(Night(7), Night(7));
        Assert.NotEqual(Night(7), Night(8));
    }

    [Fact]
    public void Every_device_and_every_kind_the_simulators_know_is_scheduled_inside_the_hours()
    {
        var schedule = SoakSchedule.Build(12, seed: 3);

        foreach (var (device, kinds) in FaultKinds.ByDevice)
            foreach (var kind in kinds)
                Assert.Contains(schedule.Faults, f => f.Device == device && f.Kind == kind);
        Assert.All(schedule.Faults, f => Assert.InRange(f.AtS, SoakSchedule.LeadInS, 12 * 3600 * (1 - SoakSchedule.TailFraction)));
        Assert.Equal(54, schedule.Faults.Count); // 4.5 an hour, more than the kinds there are
        Assert.Equal(3, schedule.BeamDumps.Count);
        Assert.All(schedule.BeamDumps, d => Assert.InRange(d.AtS + d.DurationS, 0, 12 * 3600 * (1 - SoakSchedule.TailFraction)));
    }

    [Fact]
    public void Faults_are_spread_one_at_a_time_and_beam_dumps_do_not_overlap()
    {
        var schedule = SoakSchedule.Build(0.5, seed: 1);

        var times = schedule.Faults.Select(f => f.AtS).ToList();
        Assert.Equal(times.Order(), times);
        Assert.Equal(times.Count, times.Distinct().Count());
        // A short night still gets every kind once, and at least one beam dump.
        Assert.Equal(FaultKinds.ByDevice.Sum(p => p.Value.Length), schedule.Faults.Count);
        Assert.Single(schedule.BeamDumps);
    }

    [Fact]
    public void A_kind_added_to_the_vocabulary_is_scheduled_without_touching_the_soak()
    {
        var kinds = new Dictionary<string, string[]> { ["potentiostat"] = ["drop_reply", "disconnect"], ["motion"] = ["fault"] };

        var schedule = SoakSchedule.Build(1, seed: 2, kinds);

        var disconnects = schedule.Faults.Where(f => f.Kind == "disconnect").ToList();
        Assert.NotEmpty(disconnects);
        Assert.All(disconnects, d => Assert.Equal(("potentiostat", 20.0), (d.Device, d.DurationS)));
        Assert.Contains(schedule.Faults, f => f.Device == "motion" && f.Kind == "fault");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(double.NaN)]
    public void A_night_of_no_hours_is_refused(double hours) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => SoakSchedule.Build(hours, seed: 1));

    [Fact]
    public void The_derived_config_lasts_the_hours_carries_the_schedule_and_reads_back()
    {
        var baseConfig = ConfigLoader.Load(DryRunTests.RepoFile("configs/soak.yaml"));
        var schedule = SoakSchedule.Build(12, seed: 4);

        var yaml = SoakSchedule.ToYaml(schedule.Apply(baseConfig));
        var config = ConfigLoader.Parse(yaml, faultKinds: FaultKinds.ByDevice);

        Assert.Equal(schedule.Faults.Count, config.Simulation.Faults.Count);
        Assert.Equal(schedule.BeamDumps.Select(d => d.AtS), config.Simulation.BeamDumps.Select(d => d.AtS));
        Assert.Equal("", config.Operator.Endpoint);
        // 60 s exposures + 2.5 s each, and an XAS scan (181 points × 0.1 s) at every tenth spot, over 12 hours.
        Assert.InRange(config.Budget.Frames, 700, 760);
        Assert.True(config.Budget.BeamTimeS >= 12 * 3600);
        // Cycles of at most 7500 s of limits, taken at a quarter: far more than 12 hours need.
        Assert.True(config.Protocol.Cycles >= 12 * 3600 / 1875, $"cycles {config.Protocol.Cycles}");
        // A device fault state outlasts an exposure and the move after it, so that the controller meets it; a condition
        // checked before every frame (the interlock, the cell's temperature) outlasts three.
        Assert.All(config.Simulation.Faults.Where(f => f.Kind == "fault"), f => Assert.True(f.DurationS >= config.Acquisition.ExposureS + 20));
        Assert.All(config.Simulation.Faults.Where(f => f.Kind is "interlock" or "overheat"), f => Assert.True(f.DurationS >= 3 * config.Acquisition.ExposureS));
        // No fault state or lost link comes and goes inside a suspension (a beam dump, an interlock, a hot cell, and their settling).
        var suspensions = config.Simulation.BeamDumps.Select(d => (d.AtS, End: d.AtS + d.DurationS + config.Acquisition.BeamSettleS))
            .Concat(config.Simulation.Faults.Where(f => f.Kind == "interlock").Select(f => (f.AtS, End: f.AtS + f.DurationS + config.Acquisition.BeamSettleS)))
            .Concat(config.Simulation.Faults.Where(f => f.Kind == "overheat").Select(f => (f.AtS, End: f.AtS + f.DurationS + config.Cell.TemperatureSettleS)));
        Assert.All(config.Simulation.Faults.Where(f => f.Kind is "fault" or "disconnect"), f =>
            Assert.DoesNotContain(suspensions, s => f.AtS + f.DurationS > s.AtS && f.AtS < s.End));
        // A slow reply still comes inside its device's time-out.
        Assert.All(config.Simulation.Faults.Where(f => f.Kind == "slow_reply"), f =>
            Assert.True(f.DurationS <= Timeout(config, f.Device) / 4, $"{f.Device} slow reply {f.DurationS} s"));
    }

    private static double Timeout(ExperimentConfig config, string device) => device switch
    {
        "potentiostat" => config.Devices.Potentiostat.TimeoutS,
        "motion" => config.Devices.Motion.TimeoutS,
        _ => config.Devices.Detector.TimeoutS,
    };
}

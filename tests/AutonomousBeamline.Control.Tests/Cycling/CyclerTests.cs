using Moq;
using System.Text.Json.Nodes;
using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Tests.Support;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Time;

namespace AutonomousBeamline.Control.Tests.Cycling;

public sealed class CyclerTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 21, 0, 0, TimeSpan.Zero);
    private readonly VirtualTimeProvider _clock = new(Start);
    private readonly JournalOnDisk _disk;
    private readonly CellLimits _cell = new(0.005, 2.5, 4.0, 3.0, 0.015, 0.1);

    public CyclerTests() => _disk = new JournalOnDisk("cycler-", _clock);

    private Storage.JsonLinesJournal Journal => _disk.Journal;

    public void Dispose()
    {
        _disk.Dispose();
    }

    private List<JsonObject> Records(string type) => _disk.Records(type);

    private static ProtocolStep Cc(string name, double rate, double cutoff, double maxS = 7200) =>
        new() { Name = name, Kind = StepKind.ConstantCurrent, CRate = rate, CutoffVoltageV = cutoff, MaxDuration = TimeSpan.FromSeconds(maxS) };

    [Fact]
    public async Task A_charge_ends_at_its_cut_off_and_the_journal_says_why()
    {
        var cell = new FakePotentiostat(_clock, 0.005, 0.1);
        var protocol = new CyclingProtocol([Cc("charge", 1, 3.6), new ProtocolStep { Name = "rest", Kind = StepKind.Rest, MaxDuration = TimeSpan.FromSeconds(60) }], 1, TimeSpan.FromSeconds(10));
        var cycler = new Cycler(cell, protocol, _cell, _clock, Journal);

        await cycler.RunAsActorAsync(_clock);

        Assert.Equal(2, cycler.StepsCompleted);
        var ends = Records("step_end");
        Assert.Contains("voltage cut-off 3.6 V", (string?)ends[0]["reason"]);
        Assert.Contains("time limit 60 s", (string?)ends[1]["reason"]);
        // 3.0 + soc + 0.005·5 >= 3.6 at soc ≈ 0.575: about 0.475 h of 1C charge.
        Assert.InRange(cycler.Latest.StateOfCharge, 0.55, 0.60);
        Assert.InRange(cell.StateOfCharge, 0.55, 0.60);
        Assert.False(cell.Output);
    }

    [Fact]
    public async Task Every_sample_logs_the_cell_s_temperature_and_a_thermometer_that_fails_leaves_a_gap_not_a_fault()
    {
        var cell = new FakePotentiostat(_clock, 0.005, 0.1);
        var readings = 0;
        var thermometer = new Mock<ITemperatureSensor>();
        thermometer.Setup(t => t.MeasureTemperatureAsync(It.IsAny<CancellationToken>())).Returns(() =>
            // The third reading fails however often it is asked again: that sample has no temperature.
            ++readings is >= 3 and <= 7 ? throw new DeviceTimeoutException("thermocouple", "no reply") : Task.FromResult(21.5 + 0.01 * readings));
        var protocol = new CyclingProtocol([Cc("charge", 1, 3.6, maxS: 60)], 1, TimeSpan.FromSeconds(10));
        var cycler = new Cycler(cell, protocol, _cell, _clock, Journal) { Thermometer = thermometer.Object };

        await cycler.RunAsActorAsync(_clock);

        var temperatures = Records("cell").Select(c => (double?)c["temperature_c"]).ToList();
        Assert.True(temperatures.Count >= 5, $"{temperatures.Count} samples");
        Assert.Equal(21.51, temperatures[0]!.Value, 9);
        Assert.Equal(21.52, temperatures[1]!.Value, 9);
        Assert.Null(temperatures[2]);
        Assert.All(temperatures.Skip(3), t => Assert.NotNull(t));
        Assert.Equal(1, cycler.StepsCompleted);
    }

    [Fact]
    public async Task Compliance_is_set_before_the_output_goes_on_and_only_with_it_off()
    {
        var cell = new FakePotentiostat(_clock, 0.005, 0.5);
        var protocol = new CyclingProtocol([Cc("discharge", -2, 3.2), new ProtocolStep { Name = "hold", Kind = StepKind.ConstantVoltage, HoldVoltageV = 3.4, CutoffCurrentA = 0.0005, MaxDuration = TimeSpan.FromHours(1) }], 1, TimeSpan.FromSeconds(10));
        await new Cycler(cell, protocol, _cell, _clock, Journal).RunAsActorAsync(_clock);
        Assert.Equal(["off", "cc -0.01 vlim 2.5", "on", "off", "cv 3.4 ilim 0.015", "on", "safe"], cell.Calls);
    }

    [Fact]
    public async Task A_requested_C_rate_applies_from_the_next_step_and_keeps_the_sign()
    {
        var cell = new FakePotentiostat(_clock, 0.005, 0.5);
        var protocol = new CyclingProtocol([Cc("charge", 1, 3.52)], 2, TimeSpan.FromSeconds(10));
        var cycler = new Cycler(cell, protocol, _cell, _clock, Journal);
        cycler.RequestCRate(2, "test");
        await cycler.RunAsActorAsync(_clock);
        Assert.Equal(0.01, (double)Records("step_start")[0]["current_a"]!, 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => cycler.RequestCRate(5, "test"));
    }

    [Fact]
    public async Task A_measured_excursion_faults_and_leaves_the_cell_safe()
    {
        var cell = new FakePotentiostat(_clock, 0.005, 0.5) { ForcedVoltage = 4.2 };
        var cycler = new Cycler(cell, new CyclingProtocol([Cc("charge", 1, 3.8)], 1, TimeSpan.FromSeconds(10)), _cell, _clock, Journal);
        var e = await Assert.ThrowsAsync<CellWindowException>(() => cycler.RunAsActorAsync(_clock));
        Assert.Contains("4.200 V is outside the cell window", e.Message);
        Assert.Equal("safe", cell.Calls[^1]);
        Assert.False(cell.Output);
    }

    [Fact]
    public async Task A_device_error_leaves_the_cell_safe()
    {
        var cell = new FakePotentiostat(_clock, 0.005, 0.5) { FailMeasurementsWith = new DeviceTimeoutException("potentiostat", "no reply to :MEAS:VOLT?") };
        var cycler = new Cycler(cell, new CyclingProtocol([Cc("charge", 1, 3.8)], 1, TimeSpan.FromSeconds(10)), _cell, _clock, Journal);
        await Assert.ThrowsAsync<DeviceTimeoutException>(() => cycler.RunAsActorAsync(_clock));
        Assert.Equal("safe", cell.Calls[^1]);
    }

    [Fact]
    public async Task A_passing_glitch_is_retried_and_journalled_and_the_step_goes_on()
    {
        var cell = new FakePotentiostat(_clock, 0.005, 0.1)
        {
            FailMeasurementsWith = new ScpiLikeGlitch("potentiostat", "garbled reply to :MEAS:VOLT?"),
            FailingMeasurements = 2,
        };
        var cycler = new Cycler(cell, new CyclingProtocol([Cc("charge", 1, 3.6)], 1, TimeSpan.FromSeconds(10)), _cell, _clock, Journal);
        await cycler.RunAsActorAsync(_clock);
        Assert.Equal(1, cycler.StepsCompleted);
        var retries = Records("device_retry");
        Assert.Equal(2, retries.Count);
        Assert.Equal("measure voltage", (string?)retries[0]["what"]);
        Assert.Contains("garbled", (string?)retries[0]["message"]);
    }

    [Fact]
    public async Task A_glitch_that_does_not_pass_ends_the_protocol_safely_after_five_attempts()
    {
        var cell = new FakePotentiostat(_clock, 0.005, 0.5)
        {
            FailMeasurementsWith = new ScpiLikeGlitch("potentiostat", "garbled"),
            FailingMeasurements = 5,
        };
        var cycler = new Cycler(cell, new CyclingProtocol([Cc("charge", 1, 3.8)], 1, TimeSpan.FromSeconds(10)), _cell, _clock, Journal);
        await Assert.ThrowsAsync<ScpiLikeGlitch>(() => cycler.RunAsActorAsync(_clock));
        Assert.Equal(4, Records("device_retry").Count);
        Assert.Equal("safe", cell.Calls[^1]);
    }

    [Fact]
    public async Task A_hold_turns_the_output_off_stops_the_step_clock_and_a_release_goes_on()
    {
        var cell = new FakePotentiostat(_clock, 0.005, 0.2);
        var cycler = new Cycler(cell, new CyclingProtocol([Cc("charge", 1, 3.9, maxS: 600)], 1, TimeSpan.FromSeconds(10)), _cell, _clock, Journal);
        Task? releaser = null;
        var samples = 0;
        Journal.Recorded += r =>
        {
            if (r.Record is CellSample && ++samples == 5) cycler.Hold("test");
            if (r.Record is ProtocolHeld)
            {
                Assert.False(cell.Output);
                // An hour on open circuit (on the same clock, as its own actor), then release.
                releaser = _clock.StartActor(async () => { await _clock.SleepAsync(TimeSpan.FromHours(1)); cycler.Release("test"); });
            }
        };
        await cycler.RunAsActorAsync(_clock);
        await releaser!;

        var end = Records("step_end").Single();
        Assert.Contains("time limit 600 s", (string?)end["reason"]);
        var held = (double)Records("protocol_released").Single()["held_s"]!;
        Assert.InRange(held, 3600, 3610);
        // The whole 600 s of 1C current, not less: the hour held did not count against the step's limit,
        // and no charge was counted while the output was off.
        Assert.Equal(600, (double)end["duration_s"]!, 0);
        Assert.Equal(0.005 * 600 / 3600, (double)end["charge_ah"]!, 6);
        Assert.Equal(0.1 + 600.0 / 3600, cycler.Latest.StateOfCharge, 2); // the cycler counts from the configured 0.1
        Assert.Equal(["off", "cc 0.005 vlim 4", "on", "off", "off", "cc 0.005 vlim 4", "on", "safe"], cell.Calls.Where(c => c is "on" or "off" or "safe" || c.StartsWith("cc")));
    }

    private sealed class ScpiLikeGlitch(string device, string message) : DeviceException(device, message);

    [Fact]
    public async Task Sampling_gets_finer_near_a_cut_off()
    {
        var cell = new FakePotentiostat(_clock, 0.005, 0.1);
        await new Cycler(cell, new CyclingProtocol([Cc("charge", 1, 3.6)], 1, TimeSpan.FromSeconds(60)), _cell, _clock, Journal).RunAsActorAsync(_clock);
        var times = Records("cell").Select(r => DateTimeOffset.Parse((string)r["t"]!)).ToList();
        var gaps = times.Zip(times.Skip(1), (a, b) => (b - a).TotalSeconds).ToList();
        Assert.Equal(60, gaps[0], 3);
        Assert.True(gaps[^1] <= 6, $"last gap {gaps[^1]} s");
        // The overshoot past the cut-off is bounded by the fine sampling: 0.5 s at 1C moves V by ~0.00014 V here.
        Assert.InRange(cell.StateOfCharge, 0.574, 0.578);
    }
}

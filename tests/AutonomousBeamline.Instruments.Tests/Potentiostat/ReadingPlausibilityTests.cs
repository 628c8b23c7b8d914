using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Safety;
using AutonomousBeamline.Instruments.Potentiostat;
using AutonomousBeamline.Instruments.Scpi;
using AutonomousBeamline.Instruments.Tests.Scpi;
using AutonomousBeamline.Simulators.Physics;
using AutonomousBeamline.Simulators.Potentiostat;
using Microsoft.Extensions.Time.Testing;

namespace AutonomousBeamline.Instruments.Tests.Potentiostat;

/// <summary>A reading that cannot physically be right is measured again, and one that stays impossible is a device fault naming it.</summary>
public class ReadingPlausibilityTests
{
    private static readonly ReadingPlausibility Limits = new();

    private readonly FakeTimeProvider _time = new();
    private readonly ElectrochemicalCell _cell;
    private readonly LoopbackScpiTransport _transport;
    private readonly ScpiPotentiostat _potentiostat;
    private readonly List<string> _rejected = new();

    public ReadingPlausibilityTests()
    {
        _cell = new ElectrochemicalCell(_time, 0.005, new SafetyEnvelope(2.5, 3.8, 0.01, 2, 0.005), 0.5);
        _transport = new LoopbackScpiTransport(new ScpiServer(_cell));
        _potentiostat = new ScpiPotentiostat(_transport, "test potentiostat",
            new ScpiClientOptions { ReplyTimeout = TimeSpan.FromMilliseconds(200), RetryBaseDelay = TimeSpan.FromMilliseconds(1) }, time: _time);
        _potentiostat.ReadingRejected += (query, why) => _rejected.Add($"{query}: {why}");
    }

    /// <summary>The instrument answers <paramref name="query"/> with <paramref name="wrong"/> the next <paramref name="times"/> times.</summary>
    private void Misreport(string query, string wrong, int times)
    {
        var left = times;
        _transport.Manner = (line, replies) => line == query && left-- > 0 ? [wrong] : replies;
    }

    [Fact]
    public async Task A_current_far_beyond_the_set_current_is_measured_again_and_the_true_one_believed()
    {
        await _potentiostat.ConfigureCurrentSourceAsync(1e-4, 3.8);
        await _potentiostat.SetOutputAsync(true);
        Misreport(":MEAS:CURR?", "3.340000E-01", 1);
        Assert.Equal(1e-4, await _potentiostat.MeasureCurrentAsync(), 9);
        var why = Assert.Single(_rejected);
        Assert.True(why.Contains("far beyond the 0.0001 A"), why);
    }

    [Fact]
    public async Task A_voltage_step_faster_than_a_cell_can_move_that_persists_is_a_device_fault_naming_the_reading()
    {
        var before = await _potentiostat.MeasureVoltageAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        Misreport(":MEAS:VOLT?", "9.990000E-05", 10);
        var e = await Assert.ThrowsAsync<DeviceException>(() => _potentiostat.MeasureVoltageAsync());
        Assert.Contains("implausible reading", e.Message);
        Assert.Contains("9.99E-05 V 3 times in a row", e.Message);
        Assert.Contains("faster than a cell can move", e.Message);
        Assert.Equal(2, _rejected.Count);
        Assert.InRange(before, 2.5, 3.8);
    }

    [Fact]
    public async Task A_slow_genuine_change_is_believed()
    {
        var first = await _potentiostat.MeasureVoltageAsync();
        _time.Advance(TimeSpan.FromSeconds(10));
        Misreport(":MEAS:VOLT?", (first - 0.8).ToString("E6", System.Globalization.CultureInfo.InvariantCulture), 1);
        Assert.Equal(first - 0.8, await _potentiostat.MeasureVoltageAsync(), 5);
        Assert.Empty(_rejected);
    }

    [Theory]
    [InlineData(250, null, "outside the instrument's ±210 V range")]
    [InlineData(3.3, null, null)]
    public void Voltage_outside_the_instrument_range_is_impossible(double volts, string? _, string? why)
    {
        var verdict = Limits.CheckVoltage(volts, null);
        if (why is null) Assert.Null(verdict);
        else Assert.Contains(why, verdict);
    }

    [Theory]
    [InlineData(2e-3, 1e-3, false)]   // 2x the set current
    [InlineData(1.4e-3, 1e-3, true)]  // within the margin
    [InlineData(2e-6, null, true)]    // leakage with the output off
    [InlineData(1e-3, null, false)]   // a milliampere with the output off
    [InlineData(-1.2, 1.0, false)]    // beyond the instrument's range
    public void Current_is_held_to_the_set_level_or_the_limit(double amperes, double? bound, bool plausible) =>
        Assert.Equal(plausible, Limits.CheckCurrent(amperes, bound) is null);

    [Fact]
    public void A_step_within_the_allowance_plus_the_slew_over_the_elapsed_time_is_plausible()
    {
        Assert.Null(Limits.CheckVoltage(3.0, (3.4, TimeSpan.Zero)));
        Assert.NotNull(Limits.CheckVoltage(2.8, (3.4, TimeSpan.FromSeconds(0.05))));
        Assert.Null(Limits.CheckVoltage(2.8, (3.4, TimeSpan.FromSeconds(0.2))));
    }
}

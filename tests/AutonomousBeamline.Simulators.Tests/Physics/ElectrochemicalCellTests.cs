using AutonomousBeamline.Core.Safety;
using AutonomousBeamline.Core.Time;
using AutonomousBeamline.Simulators.Physics;
using AutonomousBeamline.Simulators.Potentiostat;
using Microsoft.Extensions.Time.Testing;

namespace AutonomousBeamline.Simulators.Tests.Physics;

public class LfpOpenCircuitVoltageTests
{
    [Fact]
    public void Mid_charge_sits_on_the_plateau_near_3_42_V()
    {
        Assert.InRange(LfpOpenCircuitVoltage.At(0.5), 3.40, 3.45);
        // Flat: from 20 % to 80 % the voltage moves by only tens of millivolts.
        Assert.InRange(LfpOpenCircuitVoltage.At(0.8) - LfpOpenCircuitVoltage.At(0.2), 0.0, 0.06);
    }

    [Fact]
    public void Ends_are_steep_toward_2_5_V_empty_and_above_3_8_V_full()
    {
        Assert.InRange(LfpOpenCircuitVoltage.At(0.0), 2.4, 2.6);
        Assert.True(LfpOpenCircuitVoltage.At(1.0) >= 3.8);
        Assert.True(LfpOpenCircuitVoltage.At(0.1) - LfpOpenCircuitVoltage.At(0.0) > 0.5);
        Assert.True(LfpOpenCircuitVoltage.At(1.0) - LfpOpenCircuitVoltage.At(0.95) > 0.3);
    }

    [Fact]
    public void Rises_monotonically_with_state_of_charge_including_beyond_the_ends()
    {
        var previous = double.NegativeInfinity;
        for (var soc = -0.05; soc <= 1.05; soc += 0.001)
        {
            var v = LfpOpenCircuitVoltage.At(soc);
            Assert.True(v > previous, $"OCV not increasing at SOC {soc}");
            previous = v;
        }
    }
}

public class ElectrochemicalCellTests
{
    private static readonly SafetyEnvelope Window = new(2.5, 3.8, 0.01, 2.0, 0.005);
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 21, 0, 0, TimeSpan.Zero);

    private static (ElectrochemicalCell Cell, FakeTimeProvider Time) NewCell(double soc = 0.5, double capacityAh = 0.005)
    {
        var time = new FakeTimeProvider(Start);
        return (new ElectrochemicalCell(time, capacityAh, Window, soc), time);
    }

    [Fact]
    public void At_rest_output_off_the_cell_shows_its_open_circuit_voltage_and_no_current()
    {
        var (cell, time) = NewCell(0.5);
        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(LfpOpenCircuitVoltage.At(0.5), cell.MeasureVoltage(), 9);
        Assert.Equal(0, cell.MeasureCurrent());
        Assert.Equal(0.5, cell.At(time.GetUtcNow()).StateOfCharge, 9);
    }

    [Fact]
    public void Constant_current_charge_integrates_state_of_charge_over_virtual_time()
    {
        var (cell, time) = NewCell(0.2);
        cell.Function = SourceFunction.Current;
        cell.VoltageLimitV = 3.8;
        cell.CurrentLevelA = 0.0025; // C/2 for 5 mAh
        cell.OutputOn = true;

        time.Advance(TimeSpan.FromMinutes(30));
        var snapshot = cell.At(time.GetUtcNow());
        Assert.Equal(0.45, snapshot.StateOfCharge, 6);
        Assert.Equal(0.5, snapshot.CRate, 9);
        // Under charge the terminal voltage sits above the OCV by the ohmic and polarisation drops.
        Assert.True(cell.MeasureVoltage() > LfpOpenCircuitVoltage.At(0.45) + 0.005);
        Assert.Equal(0.0025, cell.MeasureCurrent(), 12);
    }

    [Fact]
    public void Integration_works_on_the_virtual_clock_as_well()
    {
        var time = new VirtualTimeProvider(Start);
        var cell = new ElectrochemicalCell(time, 0.005, Window, 0.6);
        cell.VoltageLimitV = 2.5;
        cell.CurrentLevelA = -0.005; // 1C discharge
        cell.OutputOn = true;
        time.Advance(TimeSpan.FromMinutes(12));
        var snapshot = cell.At(time.GetUtcNow());
        Assert.Equal(0.4, snapshot.StateOfCharge, 6);
        Assert.Equal(-1.0, snapshot.CRate, 9);
    }

    [Fact]
    public void Charge_reaching_the_voltage_limit_clamps_there_tapers_the_current_and_trips()
    {
        var (cell, time) = NewCell(0.9);
        cell.VoltageLimitV = 3.6;
        cell.CurrentLevelA = 0.005;
        cell.OutputOn = true;
        Assert.False(cell.VoltageLimitTripped);

        time.Advance(TimeSpan.FromHours(2));
        Assert.True(cell.VoltageLimitTripped);
        Assert.Equal(3.6, cell.MeasureVoltage(), 5);
        var current = cell.MeasureCurrent();
        Assert.InRange(current, 0, 0.005 * 0.5);
        Assert.True(cell.At(time.GetUtcNow()).StateOfCharge < 1.0);
        Assert.Equal(0, cell.SafetyViolations);
    }

    [Fact]
    public void Discharge_stops_falling_at_its_voltage_limit()
    {
        var (cell, time) = NewCell(0.1);
        cell.VoltageLimitV = 2.8;
        cell.CurrentLevelA = -0.005;
        cell.OutputOn = true;
        time.Advance(TimeSpan.FromHours(1));
        Assert.True(cell.VoltageLimitTripped);
        Assert.Equal(2.8, cell.MeasureVoltage(), 5);
        Assert.InRange(cell.MeasureCurrent(), -0.005, 0);
    }

    [Fact]
    public void Voltage_source_holds_its_voltage_until_the_current_limit_trips()
    {
        var (cell, time) = NewCell(0.5);
        cell.Function = SourceFunction.Voltage;
        cell.CurrentLimitA = 0.001;
        cell.VoltageLevelV = 3.7; // far above the plateau: would drive a large current
        cell.OutputOn = true;
        Assert.True(cell.CurrentLimitTripped);
        Assert.Equal(0.001, cell.MeasureCurrent(), 12);
        Assert.True(cell.MeasureVoltage() < 3.7);

        var (held, _) = NewCell(0.5);
        held.Function = SourceFunction.Voltage;
        held.CurrentLimitA = 0.01;
        held.VoltageLevelV = LfpOpenCircuitVoltage.At(0.5) + 0.01;
        held.OutputOn = true;
        Assert.False(held.CurrentLimitTripped);
        Assert.Equal(held.VoltageLevelV, held.MeasureVoltage(), 6);
        Assert.True(held.MeasureCurrent() > 0);
    }

    [Fact]
    public void Output_off_is_open_circuit_even_with_a_level_set()
    {
        var (cell, time) = NewCell(0.5);
        cell.CurrentLevelA = 0.005;
        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0.5, cell.StateOfCharge, 9);
        Assert.Equal(0, cell.MeasureCurrent());
    }

    [Fact]
    public void Leaving_the_safety_window_is_counted_once_per_excursion_with_its_duration()
    {
        var (cell, time) = NewCell(0.95);
        cell.VoltageLimitV = 10; // no useful compliance: the cell will be overcharged
        cell.CurrentLevelA = 0.005;
        cell.OutputOn = true;
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(1, cell.SafetyViolations);
        var outside = cell.TimeOutsideSafetyWindow;
        Assert.True(outside > TimeSpan.Zero && outside < TimeSpan.FromMinutes(10));

        cell.OutputOn = false;
        cell.CurrentLevelA = -0.005;
        cell.VoltageLimitV = 2.5;
        cell.OutputOn = true;
        time.Advance(TimeSpan.FromMinutes(20));
        cell.OutputOn = false;
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.InRange(cell.MeasureVoltage(), 2.5, 3.8);
        Assert.Equal(1, cell.SafetyViolations);

        cell.CurrentLevelA = 0.005;
        cell.VoltageLimitV = 10;
        cell.OutputOn = true;
        time.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(2, cell.SafetyViolations);
    }

    [Fact]
    public void A_current_above_the_window_counts_as_a_violation()
    {
        var (cell, time) = NewCell(0.5);
        cell.VoltageLimitV = 3.8;
        cell.CurrentLevelA = 0.02; // above the window's 10 mA, within the instrument's 100 mA rating
        cell.OutputOn = true;
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, cell.SafetyViolations);
    }

    [Fact]
    public void Settings_beyond_the_instrument_ratings_are_refused_and_leave_the_setting()
    {
        var (cell, _) = NewCell();
        cell.CurrentLevelA = 0.002;
        Assert.Throws<ArgumentOutOfRangeException>(() => cell.CurrentLevelA = 0.5);
        Assert.Equal(0.002, cell.CurrentLevelA);
        Assert.Throws<ArgumentOutOfRangeException>(() => cell.VoltageLimitV = 11);
    }

    [Fact]
    public void Reset_turns_the_output_off()
    {
        var (cell, _) = NewCell();
        cell.VoltageLimitV = 3.8;
        cell.CurrentLevelA = 0.001;
        cell.OutputOn = true;
        cell.Reset();
        Assert.False(cell.OutputOn);
        Assert.Equal(0, cell.MeasureCurrent());
    }
}

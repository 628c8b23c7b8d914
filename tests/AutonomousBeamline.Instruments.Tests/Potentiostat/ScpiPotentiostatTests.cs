using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Safety;
using AutonomousBeamline.Instruments.Scpi;
using AutonomousBeamline.Simulators.Potentiostat;

namespace AutonomousBeamline.Instruments.Tests.Potentiostat;

public class ScpiPotentiostatTests
{
    [Theory]
    [InlineData(Link.Pty)]
    [InlineData(Link.Tcp)]
    public async Task Identifies_the_instrument(Link link)
    {
        await using var rig = await SimulatedPotentiostatRig.StartAsync(link);
        var identity = await rig.Potentiostat.IdentifyAsync();
        Assert.Equal(ScpiServer.DefaultIdentity, $"{identity.Maker},{identity.Model},{identity.Serial},{identity.Firmware}");
    }

    [Theory]
    [InlineData(Link.Pty)]
    [InlineData(Link.Tcp)]
    public async Task Galvanostatic_charge_runs_into_its_voltage_limit_and_trips(Link link)
    {
        await using var rig = await SimulatedPotentiostatRig.StartAsync(link, initialSoc: 0.9);
        var p = rig.Potentiostat;
        await p.ResetAsync();
        await p.ConfigureCurrentSourceAsync(0.005, 3.6);
        Assert.Equal(3.6, rig.Cell.VoltageLimitV, 12);
        await p.SetOutputAsync(true);
        Assert.True(await p.GetOutputAsync());

        Assert.Equal(0.005, await p.MeasureCurrentAsync(), 9);
        var v = await p.MeasureVoltageAsync();
        Assert.InRange(v, 3.45, 3.6);
        Assert.False(await p.IsComplianceTrippedAsync());

        rig.Time.Advance(TimeSpan.FromHours(2));
        Assert.True(await p.IsComplianceTrippedAsync());
        Assert.Equal(3.6, await p.MeasureVoltageAsync(), 4);
        Assert.InRange(await p.MeasureCurrentAsync(), 0, 0.0025);

        await p.SetOutputAsync(false);
        Assert.False(await p.GetOutputAsync());
        Assert.Equal(0, await p.MeasureCurrentAsync());
        Assert.Equal(0, rig.Cell.SafetyViolations);
    }

    [Theory]
    [InlineData(Link.Pty)]
    [InlineData(Link.Tcp)]
    public async Task Refused_setting_raises_the_instruments_error_code_and_text(Link link)
    {
        await using var rig = await SimulatedPotentiostatRig.StartAsync(link);
        var e = await Assert.ThrowsAsync<ScpiCommandException>(() => rig.Potentiostat.ConfigureCurrentSourceAsync(0.5, 3.6));
        Assert.Equal(":SOUR:CURR 0.5", e.Command);
        Assert.Contains("-222,\"Data out of range", e.Message);
        Assert.Equal(0, rig.Cell.CurrentLevelA);
        // The compliance that came before it was accepted and confirmed.
        Assert.Equal(3.6, rig.Cell.VoltageLimitV, 12);
        Assert.Equal(0, rig.Server.PendingErrors);
    }

    [Fact]
    public async Task Potentiostatic_mode_sets_its_current_limit_first_and_reports_the_limit_trip()
    {
        await using var rig = await SimulatedPotentiostatRig.StartAsync(Link.Tcp);
        var p = rig.Potentiostat;
        await p.ConfigureVoltageSourceAsync(3.7, 0.001);
        await p.SetOutputAsync(true);
        Assert.True(await p.IsComplianceTrippedAsync());
        Assert.Equal(0.001, await p.MeasureCurrentAsync(), 9);
        await p.SetVoltageAsync(3.43);
        Assert.False(await p.IsComplianceTrippedAsync());
        Assert.Equal(3.43, await p.MeasureVoltageAsync(), 5);
        Assert.Equal(SourceFunction.Voltage, rig.Cell.Function);
    }

    [Fact]
    public async Task Refuses_to_reconfigure_while_the_output_is_on()
    {
        await using var rig = await SimulatedPotentiostatRig.StartAsync(Link.Tcp);
        var p = rig.Potentiostat;
        await p.ConfigureCurrentSourceAsync(0.001, 3.6);
        await p.SetOutputAsync(true);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => p.ConfigureVoltageSourceAsync(3.5, 0.001));
        Assert.Contains("output is on", e.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => p.ConfigureCurrentSourceAsync(0.002, 3.7));
        Assert.Equal(3.6, rig.Cell.VoltageLimitV, 12);
        Assert.Equal(SourceFunction.Current, rig.Cell.Function);

        // A level change within the configured mode is allowed while on.
        await p.SetCurrentAsync(0.002);
        Assert.Equal(0.002, rig.Cell.CurrentLevelA, 12);
        await Assert.ThrowsAsync<InvalidOperationException>(() => p.SetVoltageAsync(3.5));
    }

    [Fact]
    public async Task Refuses_to_turn_the_output_on_before_a_compliance_was_set()
    {
        await using var rig = await SimulatedPotentiostatRig.StartAsync(Link.Tcp);
        await Assert.ThrowsAsync<InvalidOperationException>(() => rig.Potentiostat.SetOutputAsync(true));
        Assert.False(rig.Cell.OutputOn);
        await Assert.ThrowsAsync<InvalidOperationException>(() => rig.Potentiostat.IsComplianceTrippedAsync());
    }

    [Theory]
    [InlineData(Link.Pty)]
    [InlineData(Link.Tcp)]
    public async Task Safe_state_turns_the_output_off(Link link)
    {
        await using var rig = await SimulatedPotentiostatRig.StartAsync(link);
        await rig.Potentiostat.ConfigureCurrentSourceAsync(0.001, 3.6);
        await rig.Potentiostat.SetOutputAsync(true);
        await rig.Potentiostat.EnterSafeStateAsync();
        Assert.False(rig.Cell.OutputOn);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Safe_state_reads_the_output_back_and_insists_when_output_off_is_refused(int refusals)
    {
        await using var rig = await SimulatedPotentiostatRig.StartAsync(Link.Tcp);
        await rig.Potentiostat.ConfigureCurrentSourceAsync(0.001, 3.6);
        await rig.Potentiostat.SetOutputAsync(true);
        // The instrument refuses the next setting(s): ":OUTP OFF" is not executed the first time(s).
        for (var i = 0; i < refusals; i++) rig.Server.Faults.RefuseNextCommand(-221, "Settings conflict;test");
        await rig.Potentiostat.EnterSafeStateAsync();
        Assert.False(rig.Cell.OutputOn);
    }

    [Fact]
    public async Task Safe_state_never_throws_for_a_dead_instrument()
    {
        await using var rig = await SimulatedPotentiostatRig.StartAsync(Link.Tcp,
            options: new ScpiClientOptions { ReplyTimeout = TimeSpan.FromMilliseconds(200), QueryRetries = 0 });
        await rig.StopHostAsync();
        await rig.Potentiostat.EnterSafeStateAsync();
        await Assert.ThrowsAnyAsync<DeviceException>(() => rig.Potentiostat.MeasureVoltageAsync());
    }

    [Theory]
    [InlineData(Link.Pty)]
    [InlineData(Link.Tcp)]
    public async Task Dropped_reply_times_out_naming_the_query_and_the_link_resynchronises(Link link)
    {
        await using var rig = await SimulatedPotentiostatRig.StartAsync(link,
            options: new ScpiClientOptions { ReplyTimeout = TimeSpan.FromMilliseconds(300), QueryRetries = 0 });
        rig.Server.Faults.DropReplies(1);
        var e = await Assert.ThrowsAsync<DeviceTimeoutException>(() => rig.Potentiostat.MeasureVoltageAsync());
        Assert.Contains("\":MEAS:VOLT?\"", e.Message);
        Assert.Contains("resynchronised", e.Message);
        Assert.False(await rig.Potentiostat.GetOutputAsync());
        Assert.NotNull(await rig.Potentiostat.IdentifyAsync());
    }

    [Fact]
    public async Task Dropped_reply_to_an_idempotent_query_is_recovered_by_a_retry()
    {
        await using var rig = await SimulatedPotentiostatRig.StartAsync(Link.Pty,
            options: new ScpiClientOptions { ReplyTimeout = TimeSpan.FromMilliseconds(300), QueryRetries = 2, RetryBaseDelay = TimeSpan.FromMilliseconds(10) });
        rig.Server.Faults.DropReplies(1);
        Assert.InRange(await rig.Potentiostat.MeasureVoltageAsync(), 3.3, 3.5);
    }

    [Fact]
    public async Task Garbage_reply_is_reported_with_the_query_and_the_reply()
    {
        await using var rig = await SimulatedPotentiostatRig.StartAsync(Link.Tcp);
        rig.Server.Faults.GarbleReplies(1);
        var e = await Assert.ThrowsAsync<ScpiOutOfStepException>(() => rig.Potentiostat.MeasureCurrentAsync());
        Assert.Contains(":MEAS:CURR?", e.Message);
        Assert.Contains("not believed", e.Message);
        Assert.Equal(0, await rig.Potentiostat.MeasureCurrentAsync());
    }

    [Fact]
    public async Task Setting_the_instrument_refuses_is_reported_with_its_text()
    {
        await using var rig = await SimulatedPotentiostatRig.StartAsync(Link.Tcp);
        rig.Server.Faults.RefuseNextCommand(-200, "Execution error;interlock open");
        var e = await Assert.ThrowsAsync<ScpiCommandException>(() => rig.Potentiostat.ConfigureCurrentSourceAsync(0.001, 3.6));
        Assert.Equal(":SOUR:FUNC CURR", e.Command);
        Assert.Contains("interlock open", e.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => rig.Potentiostat.SetOutputAsync(true));
    }

    [Fact]
    public async Task Slow_replies_within_the_time_out_are_fine()
    {
        await using var rig = await SimulatedPotentiostatRig.StartAsync(Link.Tcp);
        rig.Server.Faults.ReplyDelay = TimeSpan.FromMilliseconds(50);
        Assert.False(await rig.Potentiostat.GetOutputAsync());
    }

    [Fact]
    public async Task Composed_as_the_program_does_the_envelope_stops_unsafe_requests_before_the_wire()
    {
        await using var rig = await SimulatedPotentiostatRig.StartAsync(Link.Pty, initialSoc: 0.5);
        var guarded = new EnvelopeGuardedPotentiostat(rig.Potentiostat, SimulatedPotentiostatRig.Window);

        var e = await Assert.ThrowsAsync<SafetyEnvelopeException>(() => guarded.ConfigureCurrentSourceAsync(0.012, 3.7));
        Assert.Contains("0.012 A exceeds the window's |I| max 0.010 A", e.Message);
        await Assert.ThrowsAsync<SafetyEnvelopeException>(() => guarded.ConfigureCurrentSourceAsync(0.005, 4.0));
        Assert.Equal(0, rig.Cell.CurrentLevelA);
        Assert.Equal(10, rig.Cell.VoltageLimitV);

        await guarded.ConfigureCurrentSourceAsync(0.005, 3.7);
        await guarded.SetOutputAsync(true);
        rig.Time.Advance(TimeSpan.FromHours(1));
        Assert.True(await guarded.IsComplianceTrippedAsync());
        await guarded.EnterSafeStateAsync();
        Assert.False(rig.Cell.OutputOn);
        Assert.Equal(0, rig.Cell.SafetyViolations);
    }
}

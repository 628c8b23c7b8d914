using System.Text.Json.Nodes;
using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Tests.Support;
using AutonomousBeamline.Core.Safety;
using AutonomousBeamline.Core.Time;

namespace AutonomousBeamline.Control.Tests.Cycling;

/// <summary>Each step kind's terminations, loops and cycles, C-rate requests, and the journal they leave.</summary>
public sealed class ProtocolEngineTests : IDisposable
{
    private const double CapacityAh = 0.005;
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 21, 0, 0, TimeSpan.Zero);
    private readonly VirtualTimeProvider _clock = new(Start);
    private readonly JournalOnDisk _disk;
    private readonly CellLimits _cell = new(CapacityAh, 2.5, 4.0, 3.0, 0.015, 0.1);

    public ProtocolEngineTests() => _disk = new JournalOnDisk("protocol-", _clock);

    private Storage.JsonLinesJournal Journal => _disk.Journal;

    public void Dispose()
    {
        _disk.Dispose();
    }

    private List<JsonObject> Records(string type) => _disk.Records(type);

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    private static ProtocolStep Cc(string name, double rate, double cutoff, double maxS = 7200, double? chargeAh = null) =>
        new() { Name = name, Kind = StepKind.ConstantCurrent, CRate = rate, CutoffVoltageV = cutoff, MaxDuration = S(maxS), MaxChargeAh = chargeAh };

    private static ProtocolStep Rest(string name, double maxS, double? dvDt = null, double windowS = 60) =>
        new() { Name = name, Kind = StepKind.Rest, MaxDuration = S(maxS), DvDtThresholdVPerS = dvDt, DvDtWindow = S(windowS) };

    private Cycler NewCycler(FakePotentiostat cell, params ProtocolStep[] steps) => NewCycler(cell, 10, steps);

    private Cycler NewCycler(FakePotentiostat cell, double samplePeriodS, params ProtocolStep[] steps) =>
        new(cell, new CyclingProtocol(steps, 1, S(samplePeriodS)), _cell, _clock, Journal);

    [Fact]
    public async Task A_cv_hold_ends_when_the_current_falls_below_its_limit()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.5);
        var hold = new ProtocolStep { Name = "hold", Kind = StepKind.ConstantVoltage, HoldVoltageV = 3.6, CutoffCurrentA = 0.0002, MaxDuration = S(7200) };
        var cycler = NewCycler(cell, hold);

        await cycler.RunAsActorAsync(_clock);

        var end = Assert.Single(Records("step_end"));
        Assert.Equal("current_below_limit", (string?)end["ended_by"]);
        Assert.Contains("current fell below 0.0002 A", (string?)end["reason"]);
        var lastCurrent = (double)Records("cell")[^1]["current_a"]!;
        Assert.InRange(lastCurrent, 0, 0.0002);
        // (3.6 − 3.0 − soc)/5 Ω < 0.2 mA once soc > 0.599.
        Assert.InRange(cell.StateOfCharge, 0.598, 0.6);
        Assert.Equal(["off", "cv 3.6 ilim 0.015", "on", "safe"], cell.Calls);
    }

    [Fact]
    public async Task A_cccv_step_is_one_step_with_a_cc_phase_then_a_hold_at_the_same_voltage()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.3);
        var cccv = new ProtocolStep
        {
            Name = "charge", Kind = StepKind.ConstantCurrentConstantVoltage, CRate = 1, HoldVoltageV = 3.7,
            CutoffCurrentA = 0.0005, MaxDuration = S(4 * 3600),
        };
        var cycler = NewCycler(cell, cccv);

        await cycler.RunAsActorAsync(_clock);

        Assert.Equal(1, cycler.StepsCompleted);
        Assert.Single(Records("step_start"));
        var end = Assert.Single(Records("step_end"));
        Assert.Equal("current_below_limit", (string?)end["ended_by"]);
        Assert.Contains("constant-voltage phase", (string?)end["reason"]);
        Assert.Equal(["cc", "cv"], Records("phase_start").Select(r => (string)r["phase"]!).ToArray());
        var phaseEnds = Records("phase_end");
        Assert.Contains("voltage 3.7 V reached", (string?)phaseEnds[0]["reason"]);
        Assert.Contains("current fell below 0.0005 A", (string?)phaseEnds[1]["reason"]);
        // The hold may draw no more than the constant current did, and it is set up with the output off.
        Assert.Equal(["off", "cc 0.005 vlim 4", "on", "off", "cv 3.7 ilim 0.005", "on", "safe"], cell.Calls);
        // The hold ends at (3.7 − 3.0 − soc)/5 Ω = 0.5 mA, i.e. soc ≈ 0.6975; the total charge counts both phases.
        Assert.InRange(cell.StateOfCharge, 0.695, 0.698);
        Assert.InRange((double)end["charge_ah"]!, 0.995 * (0.6975 - 0.3) * CapacityAh, 1.01 * (0.6975 - 0.3) * CapacityAh);
    }

    [Fact]
    public async Task A_cccv_that_runs_out_of_time_in_its_cc_phase_never_holds()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.1);
        var cccv = new ProtocolStep
        {
            Name = "charge", Kind = StepKind.ConstantCurrentConstantVoltage, CRate = 1, HoldVoltageV = 3.7,
            CutoffCurrentA = 0.0005, MaxDuration = S(600),
        };
        await NewCycler(cell, cccv).RunAsActorAsync(_clock);

        var end = Assert.Single(Records("step_end"));
        Assert.Equal("time_limit", (string?)end["ended_by"]);
        Assert.Contains("time limit 600 s reached in the constant-current phase", (string?)end["reason"]);
        Assert.Equal(600, (double)end["duration_s"]!, 3);
        Assert.DoesNotContain(cell.Calls, c => c.StartsWith("cv", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_step_ends_exactly_at_its_time_limit_even_between_samples()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.1);
        var protocol = new CyclingProtocol([Cc("charge", 0.5, 3.9, maxS: 95)], 1, S(10));
        await new Cycler(cell, protocol, _cell, _clock, Journal).RunAsActorAsync(_clock);

        var end = Assert.Single(Records("step_end"));
        Assert.Equal("time_limit", (string?)end["ended_by"]);
        Assert.Equal(95, (double)end["duration_s"]!, 6);
        Assert.Equal(Start + S(95), DateTimeOffset.Parse((string)Records("cell")[^1]["t"]!));
    }

    [Fact]
    public async Task A_step_ends_once_its_charge_limit_has_passed()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.1);
        var cycler = NewCycler(cell, Cc("charge", 1, 3.9, chargeAh: 0.001));
        await cycler.RunAsActorAsync(_clock);

        var end = Assert.Single(Records("step_end"));
        Assert.Equal("charge_limit", (string?)end["ended_by"]);
        // 1C = 5 mA: 1 mAh takes 720 s; one 10 s sample may pass it by at most 14 µAh.
        Assert.InRange((double)end["charge_ah"]!, 0.001, 0.001 + 0.005 * 10 / 3600 + 1e-12);
        Assert.InRange(cell.StateOfCharge, 0.2999, 0.303);
    }

    [Fact]
    public async Task A_discharge_ends_on_its_cut_off_with_the_compliance_at_the_window_bottom()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.6);
        await NewCycler(cell, Cc("discharge", -1, 3.3)).RunAsActorAsync(_clock);

        var end = Assert.Single(Records("step_end"));
        Assert.Equal("voltage_cutoff", (string?)end["ended_by"]);
        Assert.Equal("cc -0.005 vlim 2.5", cell.Calls[1]);
        // 3.0 + soc − 0.025 <= 3.3 at soc ≈ 0.325.
        Assert.InRange(cell.StateOfCharge, 0.322, 0.326);
    }

    [Fact]
    public async Task A_rest_ends_when_the_voltage_has_settled_and_not_before_its_window()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.3) { PolarisationOhm = 10, RelaxationTime = S(120) };
        var cycler = NewCycler(cell, Cc("charge", 1, 3.9, maxS: 600), Rest("relax", 3600, dvDt: 1e-5, windowS: 60));

        await cycler.RunAsActorAsync(_clock);

        var end = Records("step_end")[1];
        Assert.Equal("dv_dt_below_threshold", (string?)end["ended_by"]);
        // η starts near 0.05 V and decays with τ = 120 s; |dη/dt| over 60 s falls below 1e-5 V/s after about 7 min.
        Assert.InRange((double)end["duration_s"]!, 300, 700);
        Assert.Contains("over 60 s", (string?)end["reason"]);
        // Once settled, the voltage is within a millivolt of the open-circuit value.
        Assert.InRange((double)end["voltage_v"]! - (3.0 + cell.StateOfCharge), 0, 0.001);
        // At open circuit the output is off and no current is asked for.
        Assert.Equal(["off", "cc 0.005 vlim 4", "on", "off", "safe"], cell.Calls);
    }

    [Fact]
    public async Task A_rest_whose_voltage_keeps_moving_ends_on_its_time_limit()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.3) { PolarisationOhm = 10, RelaxationTime = S(3600) };
        var cycler = NewCycler(cell, Cc("charge", 1, 3.9, maxS: 600), Rest("relax", 300, dvDt: 1e-6, windowS: 60));
        await cycler.RunAsActorAsync(_clock);

        var end = Records("step_end")[1];
        Assert.Equal("time_limit", (string?)end["ended_by"]);
        Assert.Equal(300, (double)end["duration_s"]!, 6);
    }

    private static ProtocolStep Gitt(double limitV, int maxPulses, double maxS = 24 * 3600) => new()
    {
        Name = "titration", Kind = StepKind.Gitt, CRate = 0.5, PulseDuration = S(600), RestDuration = S(1200),
        MaxPulses = maxPulses, CutoffVoltageV = limitV, MaxDuration = S(maxS),
    };

    [Fact]
    public async Task Gitt_gives_its_pulses_with_a_rest_after_each_and_stops_at_the_pulse_count()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.1);
        var cycler = NewCycler(cell, 60, Gitt(3.95, 4));

        await cycler.RunAsActorAsync(_clock);

        var end = Assert.Single(Records("step_end"));
        Assert.Equal("max_pulses", (string?)end["ended_by"]);
        Assert.Equal(["pulse 1", "rest 1", "pulse 2", "rest 2", "pulse 3", "rest 3", "pulse 4", "rest 4"],
            Records("phase_start").Select(r => (string)r["phase"]!).ToArray());
        var phaseEnds = Records("phase_end");
        Assert.All(phaseEnds.Where((_, i) => i % 2 == 0), p => Assert.Equal(600, (double)p["duration_s"]!, 6));
        Assert.All(phaseEnds.Where((_, i) => i % 2 == 1), p => Assert.Equal(1200, (double)p["duration_s"]!, 6));
        Assert.Equal(4 * 1800, (double)end["duration_s"]!, 6);
        // Each pulse passes 0.5C × 600 s = 1/12 of the capacity.
        Assert.InRange(cell.StateOfCharge, 0.1 + 4 / 12.0 - 0.001, 0.1 + 4 / 12.0 + 0.001);
        Assert.Equal(4, cell.Calls.Count(c => c == "cc 0.0025 vlim 4"));
        Assert.Equal(4, cell.Calls.Count(c => c == "on"));
    }

    [Fact]
    public async Task Gitt_stops_at_its_voltage_limit_after_the_rest_of_the_last_pulse()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.1);
        // V in a pulse = 3.0 + soc + 0.0125, each pulse adds 1/12: the limit 3.35 (soc 0.3375) is crossed in the 3rd.
        var cycler = NewCycler(cell, 60, Gitt(3.35, 20));

        await cycler.RunAsActorAsync(_clock);

        var end = Assert.Single(Records("step_end"));
        Assert.Equal("voltage_limit", (string?)end["ended_by"]);
        Assert.Contains("voltage limit 3.35 V reached", (string?)end["reason"]);
        Assert.Contains("in pulse 3", (string?)end["reason"]);
        var phases = Records("phase_start").Select(r => (string)r["phase"]!).ToArray();
        Assert.Equal("rest 3", phases[^1]);
        Assert.Equal(6, phases.Length);
        Assert.InRange((double)Records("phase_end")[4]["duration_s"]!, 1, 599);
        Assert.Equal(1200, (double)Records("phase_end")[5]["duration_s"]!, 6);
        Assert.InRange(cell.StateOfCharge, 0.3375, 0.339);
    }

    [Fact]
    public async Task Gitt_that_runs_out_of_time_ends_on_its_step_time_limit()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.1);
        await NewCycler(cell, 60, Gitt(3.95, 10, maxS: 2 * 1800 + 300)).RunAsActorAsync(_clock);

        var end = Assert.Single(Records("step_end"));
        Assert.Equal("time_limit", (string?)end["ended_by"]);
        Assert.Contains("in pulse 3", (string?)end["reason"]);
        Assert.Equal(3900, (double)end["duration_s"]!, 6);
    }

    [Fact]
    public async Task Loops_and_cycles_unroll_into_counted_steps_with_their_paths()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.4);
        var loop = new ProtocolStep
        {
            Name = "pulses", Kind = StepKind.Loop, Repeat = 3,
            Steps = [Cc("push", 1, 3.95, maxS: 60), Rest("pause", 30)],
        };
        var protocol = new CyclingProtocol([loop, Cc("discharge", -1, 3.3)], 2, S(60));
        var cycler = new Cycler(cell, protocol, _cell, _clock, Journal);
        Assert.Equal(14, cycler.StepsTotal);

        await cycler.RunAsActorAsync(_clock);

        Assert.Equal(14, cycler.StepsCompleted);
        Assert.Equal(2, cycler.CurrentCycle);
        var starts = Records("step_start");
        Assert.Equal(
            ["pulses[1]/push", "pulses[1]/pause", "pulses[2]/push", "pulses[2]/pause", "pulses[3]/push", "pulses[3]/pause", "discharge"],
            starts.Take(7).Select(r => (string)r["path"]!).ToArray());
        Assert.Equal([1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2], starts.Select(r => (int)r["cycle"]!).ToArray());
        Assert.Equal([1, 2], Records("cycle_start").Select(r => (int)r["cycle"]!).ToArray());
        var done = Assert.Single(Records("protocol_done"));
        Assert.Equal(14, (int)done["steps_completed"]!);
    }

    [Fact]
    public async Task A_C_rate_requested_in_the_middle_of_a_step_applies_only_from_the_next_one()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.1);
        var cycler = NewCycler(cell, 30, Cc("first", 1, 3.5), Rest("pause", 60), Cc("second", 1, 3.7));
        cell.OnVoltageMeasured = n =>
        {
            if (n == 5) cycler.RequestCRate(2, "operator");
        };

        await cycler.RunAsActorAsync(_clock);

        // No live change: the only current settings are the two configurations with the output off.
        Assert.Equal(["off", "cc 0.005 vlim 4", "on", "off", "off", "cc 0.01 vlim 4", "on", "safe"], cell.Calls);
        var firstSamples = Records("cell").Where(r => (string?)r["step"] == "first").ToList();
        Assert.True(firstSamples.Count > 5);
        Assert.All(firstSamples, r => Assert.Equal(0.005, (double)r["current_a"]!, 9));
        var second = Records("step_start")[2];
        Assert.Equal(2, (double)second["c_rate"]!, 9);
        Assert.Equal("operator", (string?)second["c_rate_source"]);
        Assert.Equal("protocol", (string?)Records("step_start")[0]["c_rate_source"]);
    }

    [Fact]
    public async Task C_rate_by_cycle_sets_each_cycles_rate_through_the_request_path()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.1);
        var protocol = new CyclingProtocol([Cc("charge", 1, 3.6), Cc("discharge", -1, 3.2)], 3, S(60)) { CRateByCycle = [0.5, 2] };
        await new Cycler(cell, protocol, _cell, _clock, Journal).RunAsActorAsync(_clock);

        var rates = Records("step_start").Select(r => (double)r["c_rate"]!).ToArray();
        // The third cycle keeps the last entry; the sign stays the step's own.
        Assert.Equal([0.5, -0.5, 2, -2, 2, -2], rates);
        Assert.All(Records("step_start"), r => Assert.Equal("protocol.c_rate_by_cycle", (string?)r["c_rate_source"]));
        Assert.Equal(2, Records("c_rate_requested").Count);
    }

    [Fact]
    public void A_C_rate_outside_the_cells_window_is_refused_and_recorded()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.1);
        // 0.015 A cap, 3C max: 3C is 0.015 A and allowed; a cell with a 0.01 A cap allows only 2C.
        var capped = new Cycler(cell, new CyclingProtocol([Cc("charge", 1, 3.6)], 1, S(10)), _cell with { MaxCurrentA = 0.01 }, _clock, Journal);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => capped.RequestCRate(2.5, "learner"));
        Assert.Contains("above the cell's maximum current", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => capped.RequestCRate(3.5, "learner"));
        Assert.Throws<ArgumentOutOfRangeException>(() => capped.RequestCRate(-1, "learner"));
        Assert.Throws<ArgumentOutOfRangeException>(() => capped.RequestCRate(double.NaN, "learner"));
        Assert.Null(capped.RequestedCRate);
        Assert.Equal(4, Records("c_rate_refused").Count);
        Assert.Equal("learner", (string?)Records("c_rate_refused")[0]["requested_by"]);
        capped.RequestCRate(2, "learner");
        Assert.Equal(2, capped.RequestedCRate);
    }

    [Fact]
    public async Task A_set_point_the_envelope_refuses_faults_the_protocol_once_and_leaves_the_cell_safe()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.1);
        // The guard's window is stricter than the cell limits the cycler knows: the guard has the last word.
        var guarded = new EnvelopeGuardedPotentiostat(cell, new SafetyEnvelope(2.5, 4.0, 0.015, 1.5, CapacityAh));
        var cycler = new Cycler(guarded, new CyclingProtocol([Cc("first", 1, 3.3), Cc("second", 1, 3.6)], 1, S(60)), _cell, _clock, Journal);
        cycler.StepBoundary += b =>
        {
            if (b.Ended?.Step.Name == "first") cycler.RequestCRate(2, "learner");
        };

        await Assert.ThrowsAsync<SafetyEnvelopeException>(() => cycler.RunAsActorAsync(_clock));

        var refused = Assert.Single(Records("setpoint_refused"));
        Assert.Equal("second", (string?)refused["step"]);
        Assert.Contains("above the window's max C-rate", (string?)refused["reason"]);
        var end = Records("step_end")[^1];
        Assert.Equal("fault", (string?)end["ended_by"]);
        Assert.Equal(1, cycler.StepsCompleted);
        // Never retried: one configuration reached the instrument, the refused one did not.
        Assert.Single(cell.Calls, c => c.StartsWith("cc", StringComparison.Ordinal));
        Assert.Equal("safe", cell.Calls[^1]);
        Assert.False(cell.Output);
    }

    [Fact]
    public async Task The_step_boundary_shows_the_next_step_and_a_planners_choice_applies_to_it()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.1);
        var cycler = NewCycler(cell, 60, Cc("charge", 1, 3.5), Rest("pause", 60), Cc("discharge", -1, 3.2));
        var seen = new List<StepBoundary>();
        cycler.StepBoundary += b =>
        {
            seen.Add(b);
            if (b.Next is { CRateAdjustable: true, Name: "discharge" }) cycler.RequestCRate(0.5, "learner");
        };
        cycler.StepBoundary += _ => throw new InvalidOperationException("a broken display");

        Assert.Equal("charge", cycler.NextStep?.Name);
        await cycler.RunAsActorAsync(_clock);

        Assert.Equal(4, seen.Count);
        Assert.Null(seen[0].Ended);
        Assert.Equal(1, seen[0].Next?.CRate);
        Assert.Equal("pause", seen[1].Next?.Name);
        Assert.Null(seen[1].Next?.CRate);
        Assert.False(seen[1].Next?.CRateAdjustable);
        Assert.Contains("voltage cut-off 3.5 V", seen[1].EndReason);
        Assert.Equal(-1, seen[2].Next?.CRate);
        Assert.Null(seen[3].Next);
        Assert.Equal(-0.5, (double)Records("step_start")[2]["c_rate"]!, 9);
        // The throwing handler is recorded at every boundary and stops nothing.
        Assert.Equal(4, Records("step_boundary_handler_failed").Count);
        Assert.Equal(3, cycler.StepsCompleted);
    }

    [Fact]
    public async Task A_stop_in_the_middle_of_a_step_records_its_end_and_leaves_the_cell_safe()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.1);
        using var stop = new CancellationTokenSource();
        cell.OnVoltageMeasured = n =>
        {
            if (n == 3) stop.Cancel();
        };
        var cycler = NewCycler(cell, Cc("charge", 1, 3.9));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cycler.RunAsActorAsync(_clock, stop.Token));

        var end = Assert.Single(Records("step_end"));
        Assert.Equal("stopped", (string?)end["ended_by"]);
        Assert.Equal("safe", cell.Calls[^1]);
        Assert.Equal(0, cycler.StepsCompleted);
        Assert.False(cycler.Latest.OutputOn);
    }

    [Fact]
    public async Task A_step_uses_its_own_sample_period()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.3);
        var rest = Rest("pause", 120) with { SamplePeriod = S(30) };
        await NewCycler(cell, rest).RunAsActorAsync(_clock);

        var times = Records("cell").Select(r => DateTimeOffset.Parse((string)r["t"]!)).ToList();
        Assert.Equal([0, 30, 60, 90, 120], times.Select(t => (t - Start).TotalSeconds).ToArray());
    }

    [Fact]
    public async Task The_state_of_charge_is_charge_counted_and_carried_forward_between_samples()
    {
        var cell = new FakePotentiostat(_clock, CapacityAh, 0.1);
        var cycler = NewCycler(cell, Cc("charge", 1, 3.5, maxS: 360));
        (CellReading Reading, double FiveSecondsOn)? probe = null;
        cell.OnVoltageMeasured = n =>
        {
            if (n != 10) return;
            var last = cycler.Latest;
            probe = (last, cycler.EstimateStateOfCharge(last.Time + S(5)));
        };

        await cycler.RunAsActorAsync(_clock);

        // 1C for 360 s = 0.1 of the capacity.
        Assert.Equal(0.2, Records("cell")[^1]["state_of_charge"]!.GetValue<double>(), 6);
        Assert.NotNull(probe);
        Assert.Equal(0.1 + 80 / 3600.0, probe.Value.Reading.StateOfCharge, 6);
        Assert.Equal(probe.Value.Reading.StateOfCharge + 5 / 3600.0, probe.Value.FiveSecondsOn, 9);
        Assert.Equal(1, probe.Value.Reading.CRate);
    }
}

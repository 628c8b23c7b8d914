using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Time;

namespace AutonomousBeamline.Control.Cycling;

/// <summary>The cell as last measured, with the charge-counted state of charge.</summary>
public sealed record CellReading(
    DateTimeOffset Time, double VoltageV, double CurrentA, double StateOfCharge,
    string Step, int Cycle, double CRate, bool OutputOn);

/// <summary>
/// Runs the cell's protocol on its own clock actor, independently of the measurement loop (the cell
/// never waits for the beam). It counts charge for the state-of-charge estimate, ends each step on its
/// terminations, and takes the cell to the safe state on any fault or measured excursion.
/// </summary>
public sealed class Cycler
{
    private readonly IPotentiostat _potentiostat;
    private readonly CyclingProtocol _protocol;
    private readonly CellLimits _cell;
    private readonly TimeProvider _time;
    private readonly RunJournal _journal;
    private readonly object _gate = new();
    private CellReading _latest;
    private double? _requestedCRate;
    private int _stepsCompleted;

    public Cycler(IPotentiostat potentiostat, CyclingProtocol protocol, CellLimits cell, TimeProvider time, RunJournal journal)
    {
        _potentiostat = potentiostat;
        _protocol = protocol;
        _cell = cell;
        _time = time;
        _journal = journal;
        _latest = new CellReading(time.GetUtcNow(), double.NaN, 0, cell.InitialStateOfCharge, "(not started)", 0, 0, false);
    }

    public CellReading Latest
    {
        get { lock (_gate) return _latest; }
    }

    public int StepsCompleted => Volatile.Read(ref _stepsCompleted);

    /// <summary>
    /// The state of charge at <paramref name="t"/>: the last charge-counted value carried forward at
    /// the last measured current, so that a frame between two samples gets its own value.
    /// </summary>
    public double EstimateStateOfCharge(DateTimeOffset t)
    {
        var last = Latest;
        var dt = Math.Max(0, (t - last.Time).TotalHours);
        return Math.Clamp(last.StateOfCharge + last.CurrentA * dt / _cell.NominalCapacityAh, 0, 1);
    }

    /// <summary>
    /// Asks for a different C-rate magnitude from the next constant-current step on. Applied only at a
    /// step boundary; refused here if outside the configured maximum (the guarded driver checks again).
    /// </summary>
    public void RequestCRate(double cRate, string requestedBy)
    {
        if (!(cRate > 0) || cRate > _cell.MaxCRate)
            throw new ArgumentOutOfRangeException(nameof(cRate), $"C-rate {cRate} is outside (0, {_cell.MaxCRate}] of the cell's window");
        lock (_gate) _requestedCRate = cRate;
        _journal.Write("c_rate_requested", new { c_rate = cRate, requested_by = requestedBy, applies = "next constant-current step" });
    }

    /// <summary>Runs every cycle of the protocol; the cell ends with the output off, also on error or cancellation.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            for (var cycle = 1; cycle <= _protocol.Cycles; cycle++)
            {
                foreach (var step in _protocol.Steps)
                {
                    await RunStepAsync(step, cycle, cancellationToken).ConfigureAwait(false);
                    Interlocked.Increment(ref _stepsCompleted);
                }
            }
            _journal.Write("protocol_done", new { steps_completed = StepsCompleted });
        }
        finally
        {
            await _potentiostat.EnterSafeStateAsync(CancellationToken.None).ConfigureAwait(false);
            lock (_gate) _latest = _latest with { CurrentA = 0, OutputOn = false, Step = "(safe)" };
        }
    }

    private async Task RunStepAsync(ProtocolStep step, int cycle, CancellationToken ct)
    {
        var cRate = step.CRate;
        if (step.Kind == StepKind.ConstantCurrent)
        {
            lock (_gate)
                if (_requestedCRate is { } requested) cRate = Math.Sign(step.CRate) * requested;
        }
        var currentA = cRate * _cell.NominalCapacityAh;

        // Reconfigure only with the output off; compliance is set before the output goes on.
        await _potentiostat.SetOutputAsync(false, ct).ConfigureAwait(false);
        switch (step.Kind)
        {
            case StepKind.ConstantCurrent:
                // The compliance is the window's edge in the direction of travel: the instrument's own stop
                // if a sample comes too late to catch the cut-off.
                var voltageLimit = currentA >= 0 ? _cell.VoltageMaxV : _cell.VoltageMinV;
                await _potentiostat.ConfigureCurrentSourceAsync(currentA, voltageLimit, ct).ConfigureAwait(false);
                await _potentiostat.SetOutputAsync(true, ct).ConfigureAwait(false);
                break;
            case StepKind.ConstantVoltage:
                await _potentiostat.ConfigureVoltageSourceAsync(step.HoldVoltageV, _cell.MaxCurrentA, ct).ConfigureAwait(false);
                await _potentiostat.SetOutputAsync(true, ct).ConfigureAwait(false);
                break;
            case StepKind.Rest:
                break;
        }

        var start = _time.GetUtcNow();
        _journal.Write("step_start", new
        {
            step = step.Name, cycle, kind = step.Kind.ToString(), c_rate = step.Kind == StepKind.ConstantCurrent ? cRate : 0,
            current_a = step.Kind == StepKind.ConstantCurrent ? currentA : 0, hold_voltage_v = step.Kind == StepKind.ConstantVoltage ? step.HoldVoltageV : (double?)null,
        });

        var charge = 0.0;
        var reading = await SampleAsync(step, cycle, cRate, ct).ConfigureAwait(false);
        string reason;
        while (true)
        {
            var period = NextSamplePeriod(step, reading);
            await _time.SleepAsync(period, ct).ConfigureAwait(false);
            var previous = reading;
            reading = await SampleAsync(step, cycle, cRate, ct).ConfigureAwait(false);
            charge += Math.Abs((previous.CurrentA + reading.CurrentA) / 2) * (reading.Time - previous.Time).TotalHours;

            if (reading.VoltageV > _cell.VoltageMaxV || reading.VoltageV < _cell.VoltageMinV)
                throw new CellWindowException(
                    $"measured {reading.VoltageV:0.000} V is outside the cell window [{_cell.VoltageMinV}, {_cell.VoltageMaxV}] V during step '{step.Name}'");

            if (step.Kind == StepKind.ConstantCurrent && step.CutoffVoltageV is { } cutoff &&
                (cRate > 0 ? reading.VoltageV >= cutoff : reading.VoltageV <= cutoff))
            { reason = $"voltage cut-off {cutoff} V reached ({reading.VoltageV:0.000} V)"; break; }
            if (step.Kind == StepKind.ConstantVoltage && step.CutoffCurrentA is { } iCut && Math.Abs(reading.CurrentA) < iCut)
            { reason = $"current fell below {iCut} A ({reading.CurrentA:E3} A)"; break; }
            if (step.MaxChargeAh is { } qMax && charge >= qMax)
            { reason = $"charge limit {qMax} Ah passed"; break; }
            if (reading.Time - start >= step.MaxDuration)
            { reason = $"time limit {step.MaxDuration.TotalSeconds:0} s reached"; break; }
        }

        _journal.Write("step_end", new
        {
            step = step.Name, cycle, reason, duration_s = (reading.Time - start).TotalSeconds, charge_ah = charge,
            voltage_v = reading.VoltageV, state_of_charge = reading.StateOfCharge,
        });
    }

    /// <summary>Samples faster as a voltage cut-off approaches, so that a steep end of charge is not overshot.</summary>
    private TimeSpan NextSamplePeriod(ProtocolStep step, CellReading reading)
    {
        var period = _protocol.SamplePeriod;
        if (step.Kind != StepKind.ConstantCurrent) return period;
        var margin = Math.Min(Math.Abs(reading.VoltageV - _cell.VoltageMaxV), Math.Abs(reading.VoltageV - _cell.VoltageMinV));
        if (step.CutoffVoltageV is { } cutoff) margin = Math.Min(margin, Math.Abs(reading.VoltageV - cutoff));
        if (margin < 0.05) return TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(0.5).Ticks, period.Ticks / 10));
        if (margin < 0.15) return TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(1).Ticks, period.Ticks / 3));
        return period;
    }

    private async Task<CellReading> SampleAsync(ProtocolStep step, int cycle, double cRate, CancellationToken ct)
    {
        var voltage = await _potentiostat.MeasureVoltageAsync(ct).ConfigureAwait(false);
        var current = step.Kind == StepKind.Rest ? 0 : await _potentiostat.MeasureCurrentAsync(ct).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        CellReading reading;
        lock (_gate)
        {
            // Trapezoidal charge counting between samples.
            var dtH = Math.Max(0, (now - _latest.Time).TotalHours);
            var soc = _latest.StateOfCharge + (_latest.CurrentA + current) / 2 * dtH / _cell.NominalCapacityAh;
            reading = new CellReading(now, voltage, current, Math.Clamp(soc, 0, 1), step.Name, cycle,
                step.Kind == StepKind.ConstantCurrent ? cRate : 0, step.Kind != StepKind.Rest);
            _latest = reading;
        }
        _journal.Write("cell", new
        {
            voltage_v = voltage, current_a = current, state_of_charge = reading.StateOfCharge, step = step.Name, cycle,
        });
        return reading;
    }
}

/// <summary>The cell was measured outside its configured window: a fault that ends in the safe state.</summary>
public sealed class CellWindowException(string message) : Exception(message);

using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Control.Tests.Cycling;

/// <summary>
/// A simple cell behind the potentiostat interface: V = 3.0 + soc + I·R + η, integrated on the test's clock in
/// one-second sub-steps. η is a polarisation that follows I·<see cref="PolarisationOhm"/> with time constant
/// <see cref="RelaxationTime"/>, so a rest after current relaxes the way a real cell's voltage does (it is zero
/// unless a test sets the resistance). Records every call so that tests can check the order of settings.
/// </summary>
internal sealed class FakePotentiostat(TimeProvider time, double capacityAh, double soc) : IPotentiostat
{
    public const double ResistanceOhm = 5;
    private DateTimeOffset _last = time.GetUtcNow();
    private double _setCurrent;
    private bool _voltageMode;
    private double _holdV;
    private double _currentLimit = double.PositiveInfinity;
    private double _polarisationV;

    public List<string> Calls { get; } = new();
    public bool Output { get; private set; }
    public double StateOfCharge => soc;
    public double? ForcedVoltage { get; set; }
    public Exception? FailMeasurementsWith { get; set; }
    /// <summary>With <see cref="FailMeasurementsWith"/>: how many voltage measurements fail before they work again (null: all).</summary>
    public int? FailingMeasurements { get; set; }
    public double PolarisationOhm { get; set; }
    public TimeSpan RelaxationTime { get; set; } = TimeSpan.FromSeconds(120);
    public int VoltageMeasurements { get; private set; }

    /// <summary>Called after each voltage measurement with its count, e.g. to act in the middle of a step.</summary>
    public Action<int>? OnVoltageMeasured { get; set; }

    private double OpenCircuit => 3.0 + soc;

    private void Integrate()
    {
        var now = time.GetUtcNow();
        while (_last < now)
        {
            var dt = now - _last;
            if (dt > TimeSpan.FromSeconds(1)) dt = TimeSpan.FromSeconds(1);
            var current = Current();
            soc += current * dt.TotalHours / capacityAh;
            var target = current * PolarisationOhm;
            _polarisationV = target + (_polarisationV - target) * Math.Exp(-dt.TotalSeconds / RelaxationTime.TotalSeconds);
            _last += dt;
        }
    }

    private double Current()
    {
        if (!Output) return 0;
        if (!_voltageMode) return _setCurrent;
        var i = (_holdV - OpenCircuit - _polarisationV) / ResistanceOhm;
        return Math.Clamp(i, -_currentLimit, _currentLimit);
    }

    public Task<InstrumentIdentity> IdentifyAsync(CancellationToken ct = default) => Task.FromResult(new InstrumentIdentity("Fake", "Cell", "1", "1"));
    public Task ResetAsync(CancellationToken ct = default) { Integrate(); Output = false; Calls.Add("reset"); return Task.CompletedTask; }

    public Task ConfigureCurrentSourceAsync(double currentA, double voltageLimitV, CancellationToken ct = default)
    {
        if (Output) throw new InvalidOperationException("reconfigured with the output on");
        Integrate(); _voltageMode = false; _setCurrent = currentA; Calls.Add($"cc {currentA:0.######} vlim {voltageLimitV}");
        return Task.CompletedTask;
    }

    public Task SetCurrentAsync(double currentA, CancellationToken ct = default) { Integrate(); _setCurrent = currentA; Calls.Add($"set i {currentA:0.######}"); return Task.CompletedTask; }

    public Task ConfigureVoltageSourceAsync(double voltageV, double currentLimitA, CancellationToken ct = default)
    {
        if (Output) throw new InvalidOperationException("reconfigured with the output on");
        Integrate(); _voltageMode = true; _holdV = voltageV; _currentLimit = currentLimitA; Calls.Add($"cv {voltageV} ilim {currentLimitA:0.######}");
        return Task.CompletedTask;
    }

    public Task SetVoltageAsync(double voltageV, CancellationToken ct = default) { Integrate(); _holdV = voltageV; Calls.Add($"set v {voltageV}"); return Task.CompletedTask; }
    public Task SetOutputAsync(bool on, CancellationToken ct = default) { Integrate(); Output = on; Calls.Add(on ? "on" : "off"); return Task.CompletedTask; }
    public Task<bool> GetOutputAsync(CancellationToken ct = default) => Task.FromResult(Output);

    public Task<double> MeasureVoltageAsync(CancellationToken ct = default)
    {
        if (FailMeasurementsWith is { } e && FailingMeasurements is not 0)
        {
            if (FailingMeasurements is { } n) FailingMeasurements = n - 1;
            throw e;
        }
        Integrate();
        var v = ForcedVoltage ?? OpenCircuit + Current() * ResistanceOhm + _polarisationV;
        OnVoltageMeasured?.Invoke(++VoltageMeasurements);
        return Task.FromResult(v);
    }

    public Task<double> MeasureCurrentAsync(CancellationToken ct = default) { Integrate(); return Task.FromResult(Current()); }
    public Task<bool> IsComplianceTrippedAsync(CancellationToken ct = default) => Task.FromResult(false);
    public Task EnterSafeStateAsync(CancellationToken ct = default) { Integrate(); Output = false; Calls.Add("safe"); return Task.CompletedTask; }
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

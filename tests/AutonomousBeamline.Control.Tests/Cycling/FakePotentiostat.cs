using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Control.Tests.Cycling;

/// <summary>
/// A linear cell behind the potentiostat interface: V = 3.0 + soc + I·R, integrated on the test's clock.
/// Records every call so that tests can check the order of settings.
/// </summary>
internal sealed class FakePotentiostat(TimeProvider time, double capacityAh, double soc) : IPotentiostat
{
    private const double ResistanceOhm = 5;
    private DateTimeOffset _last = time.GetUtcNow();
    private double _setCurrent;
    private bool _voltageMode;
    private double _holdV;

    public List<string> Calls { get; } = new();
    public bool Output { get; private set; }
    public double StateOfCharge => soc;
    public double? ForcedVoltage { get; set; }
    public Exception? FailMeasurementsWith { get; set; }

    private void Integrate()
    {
        var now = time.GetUtcNow();
        soc += Current() * (now - _last).TotalHours / capacityAh;
        _last = now;
    }

    private double Current() => !Output ? 0 : _voltageMode ? (_holdV - (3.0 + soc)) / ResistanceOhm : _setCurrent;

    public Task<InstrumentIdentity> IdentifyAsync(CancellationToken ct = default) => Task.FromResult(new InstrumentIdentity("Fake", "Cell", "1", "1"));
    public Task ResetAsync(CancellationToken ct = default) { Integrate(); Output = false; Calls.Add("reset"); return Task.CompletedTask; }

    public Task ConfigureCurrentSourceAsync(double currentA, double voltageLimitV, CancellationToken ct = default)
    {
        if (Output) throw new InvalidOperationException("reconfigured with the output on");
        Integrate(); _voltageMode = false; _setCurrent = currentA; Calls.Add($"cc {currentA:0.######} vlim {voltageLimitV}");
        return Task.CompletedTask;
    }

    public Task SetCurrentAsync(double currentA, CancellationToken ct = default) { Integrate(); _setCurrent = currentA; return Task.CompletedTask; }

    public Task ConfigureVoltageSourceAsync(double voltageV, double currentLimitA, CancellationToken ct = default)
    {
        if (Output) throw new InvalidOperationException("reconfigured with the output on");
        Integrate(); _voltageMode = true; _holdV = voltageV; Calls.Add($"cv {voltageV} ilim {currentLimitA}");
        return Task.CompletedTask;
    }

    public Task SetVoltageAsync(double voltageV, CancellationToken ct = default) { Integrate(); _holdV = voltageV; return Task.CompletedTask; }
    public Task SetOutputAsync(bool on, CancellationToken ct = default) { Integrate(); Output = on; Calls.Add(on ? "on" : "off"); return Task.CompletedTask; }
    public Task<bool> GetOutputAsync(CancellationToken ct = default) => Task.FromResult(Output);

    public Task<double> MeasureVoltageAsync(CancellationToken ct = default)
    {
        if (FailMeasurementsWith is { } e) throw e;
        Integrate();
        return Task.FromResult(ForcedVoltage ?? 3.0 + soc + Current() * ResistanceOhm);
    }

    public Task<double> MeasureCurrentAsync(CancellationToken ct = default) { Integrate(); return Task.FromResult(Current()); }
    public Task<bool> IsComplianceTrippedAsync(CancellationToken ct = default) => Task.FromResult(false);
    public Task EnterSafeStateAsync(CancellationToken ct = default) { Integrate(); Output = false; Calls.Add("safe"); return Task.CompletedTask; }
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

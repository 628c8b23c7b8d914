namespace AutonomousBeamline.Core.Devices;

/// <summary>Who answered <c>*IDN?</c>.</summary>
public sealed record InstrumentIdentity(string Maker, string Model, string Serial, string Firmware)
{
    public override string ToString() => $"{Maker} {Model} (serial {Serial}, firmware {Firmware})";
}

/// <summary>
/// A galvanostat/potentiostat as the experiment sees it (FACILITY-ICD §1). Sign convention:
/// positive current charges the cell. Every setting is confirmed by the instrument before the
/// call returns; a refused setting throws <see cref="DeviceException"/>.
/// </summary>
public interface IPotentiostat : IAsyncDisposable
{
    Task<InstrumentIdentity> IdentifyAsync(CancellationToken cancellationToken = default);

    /// <summary><c>*RST</c> and <c>*CLS</c>: safe defaults, output off, empty error queue.</summary>
    Task ResetAsync(CancellationToken cancellationToken = default);

    /// <summary>Galvanostatic mode with its voltage compliance. Only with the output off.</summary>
    Task ConfigureCurrentSourceAsync(double currentA, double voltageLimitV, CancellationToken cancellationToken = default);

    /// <summary>Changes the current level within the configured galvanostatic mode (output may be on).</summary>
    Task SetCurrentAsync(double currentA, CancellationToken cancellationToken = default);

    /// <summary>Potentiostatic mode with its current compliance. Only with the output off.</summary>
    Task ConfigureVoltageSourceAsync(double voltageV, double currentLimitA, CancellationToken cancellationToken = default);

    /// <summary>Changes the voltage level within the configured potentiostatic mode (output may be on).</summary>
    Task SetVoltageAsync(double voltageV, CancellationToken cancellationToken = default);

    Task SetOutputAsync(bool on, CancellationToken cancellationToken = default);

    Task<bool> GetOutputAsync(CancellationToken cancellationToken = default);

    Task<double> MeasureVoltageAsync(CancellationToken cancellationToken = default);

    Task<double> MeasureCurrentAsync(CancellationToken cancellationToken = default);

    /// <summary>Whether the compliance limit of the present source mode has been reached.</summary>
    Task<bool> IsComplianceTrippedAsync(CancellationToken cancellationToken = default);

    /// <summary>Leaves the cell safe (output off) whatever state the driver is in. Never throws for a device error.</summary>
    Task EnterSafeStateAsync(CancellationToken cancellationToken = default);
}

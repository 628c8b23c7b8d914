using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Core.Safety;

/// <summary>
/// Refuses every set-point outside the <see cref="SafetyEnvelope"/> before it reaches the instrument,
/// whoever asks (the learner, a protocol, an operator). Reads and the safe state pass straight through.
/// </summary>
public sealed class EnvelopeGuardedPotentiostat : IPotentiostat
{
    private readonly IPotentiostat _inner;

    public EnvelopeGuardedPotentiostat(IPotentiostat inner, SafetyEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(envelope);
        envelope.Validate();
        _inner = inner;
        Envelope = envelope;
    }

    public SafetyEnvelope Envelope { get; }

    public Task<InstrumentIdentity> IdentifyAsync(CancellationToken cancellationToken = default) =>
        _inner.IdentifyAsync(cancellationToken);

    public Task ResetAsync(CancellationToken cancellationToken = default) => _inner.ResetAsync(cancellationToken);

    public Task ConfigureCurrentSourceAsync(double currentA, double voltageLimitV, CancellationToken cancellationToken = default)
    {
        Envelope.EnsureCurrentSource(currentA, voltageLimitV);
        return _inner.ConfigureCurrentSourceAsync(currentA, voltageLimitV, cancellationToken);
    }

    public Task SetCurrentAsync(double currentA, CancellationToken cancellationToken = default)
    {
        Envelope.EnsureCurrent(currentA);
        return _inner.SetCurrentAsync(currentA, cancellationToken);
    }

    public Task ConfigureVoltageSourceAsync(double voltageV, double currentLimitA, CancellationToken cancellationToken = default)
    {
        Envelope.EnsureVoltageSource(voltageV, currentLimitA);
        return _inner.ConfigureVoltageSourceAsync(voltageV, currentLimitA, cancellationToken);
    }

    public Task SetVoltageAsync(double voltageV, CancellationToken cancellationToken = default)
    {
        Envelope.EnsureVoltage(voltageV);
        return _inner.SetVoltageAsync(voltageV, cancellationToken);
    }

    public Task SetOutputAsync(bool on, CancellationToken cancellationToken = default) =>
        _inner.SetOutputAsync(on, cancellationToken);

    public Task<bool> GetOutputAsync(CancellationToken cancellationToken = default) => _inner.GetOutputAsync(cancellationToken);

    public Task<double> MeasureVoltageAsync(CancellationToken cancellationToken = default) =>
        _inner.MeasureVoltageAsync(cancellationToken);

    public Task<double> MeasureCurrentAsync(CancellationToken cancellationToken = default) =>
        _inner.MeasureCurrentAsync(cancellationToken);

    public Task<bool> IsComplianceTrippedAsync(CancellationToken cancellationToken = default) =>
        _inner.IsComplianceTrippedAsync(cancellationToken);

    public Task EnterSafeStateAsync(CancellationToken cancellationToken = default) =>
        _inner.EnterSafeStateAsync(cancellationToken);

    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}

using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Instruments.Scpi;

namespace AutonomousBeamline.Instruments.Potentiostat;

/// <summary>
/// A Keithley 2450-class SourceMeter used as galvanostat/potentiostat, driven with the command names of
/// FACILITY-ICD §1. Every setting is confirmed through the error queue; the compliance is always set
/// before the level and before the output may go on; mode and compliance change only with the output off.
/// A reading that cannot physically be right (<see cref="ReadingPlausibility"/>) is measured again, not believed.
/// </summary>
public sealed class ScpiPotentiostat : IPotentiostat, ITemperatureSensor
{
    private enum SourceMode { Unknown, Current, Voltage }

    private readonly ScpiClient _client;
    private readonly ReadingPlausibility _plausibility;
    private readonly TimeProvider _time;
    private SourceMode _mode = SourceMode.Unknown;

    /// <summary>The set current (current mode) or the current limit (voltage mode): what the measured current is held to.</summary>
    private double _currentBoundA;
    private bool _outputOn;
    private (double Volts, long Timestamp)? _lastVoltage;

    /// <param name="time">The clock the cell moves on (virtual in a dry run), for how fast its voltage may change.</param>
    public ScpiPotentiostat(ScpiClient client, ReadingPlausibility? plausibility = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _plausibility = plausibility ?? new ReadingPlausibility();
        _time = time ?? TimeProvider.System;
    }

    public ScpiPotentiostat(IScpiTransport transport, string deviceName, ScpiClientOptions? options = null,
        ReadingPlausibility? plausibility = null, TimeProvider? time = null)
        : this(new ScpiClient(transport, deviceName, options), plausibility, time)
    {
    }

    public string DeviceName => _client.DeviceName;

    /// <summary>Raised when the output did not go off at the first try and the safe state insists (the command and why).</summary>
    public event Action<string, string>? SafeStateInsisting;

    /// <summary>Raised when a query went unanswered and the link was resynchronised (see <see cref="ScpiClient.TimedOut"/>).</summary>
    public event Action<string, string>? TimedOut
    {
        add => _client.TimedOut += value;
        remove => _client.TimedOut -= value;
    }

    /// <summary>Raised when a reply was not believed and the link is resynchronised (see <see cref="ScpiClient.OutOfStep"/>).</summary>
    public event Action<string, string>? OutOfStep
    {
        add => _client.OutOfStep += value;
        remove => _client.OutOfStep -= value;
    }

    /// <summary>Raised when a reading was not believed and is measured again: the query and why. For the journal.</summary>
    public event Action<string, string>? ReadingRejected;

    public async Task<InstrumentIdentity> IdentifyAsync(CancellationToken cancellationToken = default)
    {
        const string query = "*IDN?";
        var reply = await _client.QueryAsync(query, cancellationToken).ConfigureAwait(false);
        var fields = reply.Split(',', 4, StringSplitOptions.TrimEntries);
        if (fields.Length != 4 || fields[0].Length == 0 || fields[1].Length == 0)
            throw new ScpiReplyFormatException(DeviceName, query, reply, "MAKER,MODEL,SERIAL,FIRMWARE");
        return new InstrumentIdentity(fields[0], fields[1], fields[2], fields[3]);
    }

    public async Task ResetAsync(CancellationToken cancellationToken = default)
    {
        // *RST's own error (if any) must be read before *CLS would wipe it.
        await _client.SendConfirmedAsync("*RST", cancellationToken).ConfigureAwait(false);
        _mode = SourceMode.Unknown;
        _outputOn = false;
        await _client.SendConfirmedAsync("*CLS", cancellationToken).ConfigureAwait(false);
    }

    public async Task ConfigureCurrentSourceAsync(double currentA, double voltageLimitV, CancellationToken cancellationToken = default)
    {
        RequireFinite(currentA, "current");
        RequireFinite(voltageLimitV, "voltage limit");
        await RequireOutputOffAsync("switch to galvanostatic mode and set its voltage limit", cancellationToken).ConfigureAwait(false);
        _mode = SourceMode.Unknown;
        await _client.SendConfirmedAsync(":SOUR:FUNC CURR", cancellationToken).ConfigureAwait(false);
        await _client.SendConfirmedAsync($":SOUR:CURR:VLIM {ScpiNumber.Format(voltageLimitV)}", cancellationToken).ConfigureAwait(false);
        await SetCurrentLevelAsync(currentA, cancellationToken).ConfigureAwait(false);
        _mode = SourceMode.Current;
    }

    public async Task SetCurrentAsync(double currentA, CancellationToken cancellationToken = default)
    {
        RequireFinite(currentA, "current");
        RequireMode(SourceMode.Current, "set the current level", nameof(ConfigureCurrentSourceAsync));
        await SetCurrentLevelAsync(currentA, cancellationToken).ConfigureAwait(false);
    }

    private async Task SetCurrentLevelAsync(double currentA, CancellationToken cancellationToken)
    {
        // Until the instrument confirms, either level may be flowing: the reading is held to the larger.
        _currentBoundA = Math.Max(Math.Abs(_currentBoundA), Math.Abs(currentA));
        await _client.SendConfirmedAsync($":SOUR:CURR {ScpiNumber.Format(currentA)}", cancellationToken).ConfigureAwait(false);
        _currentBoundA = currentA;
    }

    public async Task ConfigureVoltageSourceAsync(double voltageV, double currentLimitA, CancellationToken cancellationToken = default)
    {
        RequireFinite(voltageV, "voltage");
        RequireFinite(currentLimitA, "current limit");
        await RequireOutputOffAsync("switch to potentiostatic mode and set its current limit", cancellationToken).ConfigureAwait(false);
        _mode = SourceMode.Unknown;
        await _client.SendConfirmedAsync(":SOUR:FUNC VOLT", cancellationToken).ConfigureAwait(false);
        await _client.SendConfirmedAsync($":SOUR:VOLT:ILIM {ScpiNumber.Format(currentLimitA)}", cancellationToken).ConfigureAwait(false);
        _currentBoundA = currentLimitA;
        await _client.SendConfirmedAsync($":SOUR:VOLT {ScpiNumber.Format(voltageV)}", cancellationToken).ConfigureAwait(false);
        _mode = SourceMode.Voltage;
    }

    public async Task SetVoltageAsync(double voltageV, CancellationToken cancellationToken = default)
    {
        RequireFinite(voltageV, "voltage");
        RequireMode(SourceMode.Voltage, "set the voltage level", nameof(ConfigureVoltageSourceAsync));
        await _client.SendConfirmedAsync($":SOUR:VOLT {ScpiNumber.Format(voltageV)}", cancellationToken).ConfigureAwait(false);
    }

    public async Task SetOutputAsync(bool on, CancellationToken cancellationToken = default)
    {
        if (on && _mode == SourceMode.Unknown)
            throw new InvalidOperationException(
                $"{DeviceName}: refusing to turn the output on before a source mode and its compliance limit were configured " +
                $"through this driver ({nameof(ConfigureCurrentSourceAsync)} or {nameof(ConfigureVoltageSourceAsync)})");
        // Until the instrument confirms, the output may already be on.
        if (on) _outputOn = true;
        await _client.SendConfirmedAsync(on ? ":OUTP ON" : ":OUTP OFF", cancellationToken).ConfigureAwait(false);
        _outputOn = on;
    }

    public Task<bool> GetOutputAsync(CancellationToken cancellationToken = default) =>
        _client.QueryBooleanAsync(":OUTP?", cancellationToken);

    public async Task<double> MeasureVoltageAsync(CancellationToken cancellationToken = default)
    {
        var previous = _lastVoltage is { } last ? (last.Volts, _time.GetElapsedTime(last.Timestamp)) : ((double, TimeSpan)?)null;
        var volts = await MeasurePlausiblyAsync(":MEAS:VOLT?", "V", v => _plausibility.CheckVoltage(v, previous), cancellationToken).ConfigureAwait(false);
        _lastVoltage = (volts, _time.GetTimestamp());
        return volts;
    }

    public Task<double> MeasureCurrentAsync(CancellationToken cancellationToken = default) =>
        MeasurePlausiblyAsync(":MEAS:CURR?", "A", a => _plausibility.CheckCurrent(a, _outputOn ? _currentBoundA : null), cancellationToken);

    /// <summary>
    /// A reading that cannot be right is measured again (the query is idempotent); one that stays impossible is a device
    /// fault that names it, never a value handed to the cycler and the journal.
    /// </summary>
    private async Task<double> MeasurePlausiblyAsync(string query, string unit, Func<double, string?> why, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var reading = await _client.QueryNumberAsync(query, cancellationToken).ConfigureAwait(false);
            if (why(reading) is not { } implausible) return reading;
            if (attempt >= _plausibility.Remeasurements)
                throw new DeviceException(DeviceName,
                    $"implausible reading: \"{query}\" gave {reading.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)} {unit} " +
                    $"{attempt + 1} times in a row: {implausible}");
            ReadingRejected?.Invoke(query, $"reading not believed, measuring again: {implausible}");
        }
    }

    /// <summary>The cell's thermocouple (<c>:MEAS:TEMP?</c>, an extension of the ICD; docs/scpi.md). An instrument without it does not answer.</summary>
    public Task<double> MeasureTemperatureAsync(CancellationToken cancellationToken = default) =>
        _client.QueryNumberAsync(":MEAS:TEMP?", cancellationToken);

    public Task<bool> IsComplianceTrippedAsync(CancellationToken cancellationToken = default) => _mode switch
    {
        SourceMode.Current => _client.QueryBooleanAsync(":SOUR:CURR:VLIM:TRIP?", cancellationToken),
        SourceMode.Voltage => _client.QueryBooleanAsync(":SOUR:VOLT:ILIM:TRIP?", cancellationToken),
        _ => throw new InvalidOperationException(
            $"{DeviceName}: no source mode configured through this driver, so there is no compliance limit to ask about"),
    };

    public async Task EnterSafeStateAsync(CancellationToken cancellationToken = default)
    {
        // Never trust that the output went off: read it back. A refused or lost ":OUTP OFF" (an error on a
        // setting, a link being resynchronised) is tried again, and "*RST" (output off by definition) is the
        // last resort. Best effort by contract: the caller is already handling a fault and must not get a second.
        string[] attempts = [":OUTP OFF", ":OUTP OFF", ":OUTP OFF", "*RST"];
        foreach (var command in attempts)
        {
            try
            {
                await _client.SendBypassingBreakerAsync(command, cancellationToken).ConfigureAwait(false);
                var errors = await _client.DrainErrorsAsync(cancellationToken).ConfigureAwait(false);
                var stillOn = ScpiNumber.ParseBoolean(await _client.QueryOnceAsync(":OUTP?", cancellationToken).ConfigureAwait(false), ":OUTP?", DeviceName);
                if (!stillOn)
                {
                    _outputOn = false;
                    return;
                }
                SafeStateInsisting?.Invoke(command, errors.Count > 0
                    ? $"the output is still on after \"{command}\": {string.Join("; ", errors)}"
                    : $"the output is still on after \"{command}\"");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e) when (e is DeviceException or IOException or ObjectDisposedException or TimeoutException or OperationCanceledException)
            {
                // Try again with the next command.
            }
        }
    }

    public ValueTask DisposeAsync() => _client.DisposeAsync();

    private async Task RequireOutputOffAsync(string action, CancellationToken cancellationToken)
    {
        if (await GetOutputAsync(cancellationToken).ConfigureAwait(false))
            throw new InvalidOperationException($"{DeviceName}: cannot {action} while the output is on; turn the output off first");
    }

    private void RequireMode(SourceMode required, string action, string configureMethod)
    {
        if (_mode != required)
            throw new InvalidOperationException(
                $"{DeviceName}: cannot {action}: the instrument is not configured as a " +
                $"{(required == SourceMode.Current ? "current" : "voltage")} source by this driver; call {configureMethod} first");
    }

    private static void RequireFinite(double value, string what)
    {
        if (!double.IsFinite(value)) throw new ArgumentOutOfRangeException(what, value, $"the {what} must be a finite number");
    }
}

using System.Globalization;

namespace AutonomousBeamline.Core.Safety;

/// <summary>Why the envelope refused a set-point, in words an operator can act on.</summary>
public sealed record SafetyRefusal(string Reason)
{
    public override string ToString() => Reason;
}

/// <summary>A set-point was refused before it reached the instrument because it lies outside the safety envelope.</summary>
public sealed class SafetyEnvelopeException(SafetyRefusal refusal)
    : InvalidOperationException($"refused by the safety envelope: {refusal.Reason}")
{
    public SafetyRefusal Refusal { get; } = refusal;
}

/// <summary>
/// The experiment's electrical safety window. Every check returns null when the request is inside the
/// window, or a <see cref="SafetyRefusal"/> that says in plain words what is wrong.
/// </summary>
/// <remarks>
/// The effective current ceiling is the lower of <see cref="MaxAbsCurrentA"/> and
/// <see cref="MaxCRate"/> × <see cref="NominalCapacityAh"/>: a window is only as permissive as its
/// strictest limit. Positive current charges the cell (FACILITY-ICD §1).
/// </remarks>
public sealed record SafetyEnvelope(
    double VoltageMinV,
    double VoltageMaxV,
    double MaxAbsCurrentA,
    double MaxCRate,
    double NominalCapacityAh,
    double? MaxTemperatureC = null)
{
    /// <summary>The current that <see cref="MaxCRate"/> allows for <see cref="NominalCapacityAh"/>.</summary>
    public double CRateCurrentLimitA => MaxCRate * NominalCapacityAh;

    /// <summary>The largest |I| any set-point or compliance may have.</summary>
    public double EffectiveMaxAbsCurrentA => Math.Min(MaxAbsCurrentA, CRateCurrentLimitA);

    /// <summary>Throws <see cref="ArgumentException"/> when the window itself makes no sense.</summary>
    public void Validate()
    {
        if (!double.IsFinite(VoltageMinV) || !double.IsFinite(VoltageMaxV) || VoltageMinV >= VoltageMaxV)
            throw new ArgumentException(
                $"safety envelope: VoltageMinV {F(VoltageMinV)} V must be below VoltageMaxV {F(VoltageMaxV)} V");
        if (!double.IsFinite(MaxAbsCurrentA) || MaxAbsCurrentA <= 0)
            throw new ArgumentException($"safety envelope: MaxAbsCurrentA {F(MaxAbsCurrentA)} A must be positive");
        if (!double.IsFinite(MaxCRate) || MaxCRate <= 0)
            throw new ArgumentException($"safety envelope: MaxCRate {F(MaxCRate)} must be positive");
        if (!double.IsFinite(NominalCapacityAh) || NominalCapacityAh <= 0)
            throw new ArgumentException($"safety envelope: NominalCapacityAh {F(NominalCapacityAh)} Ah must be positive");
        if (MaxTemperatureC is { } t && !double.IsFinite(t))
            throw new ArgumentException("safety envelope: MaxTemperatureC must be a finite number when given");
    }

    /// <summary>A source current (either sign).</summary>
    public SafetyRefusal? CheckCurrent(double currentA)
    {
        if (!double.IsFinite(currentA)) return new SafetyRefusal($"current {currentA} A is not a finite number");
        var magnitude = Math.Abs(currentA);
        if (magnitude > MaxAbsCurrentA)
            return new SafetyRefusal($"current {F(currentA)} A exceeds the window's |I| max {F(MaxAbsCurrentA)} A");
        if (magnitude > CRateCurrentLimitA)
            return new SafetyRefusal(
                $"current {F(currentA)} A is C-rate {F2(magnitude / NominalCapacityAh)}, above the window's max C-rate " +
                $"{F2(MaxCRate)} ({F(CRateCurrentLimitA)} A for {F(NominalCapacityAh)} Ah)");
        return null;
    }

    /// <summary>A C-rate (either sign), e.g. a protocol step before it is turned into a current.</summary>
    public SafetyRefusal? CheckCRate(double cRate)
    {
        if (!double.IsFinite(cRate)) return new SafetyRefusal($"C-rate {cRate} is not a finite number");
        if (Math.Abs(cRate) > MaxCRate)
            return new SafetyRefusal($"C-rate {F2(cRate)} exceeds the window's max C-rate {F2(MaxCRate)}");
        return CheckCurrent(cRate * NominalCapacityAh);
    }

    /// <summary>A source voltage (potentiostatic set-point).</summary>
    public SafetyRefusal? CheckVoltage(double voltageV)
    {
        if (!double.IsFinite(voltageV)) return new SafetyRefusal($"voltage {voltageV} V is not a finite number");
        if (voltageV > VoltageMaxV)
            return new SafetyRefusal($"voltage {F(voltageV)} V is above the window's max {F(VoltageMaxV)} V");
        if (voltageV < VoltageMinV)
            return new SafetyRefusal($"voltage {F(voltageV)} V is below the window's min {F(VoltageMinV)} V");
        return null;
    }

    /// <summary>
    /// A galvanostatic step with its voltage compliance. The compliance is what stops the cell at the
    /// window's edge, so a charge needs VLIM at or below the max and a discharge VLIM at or above the min;
    /// a compliance outside the window is refused whatever the sign.
    /// </summary>
    public SafetyRefusal? CheckCurrentSource(double currentA, double voltageLimitV)
    {
        if (CheckCurrent(currentA) is { } currentRefusal) return currentRefusal;
        if (!double.IsFinite(voltageLimitV))
            return new SafetyRefusal($"voltage limit {voltageLimitV} V is not a finite number");
        if (voltageLimitV > VoltageMaxV)
            return new SafetyRefusal(
                $"voltage limit {F(voltageLimitV)} V is above the window's max {F(VoltageMaxV)} V" +
                (currentA > 0 ? ", so the charge would not stop inside the window" : ""));
        if (voltageLimitV < VoltageMinV)
            return new SafetyRefusal(
                $"voltage limit {F(voltageLimitV)} V is below the window's min {F(VoltageMinV)} V" +
                (currentA < 0 ? ", so the discharge would not stop inside the window" : ""));
        return null;
    }

    /// <summary>A potentiostatic step with its current compliance.</summary>
    public SafetyRefusal? CheckVoltageSource(double voltageV, double currentLimitA)
    {
        if (CheckVoltage(voltageV) is { } voltageRefusal) return voltageRefusal;
        if (!double.IsFinite(currentLimitA) || currentLimitA <= 0)
            return new SafetyRefusal($"current limit {F(currentLimitA)} A must be a positive number");
        if (currentLimitA > MaxAbsCurrentA)
            return new SafetyRefusal(
                $"current limit {F(currentLimitA)} A exceeds the window's |I| max {F(MaxAbsCurrentA)} A");
        if (currentLimitA > CRateCurrentLimitA)
            return new SafetyRefusal(
                $"current limit {F(currentLimitA)} A is above the window's max C-rate {F2(MaxCRate)} " +
                $"({F(CRateCurrentLimitA)} A for {F(NominalCapacityAh)} Ah)");
        return null;
    }

    /// <summary>A measured or requested cell temperature; always accepted when the window sets no maximum.</summary>
    public SafetyRefusal? CheckTemperature(double temperatureC)
    {
        if (MaxTemperatureC is not { } max) return null;
        if (!double.IsFinite(temperatureC)) return new SafetyRefusal($"temperature {temperatureC} °C is not a finite number");
        return temperatureC > max
            ? new SafetyRefusal($"temperature {F2(temperatureC)} °C exceeds the window's max {F2(max)} °C")
            : null;
    }

    /// <summary>Whether a measured voltage and current lie inside the window (used by watchdogs and simulators).</summary>
    public bool Contains(double voltageV, double currentA, double toleranceV = 0, double toleranceA = 0) =>
        voltageV >= VoltageMinV - toleranceV && voltageV <= VoltageMaxV + toleranceV &&
        Math.Abs(currentA) <= EffectiveMaxAbsCurrentA + toleranceA;

    public void EnsureCurrentSource(double currentA, double voltageLimitV) => Throw(CheckCurrentSource(currentA, voltageLimitV));

    public void EnsureVoltageSource(double voltageV, double currentLimitA) => Throw(CheckVoltageSource(voltageV, currentLimitA));

    public void EnsureCurrent(double currentA) => Throw(CheckCurrent(currentA));

    public void EnsureVoltage(double voltageV) => Throw(CheckVoltage(voltageV));

    public void EnsureCRate(double cRate) => Throw(CheckCRate(cRate));

    private static void Throw(SafetyRefusal? refusal)
    {
        if (refusal is not null) throw new SafetyEnvelopeException(refusal);
    }

    private static string F(double value) => value.ToString("0.000###", CultureInfo.InvariantCulture);

    private static string F2(double value) => value.ToString("0.0#", CultureInfo.InvariantCulture);
}

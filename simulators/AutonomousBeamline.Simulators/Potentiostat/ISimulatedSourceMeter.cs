using System.Globalization;

namespace AutonomousBeamline.Simulators.Potentiostat;

public enum SourceFunction { Current, Voltage }

/// <summary>What the simulated instrument can source; a setting beyond it is refused with -222.</summary>
public sealed record InstrumentRatings(double MaxAbsCurrentA = 0.1, double MinVoltageV = 0, double MaxVoltageV = 10)
{
    public bool IsCurrentLevelInRange(double a) => double.IsFinite(a) && Math.Abs(a) <= MaxAbsCurrentA;

    /// <summary>A compliance of zero would pin the source; the smallest accepted limit is a nanoampere.</summary>
    public bool IsCurrentLimitInRange(double a) => double.IsFinite(a) && a >= 1e-9 && a <= MaxAbsCurrentA;

    public bool IsVoltageLevelInRange(double v) => double.IsFinite(v) && v >= MinVoltageV && v <= MaxVoltageV;

    public bool IsVoltageLimitInRange(double v) => IsVoltageLevelInRange(v);

    internal double RequireCurrentLevel(double a) => IsCurrentLevelInRange(a) ? a : throw OutOfRange("current level", a, "A");

    internal double RequireCurrentLimit(double a) => IsCurrentLimitInRange(a) ? a : throw OutOfRange("current limit", a, "A");

    internal double RequireVoltageLevel(double v) => IsVoltageLevelInRange(v) ? v : throw OutOfRange("voltage level", v, "V");

    internal double RequireVoltageLimit(double v) => IsVoltageLimitInRange(v) ? v : throw OutOfRange("voltage limit", v, "V");

    private static ArgumentOutOfRangeException OutOfRange(string what, double value, string unit) =>
        new(what, value, $"{what} {value.ToString(CultureInfo.InvariantCulture)} {unit} is beyond the instrument's ratings");
}

/// <summary>The instrument state the SCPI simulator reads and writes; the cell physics implements it.</summary>
public interface ISimulatedSourceMeter
{
    InstrumentRatings Ratings { get; }
    SourceFunction Function { get; set; }
    double CurrentLevelA { get; set; }
    double VoltageLimitV { get; set; }
    double VoltageLevelV { get; set; }
    double CurrentLimitA { get; set; }
    bool OutputOn { get; set; }
    double MeasureVoltage();
    double MeasureCurrent();

    /// <summary>The cell's temperature in °C, from a thermocouple on the instrument's sense input.</summary>
    double MeasureTemperature();
    bool VoltageLimitTripped { get; }
    bool CurrentLimitTripped { get; }

    /// <summary>Safe defaults: output off, current source at 0 A.</summary>
    void Reset();
}

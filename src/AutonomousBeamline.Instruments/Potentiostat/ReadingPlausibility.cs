using System.Globalization;

namespace AutonomousBeamline.Instruments.Potentiostat;

/// <summary>
/// What a reading from the potentiostat can physically be. A reading outside it is not believed but measured again: a
/// reply that slipped past the link's checks (a noise line that happens to be a number) must not become a cell voltage in
/// the journal. The defaults are a 2450-class SourceMeter's ratings and a battery cell's pace; another instrument or a
/// supercapacitor sets its own.
/// </summary>
public sealed record ReadingPlausibility
{
    /// <summary>The instrument's voltage range (a 2450 measures up to ±210 V).</summary>
    public double VoltageRangeV { get; init; } = 210;

    /// <summary>The instrument's current range (a 2450 sources up to ±1.05 A).</summary>
    public double CurrentRangeA { get; init; } = 1.05;

    /// <summary>How fast a cell's voltage can move on its own (a battery moves mV per second even at its knee).</summary>
    public double MaxVoltageSlewVPerS { get; init; } = 1.0;

    /// <summary>A step the voltage may take at once: the IR drop when the current is switched.</summary>
    public double VoltageStepAllowanceV { get; init; } = 0.5;

    /// <summary>How far above the set current (current mode) or the current limit (voltage mode) a reading may lie.</summary>
    public double ComplianceMargin { get; init; } = 1.5;

    /// <summary>Current that may flow regardless (offsets, leakage, an output that is off).</summary>
    public double CurrentFloorA { get; init; } = 1e-5;

    /// <summary>How many times an implausible reading is measured again before it is a device fault.</summary>
    public int Remeasurements { get; init; } = 2;

    /// <summary>Why a voltage reading cannot be right, or null. <paramref name="previous"/>: the last one believed and how long ago.</summary>
    public string? CheckVoltage(double volts, (double Volts, TimeSpan Ago)? previous)
    {
        if (Math.Abs(volts) > VoltageRangeV) return Inv($"{volts:G4} V is outside the instrument's ±{VoltageRangeV:G4} V range");
        if (previous is not { } last) return null;
        var allowed = VoltageStepAllowanceV + MaxVoltageSlewVPerS * Math.Max(0, last.Ago.TotalSeconds);
        var moved = Math.Abs(volts - last.Volts);
        return moved > allowed
            ? Inv($"{volts:G4} V is {moved:0.###} V from {last.Volts:G4} V measured {last.Ago.TotalSeconds:0.###} s before, faster than a cell can move (at most {allowed:0.###} V)")
            : null;
    }

    /// <summary>Why a current reading cannot be right, or null. <paramref name="bound"/>: the set current or the current limit while the output is on, null while it is off.</summary>
    public string? CheckCurrent(double amperes, double? bound)
    {
        if (Math.Abs(amperes) > CurrentRangeA) return Inv($"{amperes:G4} A is outside the instrument's ±{CurrentRangeA:G4} A range");
        var allowed = ComplianceMargin * Math.Abs(bound ?? 0) + CurrentFloorA;
        if (Math.Abs(amperes) <= allowed) return null;
        return bound is { } b
            ? Inv($"{amperes:G4} A is far beyond the {Math.Abs(b):G4} A the instrument was set to (at most {allowed:G4} A)")
            : Inv($"{amperes:G4} A flows with the output off (at most {allowed:G4} A)");
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

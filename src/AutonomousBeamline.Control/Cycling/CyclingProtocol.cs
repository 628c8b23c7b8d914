using AutonomousBeamline.Configuration;

namespace AutonomousBeamline.Control.Cycling;

public enum StepKind { ConstantCurrent, ConstantVoltage, Rest }

/// <summary>One step of the cell's protocol with its termination conditions.</summary>
public sealed record ProtocolStep
{
    public required string Name { get; init; }
    public required StepKind Kind { get; init; }
    /// <summary>Signed C-rate of a constant-current step (+ charges).</summary>
    public double CRate { get; init; }
    /// <summary>The voltage a constant-voltage step holds.</summary>
    public double HoldVoltageV { get; init; }
    public double? CutoffVoltageV { get; init; }
    public double? CutoffCurrentA { get; init; }
    public required TimeSpan MaxDuration { get; init; }
    public double? MaxChargeAh { get; init; }
}

/// <summary>The steps, repeated for a number of cycles.</summary>
public sealed record CyclingProtocol(IReadOnlyList<ProtocolStep> Steps, int Cycles, TimeSpan SamplePeriod)
{
    public static CyclingProtocol FromConfig(ProtocolSection section) => new(
        section.Steps.Select(s => new ProtocolStep
        {
            Name = s.Name,
            Kind = s.Type switch
            {
                "cc" => StepKind.ConstantCurrent,
                "cv" => StepKind.ConstantVoltage,
                "rest" => StepKind.Rest,
                _ => throw new ArgumentException($"protocol step '{s.Name}': unknown type '{s.Type}'"),
            },
            CRate = s.CRate ?? 0,
            HoldVoltageV = s.VoltageV ?? 0,
            CutoffVoltageV = s.Until.VoltageV,
            CutoffCurrentA = s.Until.CurrentA,
            MaxDuration = TimeSpan.FromSeconds(s.Until.DurationS ?? throw new ArgumentException($"protocol step '{s.Name}' has no duration limit")),
            MaxChargeAh = s.Until.ChargeAh,
        }).ToList(),
        section.Cycles,
        TimeSpan.FromSeconds(section.SamplePeriodS));
}

/// <summary>The cell's electrical limits as configured: what the cycler must never leave.</summary>
public sealed record CellLimits(double NominalCapacityAh, double VoltageMinV, double VoltageMaxV, double MaxCRate, double MaxCurrentA, double InitialStateOfCharge)
{
    public static CellLimits FromConfig(CellSection cell) => new(
        cell.NominalCapacityAh, cell.VoltageMinV, cell.VoltageMaxV, cell.MaxCRate,
        cell.MaxCurrentA ?? cell.MaxCRate * cell.NominalCapacityAh, cell.InitialStateOfCharge);
}

namespace AutonomousBeamline.Core.Devices;

/// <summary>A thermometer on the cell (a thermocouple read by the potentiostat, say).</summary>
public interface ITemperatureSensor
{
    /// <summary>The cell's temperature in °C.</summary>
    Task<double> MeasureTemperatureAsync(CancellationToken cancellationToken = default);
}

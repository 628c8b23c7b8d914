using System.Globalization;
using System.Text;

namespace AutonomousBeamline.Storage;

/// <summary>
/// The cell's record in the Battery Data Format, <c>cycler.bdf.csv</c>: one row per cell sample, columns named
/// <c>Quantity / unit</c> as BDF names them, so that battery tools load the electrochemistry as from a cycler.
/// Capacities are counted from the samples (the current held until the next sample); the temperature is empty where the
/// sample has none (no thermometer on the cell, or a reading that failed).
/// </summary>
public static class BatteryDataFile
{
    public const string FileName = "cycler.bdf.csv";

    public static readonly IReadOnlyList<string> Columns =
    [
        "Test Time / s", "Unix Time / s", "Voltage / V", "Current / A", "Cycle Count / 1", "Step Count / 1", "Step Index / 1",
        "Charging Capacity / Ah", "Discharging Capacity / Ah", "State of Charge / 1", "Temperature T1 / degC",
    ];

    public static string Write(RecordedRun run)
    {
        var path = Path.Combine(run.Directory, FileName);
        WholeFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
            writer.Write(string.Join(",", Columns) + "\n");
            // Step Index: the step's place in the protocol (its name, first seen order); Step Count: steps run so far.
            var indexOfStep = new Dictionary<string, int>();
            var stepCount = 0;
            string? lastStep = null;
            int? lastCycle = null;
            double charged = 0, discharged = 0;
            TimedCellSample? previous = null;
            foreach (var s in run.CellSamples)
            {
                if (previous is not null)
                {
                    var ah = previous.Sample.CurrentA * (s.Time - previous.Time).TotalHours;
                    if (ah > 0) charged += ah; else discharged -= ah;
                }
                if (s.Sample.Step != lastStep || s.Sample.Cycle != lastCycle) stepCount++;
                (lastStep, lastCycle) = (s.Sample.Step, s.Sample.Cycle);
                if (!indexOfStep.TryGetValue(s.Sample.Step, out var index)) index = indexOfStep[s.Sample.Step] = indexOfStep.Count + 1;
                writer.Write(string.Join(",",
                    N(run.SecondsFromStart(s.Time)), N(s.Time.ToUnixTimeMilliseconds() / 1000.0), N(s.Sample.VoltageV), N(s.Sample.CurrentA),
                    s.Sample.Cycle.ToString(CultureInfo.InvariantCulture), stepCount.ToString(CultureInfo.InvariantCulture),
                    index.ToString(CultureInfo.InvariantCulture), N(charged), N(discharged), N(s.Sample.StateOfCharge),
                    s.Sample.TemperatureC is { } t ? N(t) : "") + "\n");
                previous = s;
            }
        });
        return path;
    }

    /// <summary>Round-trip numbers; a value that is not finite (a reading the instrument flagged) is left empty.</summary>
    private static string N(double value) => double.IsFinite(value) ? value.ToString("R", CultureInfo.InvariantCulture) : "";
}

namespace AutonomousBeamline.Simulators.Physics;

/// <summary>
/// The truth the dry run is judged against: the local FePO4 fraction at a point of the electrode and a moment.
/// In LiFePO4 the delithiated phase fraction follows the local state of charge (a two-phase reaction).
/// </summary>
public sealed class SampleTruth(ICellTruth cell, ElectrodeField field)
{
    public ElectrodeField Field { get; } = field;

    public double FePO4Fraction(double xMm, double yMm, DateTimeOffset t)
    {
        var snapshot = cell.At(t);
        return Field.LocalStateOfCharge(xMm, yMm, snapshot.StateOfCharge, snapshot.CRate);
    }

    /// <summary>The fraction the beam sees: averaged over a square footprint of side <paramref name="footprintMm"/>.</summary>
    public double FePO4FractionOverFootprint(double xMm, double yMm, DateTimeOffset t, double footprintMm) =>
        FePO4FractionOverFootprint(xMm, yMm, cell.At(t), footprintMm);

    /// <summary>The same for a given state of the cell (used to replay a run's moments afterwards).</summary>
    public double FePO4FractionOverFootprint(double xMm, double yMm, CellSnapshot snapshot, double footprintMm)
    {
        if (footprintMm <= 0) return Field.LocalStateOfCharge(xMm, yMm, snapshot.StateOfCharge, snapshot.CRate);
        const int n = 3;
        var sum = 0.0;
        for (var i = 0; i < n; i++)
        for (var j = 0; j < n; j++)
        {
            var dx = ((i + 0.5) / n - 0.5) * footprintMm;
            var dy = ((j + 0.5) / n - 0.5) * footprintMm;
            sum += Field.LocalStateOfCharge(xMm + dx, yMm + dy, snapshot.StateOfCharge, snapshot.CRate);
        }
        return sum / (n * n);
    }
}

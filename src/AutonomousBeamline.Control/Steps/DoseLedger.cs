using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Learning.Acquisition;

namespace AutonomousBeamline.Control.Steps;

/// <summary>
/// Beam seconds each spot has received, against the run's dose budget (beam damage). A spot that cannot take another
/// frame within its budget is excluded like an operator's region, so that no strategy (the learner, a raster, random
/// spots) and no operator's <c>goto</c> sends the beam there again: the exclusions bind them all.
/// </summary>
public sealed class DoseLedger(double? budgetS, double nextFrameS, double gridStepMm)
{
    private readonly Dictionary<(long, long), double> _doseS = new();

    /// <summary>Seconds of beam a spot may receive; null: no limit.</summary>
    public double? BudgetS => budgetS;

    /// <summary>Beam seconds delivered to <paramref name="spot"/> so far.</summary>
    public double DoseAt(SpotMm spot) => _doseS.GetValueOrDefault(Key(spot));

    /// <summary>A frame of <paramref name="beamS"/> seconds was taken at <paramref name="spot"/>; the region to exclude when the spot's budget is used up.</summary>
    public RoiRectangle? Record(SpotMm spot, double beamS)
    {
        if (budgetS is not { } budget || !(beamS > 0)) return null;
        var key = Key(spot);
        var before = _doseS.GetValueOrDefault(key);
        var after = _doseS[key] = before + beamS;
        // Excluded once, when the next frame would no longer fit.
        if (before + nextFrameS > budget || after + nextFrameS <= budget) return null;
        return GridPoint.Around(spot, gridStepMm);
    }

    /// <summary>Spots are told apart at a tenth of the grid step (a commanded position, not a reading).</summary>
    private (long, long) Key(SpotMm spot)
    {
        var cell = Math.Max(gridStepMm / 10, 1e-6);
        return ((long)Math.Round(spot.X / cell), (long)Math.Round(spot.Y / cell));
    }
}

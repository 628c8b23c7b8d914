using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Learning.Acquisition;

namespace AutonomousBeamline.Control.Steps;

/// <summary>The region that excludes one spot of the ROI grid and not its neighbours.</summary>
public static class GridPoint
{
    /// <summary>Just under half a grid step each way around <paramref name="spot"/> (at least a micrometre).</summary>
    public static RoiRectangle Around(SpotMm spot, double gridStepMm)
    {
        var half = Math.Max(0.45 * gridStepMm, 1e-3);
        return new RoiRectangle(spot.X - half, spot.X + half, spot.Y - half, spot.Y + half);
    }
}

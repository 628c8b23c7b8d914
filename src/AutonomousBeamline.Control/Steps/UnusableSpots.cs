using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Learning.Acquisition;

namespace AutonomousBeamline.Control.Steps;

/// <summary>
/// A spot that keeps giving frames the analysis cannot use (a hole in the electrode, the cell's edge, a crack) is left,
/// rather than measured again and again: after <c>perSpot</c> unusable frames in a row there, the region of one grid
/// step around it is excluded for the rest of the run.
/// </summary>
public sealed class UnusableSpots
{
    private readonly int _perSpot;
    private readonly double _gridStepMm;

    public UnusableSpots(int perSpot, double gridStepMm)
    {
        if (perSpot < 1) throw new ArgumentOutOfRangeException(nameof(perSpot), perSpot, "a spot must be given at least one frame");
        (_perSpot, _gridStepMm) = (perSpot, gridStepMm);
    }

    /// <summary>Two commanded positions closer than this are the same spot.</summary>
    private const double SameSpotMm = 1e-6;

    private SpotMm? _spot;
    private int _inARow;

    /// <summary>What the frame just taken at <paramref name="spot"/> was (null flag: usable); the region to leave when the spot has had enough.</summary>
    public RoiRectangle? Record(SpotMm spot, string? flag)
    {
        if (_spot is not { } last || Math.Abs(last.X - spot.X) > SameSpotMm || Math.Abs(last.Y - spot.Y) > SameSpotMm)
            (_spot, _inARow) = (spot, 0);
        if (flag is null)
        {
            _inARow = 0;
            return null;
        }
        if (++_inARow < _perSpot) return null;
        _inARow = 0;
        return GridPoint.Around(spot, _gridStepMm);
    }

    /// <summary>How many unusable frames in a row a spot is given.</summary>
    public int PerSpot => _perSpot;
}

using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Control.Steps;

namespace AutonomousBeamline.Control.Tests.Steps;

public class UnusableSpotsTests
{
    private static readonly SpotMm Here = new(2, 3), There = new(2.5, 3);

    [Fact]
    public void A_spot_is_left_after_its_limit_of_unusable_frames_in_a_row_and_only_its_own_grid_point_is_excluded()
    {
        var spots = new UnusableSpots(perSpot: 3, gridStepMm: 0.5);
        Assert.Null(spots.Record(Here, "flat"));
        Assert.Null(spots.Record(Here, "flat"));
        var region = spots.Record(Here, "flat");
        Assert.NotNull(region);
        Assert.True(region!.Contains(Here.X, Here.Y));
        Assert.False(region.Contains(There.X, There.Y));
    }

    [Fact]
    public void A_usable_frame_or_another_spot_starts_the_count_again()
    {
        var spots = new UnusableSpots(perSpot: 2, gridStepMm: 0.5);
        Assert.Null(spots.Record(Here, "flat"));
        Assert.Null(spots.Record(Here, null));
        Assert.Null(spots.Record(Here, "flat"));
        Assert.Null(spots.Record(There, "flat"));
        Assert.Null(spots.Record(Here, "flat"));
        Assert.NotNull(spots.Record(Here, "flat"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UnusableSpots(0, 0.5));
    }
}

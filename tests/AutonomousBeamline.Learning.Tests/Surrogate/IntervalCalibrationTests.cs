using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Learning.Tests.Surrogate;

public sealed class IntervalCalibrationTests
{
    private sealed class FixedMap(double mean, double spread) : IPhaseMap
    {
        public int Version => 1;

        public (double Mean, double Spread) Predict(double xMm, double yMm, double stateOfCharge) => (mean, spread);
    }

    [Fact]
    public void Counts_the_new_frames_that_fall_inside_the_interval_over_a_moving_window()
    {
        var calibration = new IntervalCalibration(window: 4);
        Assert.Null(calibration.Current);
        var map = new FixedMap(0.5, 0.1); // 90 % interval 0.5 ± 0.164
        var checks = new[] { 0.55, 0.6, 0.9, 0.45 }.Select(fraction => calibration.Check(map, TestObservations.Make(1, 1, 0.5, fraction))).ToList();
        Assert.Equal(new MapCalibration(0.75, 4, 0.9), calibration.Current);
        Assert.Equal([true, true, false, true], checks.Select(c => c!.Inside));
        Assert.Equal(new IntervalCheck(1, 0.9, 0.5, 0.1, false), checks[2]);
        // Two more misses push the two oldest hits out of the window of four.
        foreach (var fraction in new[] { 0.1, 0.95 }) calibration.Check(map, TestObservations.Make(1, 1, 0.5, fraction));
        Assert.Equal(new MapCalibration(0.25, 4, 0.9), calibration.Current);
    }

    [Fact]
    public void A_frame_without_a_usable_value_is_not_counted()
    {
        var calibration = new IntervalCalibration();
        Assert.Null(calibration.Check(new FixedMap(0.5, 0.1), TestObservations.Make(1, 1, 0.5, double.NaN)));
        Assert.Null(calibration.Current);
    }
}

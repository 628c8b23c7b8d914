using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Learning.Tests.Surrogate;

public sealed class PolyharmonicSplineTests
{
    private static (double[][] Points, double[] Values) Sample(int count, Func<double, double, double> f, int seed)
    {
        var rng = new Random(seed);
        var points = Enumerable.Range(0, count).Select(_ => new[] { rng.NextDouble() * 10, rng.NextDouble() * 10 }).ToArray();
        return (points, points.Select(p => f(p[0], p[1])).ToArray());
    }

    [Fact]
    public void Interpolates_its_points_and_reproduces_a_plane_everywhere()
    {
        var (points, values) = Sample(30, (x, y) => 0.3 + 0.02 * x - 0.05 * y + Math.Sin(x) * 0.1, seed: 1);
        var spline = PolyharmonicSpline.Fit(points, values);
        for (var i = 0; i < points.Length; i++) Assert.Equal(values[i], spline.Evaluate(points[i]), 8);

        var plane = PolyharmonicSpline.Fit(points, points.Select(p => 1 + 2 * p[0] - 3 * p[1]).ToArray());
        Assert.Equal(1 + 2 * 4.2 - 3 * 7.7, plane.Evaluate([4.2, 7.7]), 6);
    }

    [Fact]
    public void Leave_one_out_residuals_match_refitting_without_each_point()
    {
        var (points, values) = Sample(25, (x, y) => Math.Exp(-((x - 5) * (x - 5) + (y - 4) * (y - 4)) / 6), seed: 2);
        foreach (var smoothing in new[] { 0.0, 0.01 })
        {
            var spline = PolyharmonicSpline.Fit(points, values, smoothing, leaveOneOut: true);
            for (var i = 0; i < points.Length; i += 4)
            {
                var others = Enumerable.Range(0, points.Length).Where(k => k != i).ToArray();
                var without = PolyharmonicSpline.Fit(others.Select(k => points[k]).ToArray(), others.Select(k => values[k]).ToArray(), smoothing);
                Assert.Equal(without.Evaluate(points[i]) - values[i], spline.LeaveOneOutResiduals![i], 6);
            }
        }
    }

    [Fact]
    public void Smoothing_trades_closeness_for_a_smaller_wiggle_on_noisy_values()
    {
        var rng = new Random(3);
        var (points, clean) = Sample(60, (x, y) => 0.05 * x, seed: 3);
        var noisy = clean.Select(v => v + 0.05 * (rng.NextDouble() - 0.5)).ToArray();
        double Error(PolyharmonicSpline s) => Math.Sqrt(Enumerable.Range(0, 50).Average(k =>
        {
            var x = 0.2 * k; var y = 10 - 0.2 * k;
            var e = s.Evaluate([x, y]) - 0.05 * x;
            return e * e;
        }));
        Assert.True(Error(PolyharmonicSpline.Fit(points, noisy, smoothing: 1.0)) < Error(PolyharmonicSpline.Fit(points, noisy)));
    }

    [Fact]
    public void Repeated_and_collinear_spots_do_not_break_the_fit()
    {
        double[][] row = [[0, 0], [1, 0], [2, 0], [2, 0], [3, 0]];
        var spline = PolyharmonicSpline.Fit(row, [0.1, 0.2, 0.3, 0.5, 0.4]);
        Assert.Equal(4, spline.CentreCount);
        Assert.Equal(0.4, spline.Evaluate([2, 0]), 6); // the two values at (2, 0) are averaged
        Assert.True(double.IsFinite(spline.Evaluate([1.5, 3])));
    }

    [Fact]
    public void Bad_input_is_named()
    {
        Assert.Contains("2 points but 1 values", Assert.Throws<ArgumentException>(() => PolyharmonicSpline.Fit([[0.0, 0], [1.0, 1]], [1.0])).Message);
        Assert.Contains("point 1 is not finite", Assert.Throws<ArgumentException>(() => PolyharmonicSpline.Fit([[0.0, 0], [double.NaN, 1]], [1.0, 2])).Message);
        Assert.Contains("point 1 has 3 coordinates", Assert.Throws<ArgumentException>(() => PolyharmonicSpline.Fit([[0.0, 0], [1.0, 1, 1]], [1.0, 2])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => PolyharmonicSpline.Fit([[0.0, 0]], [1.0], smoothing: -1));
    }
}

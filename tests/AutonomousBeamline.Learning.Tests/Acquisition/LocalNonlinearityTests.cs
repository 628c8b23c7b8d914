using AutonomousBeamline.Learning.Acquisition;

namespace AutonomousBeamline.Learning.Tests.Acquisition;

public sealed class LocalNonlinearityTests
{
    // A jittered lattice, so that no neighbourhood is exactly symmetric and the plane fit has work to do.
    private static List<(double X, double Y)> Points(int seed)
    {
        var rng = new Random(seed);
        var points = new List<(double, double)>();
        for (var j = 0; j < 10; j++)
        for (var i = 0; i < 10; i++)
            points.Add((i + 0.3 * (rng.NextDouble() - 0.5), j + 0.3 * (rng.NextDouble() - 0.5)));
        return points;
    }

    private static LocalNonlinearity Of(IEnumerable<(double X, double Y)> points, Func<double, double, double> value, double noise = 0)
    {
        var result = new LocalNonlinearity(8);
        foreach (var (x, y) in points) result.Add(x, y, value(x, y), noise);
        return result;
    }

    [Fact]
    public void A_plane_is_not_nonlinear_whatever_its_slope()
    {
        var points = Points(1);
        var steep = Of(points, (x, y) => 0.3 * x - 0.2 * y + 0.1);
        for (var i = 0; i < points.Count; i++) Assert.True(steep.At(i) < 1e-6, $"point {i}: {steep.At(i)}");
    }

    [Fact]
    public void A_jump_is_found_next_to_it_and_not_far_from_it()
    {
        var points = Points(2);
        var jump = Of(points, (x, y) => (x > 4.6 ? 0.4 : 0.0) + 0.05 * y);
        var near = Enumerable.Range(0, points.Count).Where(i => Math.Abs(points[i].X - 4.6) < 1).Select(jump.At).ToArray();
        var far = Enumerable.Range(0, points.Count).Where(i => Math.Abs(points[i].X - 4.6) > 2.5).Select(jump.At).ToArray();
        // Neighbours across the jump leave a residual of a sizeable part of its height; far from it the field is a plane.
        Assert.True(near.Average() > 0.08, $"mean next to the jump {near.Average()}");
        Assert.All(far, e => Assert.True(e < 1e-6, $"far from the jump {e}"));
    }

    [Fact]
    public void Measurement_noise_is_not_taken_for_nonlinearity()
    {
        var rng = new Random(3);
        const double sigma = 0.02;
        var points = Points(3);
        var noisy = new LocalNonlinearity(8);
        foreach (var (x, y) in points) noisy.Add(x, y, 0.1 * x + Gaussian(rng) * sigma, sigma);
        var values = Enumerable.Range(0, points.Count).Select(noisy.At).Order().ToArray();
        // Without the noise taken off, the residuals' RMS would be about √2·σ everywhere.
        Assert.True(values[values.Length / 2] < 0.5 * sigma, $"median {values[values.Length / 2]}");

        static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
    }

    [Fact]
    public void Appending_gives_what_a_fresh_estimate_of_the_same_points_gives()
    {
        var points = Points(4);
        Func<double, double, double> value = (x, y) => Math.Sin(x) * Math.Cos(0.7 * y);
        var incremental = new LocalNonlinearity(8);
        for (var n = 0; n < points.Count; n++)
        {
            incremental.Add(points[n].X, points[n].Y, value(points[n].X, points[n].Y), 0);
            // Read some values on the way, so that stale ones would show if an append failed to refresh them.
            if (n % 7 == 0) for (var i = 0; i <= n; i++) incremental.At(i);
        }
        var fresh = Of(points, value);
        for (var i = 0; i < points.Count; i++) Assert.Equal(fresh.At(i), incremental.At(i), 12);
    }

    [Fact]
    public void Bad_input_is_rejected_clearly()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LocalNonlinearity(2));
        var n = new LocalNonlinearity(3);
        Assert.Throws<ArgumentException>(() => n.Add(double.NaN, 0, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => n.Add(0, 0, 0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => n.At(0));
        n.Add(0, 0, 1, 0);
        Assert.Equal(0, n.At(0));
    }
}

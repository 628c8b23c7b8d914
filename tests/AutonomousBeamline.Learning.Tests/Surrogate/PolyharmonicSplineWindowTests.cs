using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Learning.Tests.Surrogate;

public sealed class PolyharmonicSplineWindowTests
{
    private static readonly double[] Smoothings = [1e-4, 1e-2, 0.0];

    private static double Field(double[] p) => 0.2 * Math.Sin(p[0]) + 0.1 * p[1] - (p.Length > 2 ? 0.05 * p[2] : 0);

    /// <summary>The window's fits against plain fits on the same points: same centres in the same order, same values.</summary>
    private static void AssertSameAsPlainFits(PolyharmonicSplineWindow window, IReadOnlyList<double[]> points, IReadOnlyList<double> values,
        IReadOnlyList<double> weights, double tolerance)
    {
        var fitted = window.Fit(values);
        Assert.Equal(Smoothings.Length, fitted.Count);
        var probes = new[] { new[] { 1.3, 7.1, 0.5 }, [5.0, 5.0, 1.0], [9.2, 0.4, 2.0] };
        for (var s = 0; s < Smoothings.Length; s++)
        {
            var plain = PolyharmonicSpline.Fit(points, values, Smoothings[s], weights, leaveOneOut: true);
            var spline = fitted[s];
            Assert.Equal(plain.CentreCount, spline.CentreCount);
            Assert.Equal(plain.CentreOfPoint, spline.CentreOfPoint);
            for (var k = 0; k < plain.CentreCount; k++)
            {
                Assert.Equal(plain.Centre(k), spline.Centre(k));
                // A lone centre has no leave-one-out residual (NaN) in either.
                var (expected, actual) = (plain.LeaveOneOutResiduals![k], spline.LeaveOneOutResiduals![k]);
                Assert.True(double.IsNaN(expected) ? double.IsNaN(actual) : Math.Abs(expected - actual) <= tolerance,
                    $"smoothing {Smoothings[s]}, centre {k}: leave-one-out {spline.LeaveOneOutResiduals[k]} vs {plain.LeaveOneOutResiduals[k]} from scratch");
            }
            foreach (var probe in probes.Select(p => p[..points[0].Length]).Concat(points.Take(5)))
                Assert.True(Math.Abs(plain.Evaluate(probe) - spline.Evaluate(probe)) <= tolerance,
                    $"smoothing {Smoothings[s]} at ({string.Join(", ", probe)}): {spline.Evaluate(probe)} vs {plain.Evaluate(probe)} from scratch");
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void A_sliding_window_fits_as_a_fresh_fit_on_the_same_points_would(int dimension)
    {
        var rng = new Random(7 + dimension);
        var window = new PolyharmonicSplineWindow(dimension, Smoothings);
        var points = new List<double[]>();
        var weights = new List<double>();
        const int size = 60;
        var updates = 0;
        for (var step = 0; step < 260; step++)
        {
            // Every seventh frame comes back to a spot measured before (merged into its centre), the rest are new spots; weights vary
            // as 4·soc·(1 − soc) squared does.
            var point = step % 7 == 3 && points.Count > 4
                ? points[rng.Next(points.Count)]
                : Enumerable.Range(0, dimension).Select(d => d < 2 ? rng.NextDouble() * 10 : rng.Next(3) * 2.5).ToArray();
            var weight = 0.05 + rng.NextDouble();
            window.Add(point, weight);
            points.Add(point); weights.Add(weight);
            if (points.Count > size)
            {
                window.RemoveOldest();
                points.RemoveAt(0); weights.RemoveAt(0);
            }
            // The values change from fit to fit (a hybrid's residuals follow each new forest): only the system is kept.
            var values = points.Select(p => Field(p) + 0.01 * rng.NextDouble()).ToList();
            if (step % 5 == 0 || step > 240)
            {
                AssertSameAsPlainFits(window, points, values, weights, tolerance: 1e-6);
                if (window.LastFitWasUpdate) updates++;
            }
        }
        Assert.Equal(size, window.Count);
        // The fits after the first factorisation were updates, not refits: the test exercised the O(n²) path, drops included.
        Assert.True(updates >= 60, $"only {updates} fits were updates ({window.Factorisations} factorisations)");
        Assert.True(window.Factorisations <= 3, $"{window.Factorisations} factorisations");
    }

    [Fact]
    public void Points_on_a_line_are_fitted_plainly_until_the_plane_is_spanned()
    {
        var window = new PolyharmonicSplineWindow(2, Smoothings);
        var points = new List<double[]>();
        for (var i = 0; i < 6; i++)
        {
            points.Add([i, 2 * i]);
            window.Add(points[^1]);
        }
        var values = points.Select(Field).ToList();
        AssertSameAsPlainFits(window, points, values, points.Select(_ => 1.0).ToList(), 1e-9);
        Assert.False(window.LastFitWasUpdate);
        Assert.Equal(0, window.Factorisations);

        // Two spots off the line (with one, leaving it out would leave no plane: its leave-one-out residual is undefined).
        foreach (var point in new[] { new[] { 3.0, 0.0 }, [1.0, 4.0] })
        {
            points.Add(point);
            window.Add(point);
            values.Add(Field(point));
        }
        AssertSameAsPlainFits(window, points, values, points.Select(_ => 1.0).ToList(), 1e-9);
        Assert.Equal(1, window.Factorisations);
        points.Add([7, 1]);
        window.Add(points[^1]);
        values.Add(Field(points[^1]));
        AssertSameAsPlainFits(window, points, values, points.Select(_ => 1.0).ToList(), 1e-9);
        Assert.True(window.LastFitWasUpdate);
    }

    [Fact]
    public void Dropping_the_only_point_off_the_line_falls_back_to_the_plain_fit()
    {
        var window = new PolyharmonicSplineWindow(2, [1e-3]);
        var points = new List<double[]> { new[] { 5.0, 9.0 } };
        window.Add(points[0]);
        for (var i = 0; i < 8; i++)
        {
            points.Add([i, 0]);
            window.Add(points[^1]);
        }
        var values = points.Select(Field).ToList();
        window.Fit(values);
        Assert.Equal(1, window.Factorisations);
        // What is left lies on a line: the linear polynomial cannot be fitted, and the window must notice instead of updating.
        window.RemoveOldest();
        points.RemoveAt(0); values.RemoveAt(0);
        var fitted = window.Fit(values)[0];
        var plain = PolyharmonicSpline.Fit(points, values, 1e-3, leaveOneOut: true);
        Assert.False(window.LastFitWasUpdate);
        foreach (var x in new[] { 0.5, 3.3, 6.9 }) Assert.Equal(plain.Evaluate([x, 1.0]), fitted.Evaluate([x, 1.0]), 9);
    }

    [Fact]
    public void Bad_input_is_refused_with_what_was_wrong()
    {
        Assert.Throws<ArgumentException>(() => new PolyharmonicSplineWindow(2, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PolyharmonicSplineWindow(2, [-1.0]));
        var window = new PolyharmonicSplineWindow(2, [0.0]);
        Assert.Contains("expected 2 coordinates", Assert.Throws<ArgumentException>(() => window.Add([1.0, 2.0, 3.0])).Message);
        Assert.Throws<ArgumentException>(() => window.Add([double.NaN, 1.0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => window.Add([1.0, 1.0], 0));
        Assert.Throws<InvalidOperationException>(() => window.RemoveOldest());
        Assert.Throws<InvalidOperationException>(() => window.Fit([]));
        window.Add([1.0, 1.0]);
        Assert.Contains("1 points but 2 values", Assert.Throws<ArgumentException>(() => window.Fit([1.0, 2.0])).Message);
        Assert.Throws<ArgumentException>(() => window.Fit([double.PositiveInfinity]));
    }
}

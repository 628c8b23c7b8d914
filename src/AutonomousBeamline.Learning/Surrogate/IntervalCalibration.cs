using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Learning.Surrogate;

/// <summary>How well the map's 90 % intervals held on frames it had not seen.</summary>
/// <param name="Coverage">Share of the checked frames whose measured phase fraction fell inside mean ± 1.645·spread.</param>
/// <param name="Checked">How many frames that share is over (the newest ones, at most the tracker's window).</param>
/// <param name="Nominal">The coverage the intervals claim (0.9).</param>
public sealed record MapCalibration(double Coverage, int Checked, double Nominal)
{
    /// <summary>For a status line: "90 % intervals held on 88 % of the last 50 new frames".</summary>
    public override string ToString() =>
        FormattableString.Invariant($"{Nominal:P0} intervals held on {Coverage:P0} of the last {Checked} new frames");
}

/// <summary>One new frame against the map published before it: the measured value, the map's mean and spread there, and
/// whether the value fell inside the 90 % interval (mean ± 1.645·spread).</summary>
/// <param name="ModelVersion">The version of the map that made the prediction (it had not been fitted on the frame).</param>
public sealed record IntervalCheck(int ModelVersion, double Value, double Mean, double Spread, bool Inside);

/// <summary>
/// Checks each new frame against the map published before it (a frame the map has not been fitted on is a held-out spot):
/// inside or outside the 90 % predictive interval. Prequential, so it needs no frames set aside. Thread-safe.
/// </summary>
public sealed class IntervalCalibration(int window = 100)
{
    /// <summary>z with P(|N(0, 1)| ≤ z) = 0.9.</summary>
    public const double Z90 = 1.6448536269514722;

    private readonly object _gate = new();
    private readonly Queue<bool> _hits = new();
    private int _inside;

    /// <summary>Null until a frame has been checked.</summary>
    public MapCalibration? Current
    {
        get
        {
            lock (_gate) return _hits.Count == 0 ? null : new MapCalibration((double)_inside / _hits.Count, _hits.Count, 0.9);
        }
    }

    /// <summary>Checks <paramref name="observation"/> against <paramref name="map"/> (which must not have been fitted on it).</summary>
    /// <returns>The check, or null for an observation or a prediction that cannot be checked (not finite).</returns>
    public IntervalCheck? Check(IPhaseMap map, Observation observation)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(observation);
        if (!ForestPhaseMap.IsUsable(observation)) return null;
        var (mean, spread) = map.Predict(observation.XMm, observation.YMm, observation.StateOfCharge);
        if (!double.IsFinite(mean) || !double.IsFinite(spread)) return null;
        var inside = Math.Abs(observation.PhaseFraction - mean) <= Z90 * spread;
        lock (_gate)
        {
            _hits.Enqueue(inside);
            if (inside) _inside++;
            while (_hits.Count > window && _hits.Dequeue()) _inside--;
        }
        return new IntervalCheck(map.Version, observation.PhaseFraction, mean, spread, inside);
    }
}

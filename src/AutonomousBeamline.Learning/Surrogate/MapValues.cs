namespace AutonomousBeamline.Learning.Surrogate;

/// <summary>What a map learns from an observation's value (<see cref="ForestPhaseMapOptions.Values"/>): how the forest and the
/// planner read a target.</summary>
public enum MapValues
{
    /// <summary>(fraction − soc) / (4·soc·(1 − soc)): a two-phase fraction's shape, the same at every state of charge.</summary>
    TwoPhaseShape,
    /// <summary>fraction − soc: a fraction that follows the state of charge, on a fraction's scale.</summary>
    DeviationFromStateOfCharge,
    /// <summary>The value itself, in the target's own unit: a lattice parameter in Å, an edge in eV, a peak on the detector's axis,
    /// a component's share. Its scale is not known in advance; <see cref="ValueScale"/> measures it.</summary>
    Raw,
}

/// <summary>How a map reads an observation's value (<see cref="MapValues"/>): the forest learns it so, the planner measures the
/// values' nonlinearity on it.</summary>
public static class MapValuesReading
{
    /// <summary>The value as the map learns it, and the weight it was divided by (4·soc·(1 − soc) for the two-phase shape,
    /// floored at <paramref name="minimumWeight"/>; 1 otherwise): a σ in fraction units becomes σ / weight.</summary>
    public static (double Value, double Weight) Read(this MapValues values, double value, double stateOfCharge, double minimumWeight = 0)
    {
        switch (values)
        {
            case MapValues.TwoPhaseShape:
                var weight = Math.Max(minimumWeight, ForestPhaseMapOptions.TwoPhaseWeight(stateOfCharge));
                return ((value - stateOfCharge) / weight, weight);
            case MapValues.DeviationFromStateOfCharge:
                return (value - stateOfCharge, 1);
            default:
                return (value, 1);
        }
    }
}

/// <summary>
/// The scale of a map's values, for the terms of the map and the planner written on a fraction's scale (a spread per unit of
/// distance, a noise floor, a space-filling weight): 1 for a fraction (its whole range), and for a target in its own unit the
/// range a uniform spread of the values seen so far would have, √12 × their standard deviation, or their RMS σ when that is
/// larger (a field that does not vary is measured to its noise). So a map of a lattice parameter in Å weighs its distance term
/// against its trees' spread as a map of a fraction does, and a planner chooses the same spots whatever the target's unit or
/// offset. Running (Welford): values arrive one by one.
/// </summary>
public sealed class ValueScale
{
    private int _count;
    private double _mean;
    private double _sumOfSquaredDeviations;
    private double _sumOfSquaredSigmas;
    private int _sigmaCount;

    /// <summary>The scale for maps of these values: 1 unless they are <see cref="MapValues.Raw"/>.</summary>
    public static double For(MapValues values, IEnumerable<(double Value, double Sigma)> observations)
    {
        ArgumentNullException.ThrowIfNull(observations);
        if (values != MapValues.Raw) return 1;
        var scale = new ValueScale();
        foreach (var (value, sigma) in observations) scale.Add(value, sigma);
        return scale.Scale;
    }

    /// <summary>Adds a value and its σ (a σ that is not finite and positive is left out of the RMS σ).</summary>
    public void Add(double value, double sigma)
    {
        if (!double.IsFinite(value)) return;
        _count++;
        var delta = value - _mean;
        _mean += delta / _count;
        _sumOfSquaredDeviations += delta * (value - _mean);
        if (double.IsFinite(sigma) && sigma > 0)
        {
            _sumOfSquaredSigmas += sigma * sigma;
            _sigmaCount++;
        }
    }

    /// <summary>√12 × the values' standard deviation or their RMS σ, whichever is larger; 1 (one of the target's units) while
    /// there are fewer than two values or both are zero.</summary>
    public double Scale
    {
        get
        {
            if (_count < 2) return 1;
            var spread = Math.Sqrt(12 * _sumOfSquaredDeviations / (_count - 1));
            var noise = _sigmaCount > 0 ? Math.Sqrt(_sumOfSquaredSigmas / _sigmaCount) : 0;
            var scale = Math.Max(spread, noise);
            return scale > 0 && double.IsFinite(scale) ? scale : 1;
        }
    }
}

using AutonomousBeamline.Core.Domain;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;

namespace AutonomousBeamline.Learning.Surrogate;

/// <summary>
/// A random-forest map of the FePO4 fraction over (x, y, state of charge). The mean is the forest's average;
/// the spread is the standard deviation across trees plus a term that grows with the distance to the nearest
/// observation. Immutable once fitted, so it can be shared between the trainer and any number of readers.
/// </summary>
/// <remarks>
/// Predictions walk the trees directly on three floats: ML.NET's own prediction engine allocates per call
/// and does not expose the per-tree values (its quantile API is internal), and the planner asks for thousands
/// of predictions per decision.
/// </remarks>
public sealed class ForestPhaseMap : IPhaseMap
{
    private readonly CompiledTree[] _trees;
    private readonly float[] _points; // observations as (x, y, soc) scaled to distance units, flattened
    private readonly ForestPhaseMapOptions _options;

    private ForestPhaseMap(int version, CompiledTree[] trees, float[] points, int observationCount, ForestPhaseMapOptions options)
    {
        Version = version;
        _trees = trees;
        _points = points;
        ObservationCount = observationCount;
        _options = options;
    }

    public int Version { get; }

    /// <summary>How many observations the forest was fitted on.</summary>
    public int ObservationCount { get; }

    /// <summary>
    /// Fits a forest on the usable observations (finite position, state of charge and phase fraction).
    /// Returns null when fewer than <see cref="ForestPhaseMapOptions.MinimumObservations"/> remain.
    /// </summary>
    public static ForestPhaseMap? Fit(IReadOnlyList<Observation> observations, int version, ForestPhaseMapOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(observations);
        options ??= ForestPhaseMapOptions.Default;
        options.Validate();
        var rows = observations.Where(IsUsable).Select(o => new TrainingRow
        {
            Features = [(float)o.XMm, (float)o.YMm, (float)o.StateOfCharge],
            Label = (float)(options.LearnDeviationFromStateOfCharge ? o.PhaseFraction - o.StateOfCharge : o.PhaseFraction),
        }).ToArray();
        if (rows.Length < options.MinimumObservations) return null;

        var points = new float[rows.Length * 3];
        for (var i = 0; i < rows.Length; i++)
        {
            points[3 * i] = (float)(rows[i].Features[0] / options.LengthScaleMm);
            points[3 * i + 1] = (float)(rows[i].Features[1] / options.LengthScaleMm);
            points[3 * i + 2] = (float)(rows[i].Features[2] / options.StateOfChargeScale);
        }

        CompiledTree[] trees;
        if (rows.Select(r => r.Label).Distinct().Count() == 1)
        {
            // Identical targets give the trainer nothing to split on; the answer is that constant, with no tree spread.
            trees = [CompiledTree.Constant(rows[0].Label)];
        }
        else
        {
            var ml = new MLContext(seed: options.Seed);
            var data = ml.Data.LoadFromEnumerable(rows);
            var trainer = ml.Regression.Trainers.FastForest(new FastForestRegressionTrainer.Options
            {
                NumberOfTrees = options.NumberOfTrees,
                NumberOfLeaves = Math.Max(2, Math.Min(options.NumberOfLeaves, rows.Length)),
                MinimumExampleCountPerLeaf = options.MinimumExampleCountPerLeaf,
                // With three features the default 0.7 would leave a tree without a feature it needs; see ML.NET's docs.
                FeatureFraction = 1.0,
                NumberOfThreads = 1,
                Seed = options.Seed,
                FeatureSelectionSeed = options.Seed,
                LabelColumnName = nameof(TrainingRow.Label),
                FeatureColumnName = nameof(TrainingRow.Features),
            });
            var model = trainer.Fit(data).Model;
            trees = model.TrainedTreeEnsemble.Trees.Select(CompiledTree.From).ToArray();
            if (trees.Length == 0) trees = [CompiledTree.Constant((float)rows.Average(r => r.Label))];
        }
        return new ForestPhaseMap(version, trees, points, rows.Length, options);
    }

    public (double Mean, double Spread) Predict(double xMm, double yMm, double stateOfCharge)
    {
        var (mean, treeSpread) = PredictTrees(xMm, yMm, stateOfCharge);
        var distance = Math.Min(DistanceToData(xMm, yMm, stateOfCharge), _options.MaximumDistanceUnits);
        return (mean, treeSpread + _options.DistanceSpreadPerUnit * distance);
    }

    /// <summary>The forest alone: mean (with the state of charge added back when the trees learn the deviation from it,
    /// clipped to a fraction's range) and the standard deviation of the per-tree predictions.</summary>
    public (double Mean, double Spread) PredictTrees(double xMm, double yMm, double stateOfCharge)
    {
        var (mean, spread) = TreeStatistics(xMm, yMm, stateOfCharge);
        return _options.LearnDeviationFromStateOfCharge ? (Math.Clamp(mean + stateOfCharge, 0, 1), spread) : (mean, spread);
    }

    /// <summary>Mean and standard deviation of the raw per-tree outputs, in the units the trees were trained on.</summary>
    public (double Mean, double Spread) TreeStatistics(double xMm, double yMm, double stateOfCharge)
    {
        Span<float> features = [(float)xMm, (float)yMm, (float)stateOfCharge];
        double sum = 0, sumSquares = 0;
        foreach (var tree in _trees)
        {
            var value = tree.Evaluate(features);
            sum += value;
            sumSquares += value * value;
        }
        var mean = sum / _trees.Length;
        var variance = Math.Max(0, sumSquares / _trees.Length - mean * mean);
        return (mean, Math.Sqrt(variance));
    }

    /// <summary>Distance to the nearest training observation in units of <see cref="ForestPhaseMapOptions.LengthScaleMm"/> and <see cref="ForestPhaseMapOptions.StateOfChargeScale"/>.</summary>
    public double DistanceToData(double xMm, double yMm, double stateOfCharge)
    {
        var x = xMm / _options.LengthScaleMm;
        var y = yMm / _options.LengthScaleMm;
        var s = stateOfCharge / _options.StateOfChargeScale;
        var best = double.PositiveInfinity;
        for (var i = 0; i < _points.Length; i += 3)
        {
            var dx = x - _points[i]; var dy = y - _points[i + 1]; var ds = s - _points[i + 2];
            var d2 = dx * dx + dy * dy + ds * ds;
            if (d2 < best) best = d2;
        }
        return Math.Sqrt(best);
    }

    internal static bool IsUsable(Observation o) =>
        double.IsFinite(o.XMm) && double.IsFinite(o.YMm) && double.IsFinite(o.StateOfCharge) && double.IsFinite(o.PhaseFraction);

    private sealed class TrainingRow
    {
        [VectorType(3)]
        public float[] Features { get; set; } = [];

        public float Label { get; set; }
    }

    /// <summary>One regression tree in flat arrays; a negative child c is leaf ~c, as in ML.NET.</summary>
    private sealed class CompiledTree
    {
        private readonly int[] _feature;
        private readonly float[] _threshold;
        private readonly int[] _left;
        private readonly int[] _right;
        private readonly double[] _leaf;

        private CompiledTree(int[] feature, float[] threshold, int[] left, int[] right, double[] leaf)
        {
            _feature = feature; _threshold = threshold; _left = left; _right = right; _leaf = leaf;
        }

        public static CompiledTree From(RegressionTreeBase tree)
        {
            if (tree.CategoricalSplitFlags.Any(flag => flag))
                throw new InvalidOperationException("the forest contains categorical splits, which a numeric (x, y, soc) map never asks for");
            return new CompiledTree(tree.NumericalSplitFeatureIndexes.ToArray(), tree.NumericalSplitThresholds.ToArray(),
                tree.LeftChild.ToArray(), tree.RightChild.ToArray(), tree.LeafValues.ToArray());
        }

        public static CompiledTree Constant(double value) => new([], [], [], [], [value]);

        public double Evaluate(ReadOnlySpan<float> features)
        {
            if (_feature.Length == 0) return _leaf[0];
            var node = 0;
            while (node >= 0)
                node = features[_feature[node]] <= _threshold[node] ? _left[node] : _right[node];
            return _leaf[~node];
        }
    }
}

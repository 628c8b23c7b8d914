using AutonomousBeamline.Core.Domain;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;

namespace AutonomousBeamline.Learning.Surrogate;

/// <summary>
/// A random-forest map of the learner's target (a phase fraction, or any target in its own unit; see <see cref="MapValues"/>)
/// over (x, y, state of charge). The mean is the forest's average; the spread is the standard deviation across trees plus a
/// term that grows with the distance to the nearest observation, on the values' scale (<see cref="ValueScale"/>). Immutable
/// once fitted, so it can be shared between the trainer and any number of readers.
/// </summary>
/// <remarks>
/// Predictions walk the trees directly on three floats: ML.NET's own prediction engine allocates per call
/// and does not expose the per-tree values (its quantile API is internal), and the planner asks for thousands
/// of predictions per decision.
/// </remarks>
public sealed class ForestPhaseMap : INormalisedPhaseMap
{
    private readonly CompiledTree[] _trees;
    private readonly float[] _points; // observations as (x, y, third input) scaled to distance units, flattened
    private readonly ForestPhaseMapOptions _options;

    private ForestPhaseMap(int version, CompiledTree[] trees, float[] points, int observationCount, double defaultCRate, ForestPhaseMapOptions options,
        double valueScale)
    {
        ValueScale = valueScale;
        Version = version;
        _trees = trees;
        _points = points;
        ObservationCount = observationCount;
        DefaultCRate = defaultCRate;
        _options = options;
    }

    public int Version { get; }

    /// <summary>The settings the map was fitted with.</summary>
    public ForestPhaseMapOptions Options => _options;

    /// <summary>How many observations the forest was fitted on.</summary>
    public int ObservationCount { get; }

    /// <summary>True when the trees learn the state-of-charge-free shape (see <see cref="ForestPhaseMapOptions.NormaliseByTwoPhaseWeight"/>).</summary>
    public bool IsNormalised => _options.NormaliseByTwoPhaseWeight;

    /// <summary>The scale the distance term is multiplied by: 1 for a fraction, the fitted values' <see cref="Surrogate.ValueScale"/>
    /// for a target in its own unit (<see cref="MapValues.Raw"/>).</summary>
    public double ValueScale { get; }

    /// <summary>|C-rate| of the newest fitted observation: the rate <see cref="Predict(double, double, double)"/> answers for.</summary>
    public double DefaultCRate { get; }

    /// <summary>
    /// Fits a forest on the usable observations (finite position, state of charge and phase fraction).
    /// Returns null when fewer than <see cref="ForestPhaseMapOptions.MinimumObservations"/> remain.
    /// </summary>
    public static ForestPhaseMap? Fit(IReadOnlyList<Observation> observations, int version, ForestPhaseMapOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(observations);
        options ??= ForestPhaseMapOptions.Default;
        options.Validate();
        var usable = observations.Where(IsUsable)
            .Where(o => !options.NormaliseByTwoPhaseWeight || ForestPhaseMapOptions.TwoPhaseWeight(o.StateOfCharge) >= options.MinimumTwoPhaseWeight)
            .ToArray();
        if (usable.Length < options.MinimumObservations) return null;
        var rows = usable.Select(o => ToRow(o, options)).ToArray();

        var points = new float[rows.Length * 3];
        var thirdScale = options.NormaliseByTwoPhaseWeight ? options.CRateScale : options.StateOfChargeScale;
        for (var i = 0; i < rows.Length; i++)
        {
            points[3 * i] = (float)(rows[i].Features[0] / options.LengthScaleMm);
            points[3 * i + 1] = (float)(rows[i].Features[1] / options.LengthScaleMm);
            points[3 * i + 2] = (float)(rows[i].Features[2] / thirdScale);
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
                ExampleWeightColumnName = nameof(TrainingRow.Weight),
            });
            var model = trainer.Fit(data).Model;
            trees = model.TrainedTreeEnsemble.Trees.Select(CompiledTree.From).ToArray();
            if (trees.Length == 0) trees = [CompiledTree.Constant((float)rows.Average(r => r.Label))];
        }
        return new ForestPhaseMap(version, trees, points, rows.Length, Math.Abs(usable[^1].CRate), options,
            Surrogate.ValueScale.For(options.Values, usable.Select(o => (o.PhaseFraction, o.PhaseFractionSigma))));
    }

    private static TrainingRow ToRow(Observation o, ForestPhaseMapOptions options)
    {
        var (label, weight) = options.Values.Read(o.PhaseFraction, o.StateOfCharge);
        return new TrainingRow
        {
            // A normalised map's shape holds at every state of charge; its third input is the rate instead.
            Features = [(float)o.XMm, (float)o.YMm, (float)(options.NormaliseByTwoPhaseWeight ? Math.Abs(o.CRate) : o.StateOfCharge)],
            Label = (float)label,
            // The measurement noise is the same in fraction units, so after dividing by the weight it grows as 1/weight: weight by its square.
            Weight = (float)(weight * weight),
        };
    }

    /// <summary>The map at the rate of the newest observation (<see cref="DefaultCRate"/>).</summary>
    public (double Mean, double Spread) Predict(double xMm, double yMm, double stateOfCharge) =>
        Predict(xMm, yMm, stateOfCharge, DefaultCRate);

    /// <summary>The phase fraction expected at (x, y) when the cell's state of charge is reached at <paramref name="cRate"/>, and its spread.
    /// The C-rate matters only for a normalised map.</summary>
    public (double Mean, double Spread) Predict(double xMm, double yMm, double stateOfCharge, double cRate)
    {
        var (mean, treeSpread) = PredictTrees(xMm, yMm, stateOfCharge, cRate);
        var distance = Math.Min(DistanceToData(xMm, yMm, stateOfCharge, cRate), _options.MaximumDistanceUnits);
        var scale = IsNormalised ? ForestPhaseMapOptions.TwoPhaseWeight(stateOfCharge) : ValueScale;
        return (mean, treeSpread + scale * _options.DistanceSpreadPerUnit * distance);
    }

    /// <summary>The forest alone: mean (with the state of charge added back when the trees learn the deviation from it,
    /// clipped to a fraction's range) and the standard deviation of the per-tree predictions, in fraction units.</summary>
    public (double Mean, double Spread) PredictTrees(double xMm, double yMm, double stateOfCharge) =>
        PredictTrees(xMm, yMm, stateOfCharge, DefaultCRate);

    /// <inheritdoc cref="PredictTrees(double, double, double)"/>
    public (double Mean, double Spread) PredictTrees(double xMm, double yMm, double stateOfCharge, double cRate)
    {
        if (IsNormalised)
        {
            var (shape, shapeSpread) = ShapeStatistics(xMm, yMm, cRate);
            var weight = ForestPhaseMapOptions.TwoPhaseWeight(stateOfCharge);
            return (Math.Clamp(stateOfCharge + weight * shape, 0, 1), weight * shapeSpread);
        }
        var (mean, spread) = TreeStatistics(xMm, yMm, stateOfCharge);
        return _options.LearnDeviationFromStateOfCharge ? (Math.Clamp(mean + stateOfCharge, 0, 1), spread) : (mean, spread);
    }

    /// <summary>Mean and standard deviation of the raw per-tree outputs, in the units the trees were trained on, for a
    /// map that is not normalised (for a normalised one the state of charge is ignored; see <see cref="ShapeStatistics"/>).</summary>
    public (double Mean, double Spread) TreeStatistics(double xMm, double yMm, double stateOfCharge) =>
        IsNormalised ? ShapeStatistics(xMm, yMm, DefaultCRate) : Trees((float)xMm, (float)yMm, (float)stateOfCharge);

    /// <summary>
    /// For a normalised map: the learned shape (phase fraction − soc) / (4·soc·(1 − soc)) at (x, y) and rate, and the
    /// spread of the trees over it. It holds at every state of charge, so a planner can compute it once per model.
    /// </summary>
    public (double Mean, double Spread) ShapeStatistics(double xMm, double yMm, double cRate) =>
        Trees((float)xMm, (float)yMm, (float)Math.Abs(cRate));

    /// <summary>
    /// For a normalised map: the spread of the learned shape at (x, y) and rate, trees plus the distance term, in shape units;
    /// multiply by 4·soc·(1 − soc) for the spread of the phase fraction.
    /// </summary>
    public double ShapeSpread(double xMm, double yMm, double cRate)
    {
        var distance = Math.Min(DistanceToData(xMm, yMm, 0, cRate), _options.MaximumDistanceUnits);
        return ShapeStatistics(xMm, yMm, cRate).Spread + _options.DistanceSpreadPerUnit * distance;
    }

    /// <summary>
    /// <see cref="ShapeStatistics"/>'s spread at every point of a rectangular grid at once, point (i, j) at index j·xs.Length + i.
    /// Each tree's axis-aligned splits cut the grid's index rectangle, so a tree costs its nodes plus one write per grid point
    /// instead of a walk from the root per point.
    /// </summary>
    /// <param name="xs">The grid's x coordinates, ascending.</param>
    /// <param name="ys">The grid's y coordinates, ascending.</param>
    public double[] ShapeSpreadOnGrid(IReadOnlyList<double> xs, IReadOnlyList<double> ys, double cRate)
    {
        ArgumentNullException.ThrowIfNull(xs);
        ArgumentNullException.ThrowIfNull(ys);
        var fx = xs.Select(v => (float)v).ToArray();
        var fy = ys.Select(v => (float)v).ToArray();
        for (var i = 1; i < fx.Length; i++) if (!(fx[i] >= fx[i - 1])) throw new ArgumentException("grid x coordinates must ascend", nameof(xs));
        for (var j = 1; j < fy.Length; j++) if (!(fy[j] >= fy[j - 1])) throw new ArgumentException("grid y coordinates must ascend", nameof(ys));
        var sum = new double[fx.Length * fy.Length];
        var sumSquares = new double[sum.Length];
        var c = (float)Math.Abs(cRate);
        foreach (var tree in _trees) tree.Accumulate(fx, fy, c, sum, sumSquares);
        var spread = new double[sum.Length];
        for (var k = 0; k < spread.Length; k++)
        {
            var mean = sum[k] / _trees.Length;
            spread[k] = Math.Sqrt(Math.Max(0, sumSquares[k] / _trees.Length - mean * mean));
        }
        return spread;
    }

    /// <summary>The trees' spread on the grid (<see cref="ShapeSpreadOnGrid"/>) with this map's distance term.</summary>
    public ShapeSpreadGrid SpreadGrid(IReadOnlyList<double> xs, IReadOnlyList<double> ys, double cRate)
    {
        var trees = ShapeSpreadOnGrid(xs, ys, cRate);
        var perUnit = new double[trees.Length];
        Array.Fill(perUnit, _options.DistanceSpreadPerUnit);
        return new ShapeSpreadGrid(trees, perUnit, _options.LengthScaleMm, _options.MaximumDistanceUnits);
    }

    private (double Mean, double Spread) Trees(float a, float b, float c)
    {
        Span<float> features = [a, b, c];
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

    /// <summary>Distance to the nearest training observation in distance units, at the rate of <see cref="DefaultCRate"/>.</summary>
    public double DistanceToData(double xMm, double yMm, double stateOfCharge) => DistanceToData(xMm, yMm, stateOfCharge, DefaultCRate);

    /// <summary>Distance to the nearest training observation in units of <see cref="ForestPhaseMapOptions.LengthScaleMm"/> and
    /// <see cref="ForestPhaseMapOptions.StateOfChargeScale"/> (or, for a normalised map, <see cref="ForestPhaseMapOptions.CRateScale"/>:
    /// there the state of charge is no distance at all).</summary>
    public double DistanceToData(double xMm, double yMm, double stateOfCharge, double cRate)
    {
        var x = xMm / _options.LengthScaleMm;
        var y = yMm / _options.LengthScaleMm;
        var s = IsNormalised ? Math.Abs(cRate) / _options.CRateScale : stateOfCharge / _options.StateOfChargeScale;
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

        public float Weight { get; set; }
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

        /// <summary>Adds this tree's value (and its square) at every point of the grid xs × ys (third input fixed at <paramref name="third"/>).</summary>
        public void Accumulate(float[] xs, float[] ys, float third, double[] sum, double[] sumSquares)
        {
            if (_feature.Length == 0)
            {
                var v = _leaf[0];
                for (var k = 0; k < sum.Length; k++) { sum[k] += v; sumSquares[k] += v * v; }
                return;
            }
            Fill(0, 0, xs.Length, 0, ys.Length);

            void Fill(int node, int i0, int i1, int j0, int j1)
            {
                if (i0 >= i1 || j0 >= j1) return;
                if (node < 0)
                {
                    var v = _leaf[~node];
                    for (var j = j0; j < j1; j++)
                    {
                        var row = j * xs.Length;
                        for (var i = i0; i < i1; i++) { sum[row + i] += v; sumSquares[row + i] += v * v; }
                    }
                    return;
                }
                var threshold = _threshold[node];
                switch (_feature[node])
                {
                    case 0:
                        var splitX = i0;
                        while (splitX < i1 && xs[splitX] <= threshold) splitX++;
                        Fill(_left[node], i0, splitX, j0, j1);
                        Fill(_right[node], splitX, i1, j0, j1);
                        break;
                    case 1:
                        var splitY = j0;
                        while (splitY < j1 && ys[splitY] <= threshold) splitY++;
                        Fill(_left[node], i0, i1, j0, splitY);
                        Fill(_right[node], i0, i1, splitY, j1);
                        break;
                    default:
                        Fill(third <= threshold ? _left[node] : _right[node], i0, i1, j0, j1);
                        break;
                }
            }
        }

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

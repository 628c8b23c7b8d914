using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace AutonomousBeamline.Learning.Decomposition;

/// <summary>How the stream is decomposed.</summary>
/// <param name="Window">How many of the latest frames the decomposition is refitted on: the bound on an update's work
/// (an SVD and a few ALS sweeps of Window × channels). A component absent from the whole window drops out.</param>
/// <param name="MaxComponents">The most components resolved, whatever the rank estimate says.</param>
/// <param name="WarmIterations">ALS sweeps per frame when the rank is unchanged (warm start from the previous solution).</param>
/// <param name="ColdIterations">ALS sweeps when components appear (a cold start, or a new component seeded from the residual).</param>
/// <param name="ChangeCorrelation">A component whose correlation with its last published shape falls below this counts as changed
/// (a new model version, journalled); above it, the ALS' frame-to-frame refinements are not news.</param>
public sealed record DecompositionOptions(
    NoiseModel Noise,
    int Window = 40,
    int MaxComponents = 8,
    int WarmIterations = 25,
    int ColdIterations = 400,
    double ChangeCorrelation = 0.99)
{
    public void Validate()
    {
        if (Window < 2) throw new ArgumentException($"decomposition window must be at least 2 frames, got {Window}");
        if (MaxComponents < 1) throw new ArgumentException($"decomposition max components must be at least 1, got {MaxComponents}");
        if (WarmIterations < 1 || ColdIterations < 1) throw new ArgumentException("decomposition iterations must be at least 1");
        if (!(ChangeCorrelation is > 0 and <= 1)) throw new ArgumentException($"decomposition change correlation must lie in (0, 1], got {ChangeCorrelation}");
    }
}

/// <summary>One resolved component: a stable id (1 for the first to appear; never reused) and its shape at unit area.</summary>
public sealed record ResolvedComponent(int Id, IReadOnlyList<double> Shape, long FirstSeenFrame);

/// <summary>A frame's score on one component: the signal it contributes, and its share of the frame's resolved signal.</summary>
public sealed record ComponentScore(int Id, double Score, double Fraction, double FractionSigma);

/// <summary>What one frame did to the decomposition, and what the frame is made of.</summary>
/// <param name="Version">Counts the published models; it rises when the rank or a component's shape changes.</param>
/// <param name="Changed">True when this frame made a new version (journal it).</param>
/// <param name="ResidualFraction">‖frame − model‖ / ‖frame‖ for this frame.</param>
public sealed record DecompositionUpdate(
    long FrameCount, int Version, bool Changed, RankEstimate Rank,
    IReadOnlyList<ResolvedComponent> Components, IReadOnlyList<ComponentScore> Scores, double ResidualFraction)
{
    public ComponentScore? ScoreOf(int id) => Scores.FirstOrDefault(s => s.Id == id);
}

/// <summary>
/// Decomposes frames as they arrive (patterns on one axis, or spectra on one energy grid) into non-negative components
/// and scores, without references. Each frame: the window's significant components are counted
/// (<see cref="SignificantComponents"/>), then MCR-ALS (<see cref="McrAls"/>) is warm-started from the previous
/// components; a component the rank says is new is seeded from the part of the window the old ones leave unexplained
/// (the frame that residual is largest in, by successive projection), one the rank says is gone is the one contributing
/// least. Not thread-safe: one caller (the run's loop) feeds it.
/// </summary>
public sealed class IncrementalDecomposition
{
    private readonly DecompositionOptions _options;
    private readonly Queue<double[]> _window = new();
    private List<ResolvedComponent> _components = [];
    private List<ResolvedComponent> _published = [];
    private int _nextId = 1;
    private int _version;
    private long _frames;
    private int? _channels;

    public IncrementalDecomposition(DecompositionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    public DecompositionOptions Options => _options;
    public IReadOnlyList<ResolvedComponent> Components => _components;
    public int Version => _version;
    public long FrameCount => _frames;

    /// <summary>
    /// Takes an earlier frame the stream was not fed at the time (seeding it ahead of the frame that started it): resolved as
    /// <see cref="Add"/> would have resolved it, so the components grow in one by one from the residual as they do in a
    /// stream fed from its first frame, but nothing is published — the next <see cref="Add"/> publishes what the seeds and
    /// it resolve, as one version. (Resolving all seeds at once from a cold start was tried: on the unknown-phase dry run
    /// its three components came out as one olivine mixture each, one taking every frame.)
    /// </summary>
    public void Seed(IReadOnlyList<double> frame) => Update(frame, publish: false);

    public DecompositionUpdate Add(IReadOnlyList<double> frame) => Update(frame, publish: true)!;

    /// <summary>
    /// Brings back, after a crash, a stream that had taken <paramref name="framesTaken"/> frames and published
    /// <paramref name="version"/> models: the latest frames (at most a window) are resolved as <see cref="Seed"/> resolves
    /// them, then <paramref name="relabel"/> gives each resolved component the id it had before the crash (null: a component
    /// the journal did not know, which gets a new id from <paramref name="nextId"/> on). The shapes themselves were not
    /// kept, only where they peaked, so ids are recognised, not restored; the next <see cref="Add"/> publishes version + 1,
    /// so the journal shows what the resumed stream holds.
    /// </summary>
    /// <param name="relabel">For the resolved components (in order), each one's earlier id and the frame it was first seen in.</param>
    public void Restore(IReadOnlyList<IReadOnlyList<double>> latest, long framesTaken, int version, int nextId,
        Func<IReadOnlyList<ResolvedComponent>, IReadOnlyList<(int Id, long FirstSeenFrame)?>> relabel)
    {
        ArgumentNullException.ThrowIfNull(latest);
        ArgumentNullException.ThrowIfNull(relabel);
        if (_frames > 0) throw new InvalidOperationException("only a stream that has taken no frame yet can be restored");
        if (framesTaken < latest.Count) throw new ArgumentException($"a stream cannot have taken {framesTaken} frames and kept {latest.Count}", nameof(framesTaken));
        if (version < 0 || nextId < 1) throw new ArgumentException($"version {version} and next id {nextId} cannot be a stream's");
        foreach (var frame in latest.Skip(Math.Max(0, latest.Count - _options.Window))) Update(frame, publish: false);
        var earlier = relabel(_components);
        if (earlier.Count != _components.Count) throw new ArgumentException($"relabel gave {earlier.Count} ids for {_components.Count} components", nameof(relabel));
        var taken = earlier.Where(e => e is not null).Select(e => e!.Value.Id).ToList();
        if (taken.Count != taken.Distinct().Count()) throw new ArgumentException("relabel gave one id to two components", nameof(relabel));
        _nextId = Math.Max(nextId, taken.Count == 0 ? 1 : taken.Max() + 1);
        _components = _components.Select((c, r) => earlier[r] is { } e
            ? c with { Id = e.Id, FirstSeenFrame = e.FirstSeenFrame }
            : c with { Id = _nextId++, FirstSeenFrame = framesTaken }).ToList();
        _frames = framesTaken;
        _version = version;
        _published = [];
    }

    private void Check(IReadOnlyList<double> frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.Count == 0) throw new ArgumentException("a frame with no channels cannot be decomposed");
        if (_channels is { } n && frame.Count != n)
            throw new ArgumentException($"a frame of {frame.Count} channels arrived in a decomposition of {n}-channel frames (the frames must share one axis or grid)");
        for (var j = 0; j < frame.Count; j++)
        {
            if (!double.IsFinite(frame[j])) throw new ArgumentException($"channel {j} of the frame is not a finite number ({frame[j]})");
            if (_options.Noise == NoiseModel.Poisson && frame[j] < 0)
                throw new ArgumentException($"channel {j} of the frame is negative ({frame[j]}), which counts cannot be: decompose it with the Gaussian noise model");
        }
    }

    private void Enqueue(IReadOnlyList<double> frame)
    {
        _channels = frame.Count;
        _frames++;
        _window.Enqueue(frame.ToArray());
        if (_window.Count > _options.Window) _window.Dequeue();
    }

    private DecompositionUpdate? Update(IReadOnlyList<double> frame, bool publish)
    {
        Check(frame);
        Enqueue(frame);

        var data = Matrix<double>.Build.DenseOfRowArrays(_window);
        var rank = SignificantComponents.Estimate(data, _options.Noise);
        var k = Math.Min(Math.Min(rank.Rank, _options.MaxComponents), data.RowCount);
        var (start, ids, cold) = Seed(data, k);
        var scores = Matrix<double>.Build.Dense(data.RowCount, 0);
        if (k > 0)
        {
            var solution = McrAls.Resolve(data, start, cold ? _options.ColdIterations : _options.WarmIterations, 1e-7);
            if (k > 1 && (Unscored(solution.Scores) || Duplicated(solution.Components)))
            {
                // A component no frame of the window scores on is no component: the start led ALS to a corner where one
                // component takes everything (a seed the others already explain). Start again from the purest channels —
                // each component has channels where it dominates — and keep the old ids for the components most like the old.
                solution = McrAls.Resolve(data, PurestChannels(data, k), _options.ColdIterations, 1e-7);
                ids = MatchIds(solution.Components);
            }
            _components = ids.Select((id, r) => new ResolvedComponent(id, solution.Components.Row(r).ToArray(),
                _components.FirstOrDefault(c => c.Id == id)?.FirstSeenFrame ?? _frames)).ToList();
            scores = solution.Scores;
        }
        else _components = [];
        if (!publish) return null;

        var changed = Changed();
        if (changed) { _version++; _published = _components; }
        var (frameScores, residual) = ScoresOfLatest(data, scores);
        return new DecompositionUpdate(_frames, _version, changed, rank, _components, frameScores, residual);
    }

    /// <summary>The starting components for k: the previous ones (warm), with new ones seeded or the weakest dropped.</summary>
    private (Matrix<double> Start, List<int> Ids, bool Cold) Seed(Matrix<double> data, int k)
    {
        var previous = _components;
        if (k == 0) return (Matrix<double>.Build.Dense(0, data.ColumnCount), [], false);
        if (previous.Count == 0)
        {
            var seeds = SuccessiveProjection(data, k);
            return (seeds, Enumerable.Range(0, k).Select(_ => _nextId++).ToList(), true);
        }
        var old = Matrix<double>.Build.DenseOfRowArrays(previous.Select(c => c.Shape.ToArray()));
        var ids = previous.Select(c => c.Id).ToList();
        if (k < previous.Count)
        {
            // Keep the k components contributing most to the window.
            var contribution = McrAls.FitScores(data, old).ColumnSums();
            var keep = Enumerable.Range(0, previous.Count).OrderByDescending(r => contribution[r]).Take(k).Order().ToArray();
            return (Matrix<double>.Build.DenseOfRowVectors(keep.Select(old.Row)), keep.Select(r => ids[r]).ToList(), false);
        }
        if (k == previous.Count) return (old, ids, false);
        // What the old components leave, beyond their own frame-to-frame perturbations: the raw residual's leading direction is
        // the perturbations' where the old phases' strongest peaks shift or broaden (a lobe of a derivative), which a weak new
        // phase does not outweigh; seeded from it, ALS settles on a mixture of the new phase and an old one's shifted peak.
        var residual = data - McrAls.FitScores(data, old) * old;
        var span = SignificantComponents.PerturbationSpan(previous.Select(c => c.Shape).ToList(), _options.Noise);
        var beyond = span.ColumnCount < data.ColumnCount - 1 ? residual - residual * span * span.Transpose() : residual;
        var added = LeadingResidualDirections(residual, beyond, k - previous.Count);
        ids.AddRange(Enumerable.Range(0, added.RowCount).Select(_ => _nextId++));
        return (old.Stack(added), ids, true);
    }

    /// <summary>
    /// The k most independent rows (Araújo's successive projections): the longest row, then the longest after projecting
    /// that one out, and so on. On the data these are the purest frames; on a residual, where a new component shows most.
    /// Negative channels are clipped (a component is non-negative), with a small floor so ALS can move every channel.
    /// </summary>
    private static Matrix<double> SuccessiveProjection(Matrix<double> rows, int k)
    {
        var projected = rows.Clone();
        var seeds = new List<Vector<double>>();
        for (var t = 0; t < k; t++)
        {
            var norms = projected.RowNorms(2.0);
            var best = norms.MaximumIndex();
            var row = rows.Row(best).PointwiseMaximum(0);
            var floor = Math.Max(row.Maximum(), 1e-12) * 1e-3;
            seeds.Add(row.Map(v => v + floor));
            if (!(norms[best] > 0)) continue;
            var u = projected.Row(best) / norms[best];
            projected -= (projected * u).OuterProduct(u);
        }
        return Matrix<double>.Build.DenseOfRowVectors(seeds);
    }

    /// <summary>True when two components have (nearly) one shape: two of the k independent directions the rank counted
    /// cannot be one shape twice, so ALS has settled with a component split in two and another one missing.</summary>
    private static bool Duplicated(Matrix<double> components)
    {
        for (var a = 0; a < components.RowCount; a++)
            for (var b = a + 1; b < components.RowCount; b++)
                if (Correlation(components.Row(a).ToArray(), components.Row(b).ToArray()) > DuplicateCorrelation) return true;
        return false;
    }

    /// <summary>Above this correlation two components count as one shape (distinct phases' patterns correlate far less).</summary>
    private const double DuplicateCorrelation = 0.9;

    /// <summary>True when some component's scores over the window are (numerically) all zero.</summary>
    private static bool Unscored(Matrix<double> scores)
    {
        var sums = scores.ColumnSums();
        var total = sums.Sum();
        return sums.Any(v => !(v > 1e-9 * total));
    }

    /// <summary>
    /// Components from the k purest channels (successive projection on the channels, each weighted by 1/√(its total) as
    /// counts' noise asks): a channel where one component dominates follows that component's scores across the frames, so
    /// those channels' columns are the start's scores and the shapes their non-negative fit.
    /// </summary>
    private static Matrix<double> PurestChannels(Matrix<double> data, int k)
    {
        var columns = data.Clone();
        for (var j = 0; j < columns.ColumnCount; j++)
        {
            var sum = columns.Column(j).Sum();
            columns.SetColumn(j, sum > 0 ? columns.Column(j) / Math.Sqrt(sum) : columns.Column(j) * 0);
        }
        var scores = SuccessiveProjection(columns.Transpose(), k).Transpose();
        return McrAls.FitScores(data.Transpose(), scores.Transpose()).Transpose().Map(v => v + 1e-12);
    }

    /// <summary>Ids for a new set of components: each old id goes to the new component most like it (greedily, the best
    /// matches first); the components left over are new.</summary>
    private List<int> MatchIds(Matrix<double> components)
    {
        var ids = new int?[components.RowCount];
        var pairs = _components.SelectMany(old => Enumerable.Range(0, components.RowCount)
                .Select(r => (Old: old.Id, Row: r, Correlation: Correlation(old.Shape, components.Row(r).ToArray()))))
            .OrderByDescending(p => p.Correlation);
        var used = new HashSet<int>();
        foreach (var (old, row, _) in pairs)
            if (ids[row] is null && used.Add(old)) ids[row] = old;
        return ids.Select(id => id ?? _nextId++).ToList();
    }

    /// <summary>
    /// Seeds for components the old ones cannot explain. Their frames' scores are the leading left singular vectors of what the
    /// old components leave beyond their perturbations (<paramref name="beyond"/>), where a new phase's growth across the
    /// window shows and an old phase's shifting peaks do not; each shape is the whole residual regressed on those scores (a
    /// phase like an old one shifted, as a delithiated spinel is, lies largely inside the old one's perturbations, so the part
    /// beyond them would be a poor shape), turned to point mostly positive and clipped. A new phase shows weakly in any one
    /// frame (a few per cent of it, as much as the counting noise) but coherently across the window, which is what the SVD picks up.
    /// </summary>
    private static Matrix<double> LeadingResidualDirections(Matrix<double> residual, Matrix<double> beyond, int count)
    {
        // The left singular vectors from the frames × frames Gram (the channels are many; the right ones are not needed).
        var evd = (beyond * beyond.Transpose()).Evd(Symmetricity.Symmetric);
        var order = Enumerable.Range(0, evd.EigenValues.Count).OrderByDescending(i => evd.EigenValues[i].Real).ToArray();
        var seeds = Enumerable.Range(0, Math.Min(count, order.Length)).Select(r =>
        {
            var direction = residual.TransposeThisAndMultiply(evd.EigenVectors.Column(order[r]));
            if (direction.Sum() < 0) direction = -direction;
            var positive = direction.PointwiseMaximum(0);
            return positive.Map(x => x + Math.Max(positive.Maximum(), 1e-12) * 1e-3);
        });
        return Matrix<double>.Build.DenseOfRowVectors(seeds);
    }

    private bool Changed()
    {
        if (_components.Count != _published.Count) return true;
        if (_components.Count == 0) return _version == 0;
        for (var r = 0; r < _components.Count; r++)
        {
            if (_components[r].Id != _published[r].Id) return true;
            if (Correlation(_components[r].Shape, _published[r].Shape) < _options.ChangeCorrelation) return true;
        }
        return false;
    }

    /// <summary>The newest frame's scores, shares and the σ of a share from the frame's own residual (σ²·(SSᵀ)⁻¹ of its NNLS).</summary>
    private (IReadOnlyList<ComponentScore> Scores, double Residual) ScoresOfLatest(Matrix<double> data, Matrix<double> scores)
    {
        var frame = data.Row(data.RowCount - 1);
        var norm = frame.L2Norm();
        if (_components.Count == 0) return ([], norm > 0 ? 1 : 0);
        var s = Matrix<double>.Build.DenseOfRowArrays(_components.Select(c => c.Shape.ToArray()));
        var c = scores.Row(scores.RowCount - 1);
        var misfit = frame - s.TransposeThisAndMultiply(c);
        var dof = Math.Max(1, frame.Count - _components.Count);
        var variance = misfit.DotProduct(misfit) / dof;
        var inverse = (s * s.Transpose()).PseudoInverse();
        var total = c.Sum();
        var list = _components.Select((comp, r) =>
        {
            var sigma = Math.Sqrt(Math.Max(0, variance * inverse[r, r]));
            return new ComponentScore(comp.Id, c[r], total > 0 ? c[r] / total : 0, total > 0 ? sigma / total : double.PositiveInfinity);
        }).ToList();
        return (list, norm > 0 ? misfit.L2Norm() / norm : 0);
    }

    /// <summary>Pearson correlation of two shapes (1 for the same shape at any scale).</summary>
    public static double Correlation(IReadOnlyList<double> a, IReadOnlyList<double> b) =>
        MathNet.Numerics.Statistics.Correlation.Pearson(a, b);
}

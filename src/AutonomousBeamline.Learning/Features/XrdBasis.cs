namespace AutonomousBeamline.Learning.Features;

/// <summary>What a column of the diffraction design matrix stands for.</summary>
internal enum ColumnKind
{
    Amount,
    Strain,
    Width,
    Background,
}

/// <summary>One solved fit: coefficients of the unit-norm columns (0 for columns left out), their covariance and the residual.</summary>
/// <remarks>The covariance is the unconstrained solve's (every column in): a phase held at zero by the constraint is still
/// uncertain by as much as the data allow it to be.</remarks>
internal sealed record LinearFit(double[] Beta, bool[] Active, int[] Index, double[,] Inverse, double ResidualVariance, double Rss,
    double[] Projections, double[][] BlockProjections);

/// <summary>
/// The design matrix of a diffraction fit at one set of strains: unit-norm columns (phases, their strain and width
/// derivatives, the background), the Gram matrix in total and per block of the axis, and the solves a frame needs.
/// Phase amounts are kept non-negative by an active set (Lawson–Hanson): a phase fitting negative is left out with its
/// derivatives and the rest solved again (down to the background alone, which says how much structure no phase took).
/// </summary>
internal sealed class XrdBasis
{
    private readonly float[][] _columns;
    private readonly double[] _scale;
    private readonly (int Phase, ColumnKind Kind)[] _kinds;
    private readonly double[,] _gram;
    private readonly double[][,] _blockGram;
    private readonly int _phases;

    public XrdBasis(IReadOnlyList<double[]> raw, IReadOnlyList<(int Phase, ColumnKind Kind)> kinds, int[] blockOfBin, int blocks, int phases)
    {
        var p = raw.Count;
        _kinds = kinds.ToArray();
        _phases = phases;
        _columns = new float[p][];
        _scale = new double[p];
        for (var c = 0; c < p; c++)
        {
            var norm = Math.Sqrt(raw[c].Sum(v => v * v));
            if (!(norm > 0)) throw new ArgumentException($"basis column {c} ({_kinds[c].Kind}) is zero on this axis: the axis is too short for the background polynomial");
            _scale[c] = norm;
            _columns[c] = raw[c].Select(v => (float)(v / norm)).ToArray();
        }
        _gram = new double[p, p];
        _blockGram = Enumerable.Range(0, blocks).Select(_ => new double[p, p]).ToArray();
        // The blocks are contiguous runs of bins: one plain dot product per block and pair of columns.
        _blockRanges = BlockRanges(blockOfBin, blocks);
        for (var i = 0; i < p; i++)
        for (var j = 0; j <= i; j++)
        {
            var ci = _columns[i]; var cj = _columns[j];
            var total = 0.0;
            for (var b = 0; b < blocks; b++)
            {
                var (from, to) = _blockRanges[b];
                var s = 0.0;
                for (var k = from; k < to; k++) s += (double)ci[k] * cj[k];
                _blockGram[b][i, j] = s; _blockGram[b][j, i] = s;
                total += s;
            }
            _gram[i, j] = total; _gram[j, i] = total;
        }
    }

    private readonly (int From, int To)[] _blockRanges;

    /// <summary>Each block's bins as [From, To); the block index never decreases along the axis, so each block is one run (empty: (0, 0)).</summary>
    private static (int From, int To)[] BlockRanges(int[] blockOfBin, int blocks)
    {
        var ranges = new (int From, int To)[blocks];
        var start = 0;
        for (var k = 1; k <= blockOfBin.Length; k++)
        {
            if (k < blockOfBin.Length && blockOfBin[k] == blockOfBin[start]) continue;
            ranges[blockOfBin[start]] = (start, k);
            start = k;
        }
        return ranges;
    }

    private int Count => _columns.Length;

    public LinearFit? Fit(double[] y)
    {
        var p = Count;
        var projections = new double[p];
        var blockProjections = _blockGram.Select(_ => new double[p]).ToArray();
        for (var c = 0; c < p; c++)
        {
            var column = _columns[c];
            var total = 0.0;
            for (var b = 0; b < _blockRanges.Length; b++)
            {
                var (from, to) = _blockRanges[b];
                var s = 0.0;
                for (var k = from; k < to; k++) s += column[k] * y[k];
                blockProjections[b][c] = s;
                total += s;
            }
            projections[c] = total;
        }
        var yy = 0.0;
        foreach (var v in y) yy += v * v;

        var active = Enumerable.Repeat(true, p).ToArray();
        (int[] Index, double[,] Inverse, double ResidualVariance)? unconstrained = null;
        while (true)
        {
            var solved = Solve(active, _gram, projections);
            if (solved is null) return null;
            var (beta, index, inverse) = solved.Value;
            unconstrained ??= (index, inverse, ResidualVarianceOf(beta, projections, yy, y.Length, index.Length));
            // Leave out the most negative phase (with its derivatives) and solve again.
            var worst = -1;
            for (var c = 0; c < p; c++)
                if (active[c] && _kinds[c].Kind == ColumnKind.Amount && beta[c] < 0 && (worst < 0 || beta[c] < beta[worst])) worst = c;
            if (worst < 0)
            {
                var rss = ResidualVarianceOf(beta, projections, yy, y.Length, 0) * y.Length;
                var (fullIndex, fullInverse, fullVariance) = unconstrained.Value;
                return new LinearFit(beta, active, fullIndex, fullInverse, Math.Max(fullVariance, rss / Math.Max(1, y.Length - index.Length)), rss,
                    projections, blockProjections);
            }
            var phase = _kinds[worst].Phase;
            for (var c = 0; c < p; c++) if (_kinds[c].Phase == phase) active[c] = false;
        }
    }

    /// <summary>The fitted pattern, channel by channel: every column times its coefficient, and the same without the background.</summary>
    public (double[] Fitted, double[] Phases) Model(LinearFit fit)
    {
        var fitted = new double[_columns[0].Length];
        var phases = new double[fitted.Length];
        for (var c = 0; c < Count; c++)
        {
            var beta = fit.Beta[c];
            if (beta == 0) continue;
            var column = _columns[c];
            var into = _kinds[c].Kind == ColumnKind.Background ? null : phases;
            for (var k = 0; k < fitted.Length; k++)
            {
                var v = beta * column[k];
                fitted[k] += v;
                if (into is not null) into[k] += v;
            }
        }
        return (fitted, phases);
    }

    private static double ResidualVarianceOf(double[] beta, double[] projections, double yy, int n, int parameters)
    {
        var explained = 0.0;
        for (var c = 0; c < beta.Length; c++) explained += beta[c] * projections[c];
        return Math.Max(yy - explained, 0) / Math.Max(1, n - parameters);
    }

    private (double[] Beta, int[] Index, double[,] Inverse)? Solve(bool[] active, double[,] gram, double[] projections)
    {
        var index = Enumerable.Range(0, Count).Where(c => active[c]).ToArray();
        var m = index.Length;
        var sub = new double[m, m];
        for (var i = 0; i < m; i++)
        for (var j = 0; j < m; j++) sub[i, j] = gram[index[i], index[j]];
        double[,] inverse;
        try { inverse = LinearAlgebra.InvertSymmetricPositiveDefinite(sub, "XRD phase basis"); }
        catch (InvalidOperationException) { return null; }
        var beta = new double[Count];
        for (var i = 0; i < m; i++)
        {
            var s = 0.0;
            for (var j = 0; j < m; j++) s += inverse[i, j] * projections[index[j]];
            beta[index[i]] = s;
        }
        return (beta, index, inverse);
    }

    private int Column(int phase, ColumnKind kind)
    {
        for (var c = 0; c < Count; c++) if (_kinds[c] == (phase, kind)) return c;
        return -1;
    }

    /// <summary>Covariance of two columns' coefficients in the original (counts) scale; 0 for a column left out.</summary>
    private double Covariance(LinearFit fit, int a, int b)
    {
        var i = Array.IndexOf(fit.Index, a);
        var j = Array.IndexOf(fit.Index, b);
        if (i < 0 || j < 0) return 0;
        return fit.ResidualVariance * fit.Inverse[i, j] / (_scale[a] * _scale[b]);
    }

    private double Amount(double[] beta, int phase) => Math.Max(0, beta[Column(phase, ColumnKind.Amount)] / _scale[Column(phase, ColumnKind.Amount)]);

    /// <summary>The phase's linearised shift from the basis' strain: its derivative's coefficient over its amount.</summary>
    public double Shift(LinearFit fit, int phase) => ShiftWithSigma(fit, phase).Shift;

    public (double Shift, double Sigma) ShiftWithSigma(LinearFit fit, int phase)
    {
        var amountColumn = Column(phase, ColumnKind.Amount);
        var strainColumn = Column(phase, ColumnKind.Strain);
        var amount = Amount(fit.Beta, phase);
        if (strainColumn < 0 || !fit.Active[strainColumn] || !(amount > 0)) return (0, double.NaN);
        var c = fit.Beta[strainColumn] / _scale[strainColumn];
        var shift = c / amount;
        // Delta method on c / a.
        var variance = (Covariance(fit, strainColumn, strainColumn) - 2 * shift * Covariance(fit, strainColumn, amountColumn)
                        + shift * shift * Covariance(fit, amountColumn, amountColumn)) / (amount * amount);
        return (shift, Math.Sqrt(Math.Max(0, variance)));
    }

    public (double Total, double Sigma) TotalAmount(LinearFit fit)
    {
        double total = 0, variance = 0;
        for (var p = 0; p < _phases; p++)
        {
            total += Amount(fit.Beta, p);
            for (var q = 0; q < _phases; q++) variance += Covariance(fit, Column(p, ColumnKind.Amount), Column(q, ColumnKind.Amount));
        }
        return (total, Math.Sqrt(Math.Max(0, variance)));
    }

    /// <summary>Each phase's share of the amounts, with its variance by the delta method from the amounts' covariance.</summary>
    public (double Value, double Variance)[] Fractions(LinearFit fit)
    {
        var amounts = Enumerable.Range(0, _phases).Select(p => Amount(fit.Beta, p)).ToArray();
        var total = amounts.Sum();
        var result = new (double, double)[_phases];
        for (var p = 0; p < _phases; p++)
        {
            // ∂f_p/∂a_q = (δ_pq · S − a_p) / S².
            var gradient = Enumerable.Range(0, _phases).Select(q => ((q == p ? total : 0) - amounts[p]) / (total * total)).ToArray();
            var variance = 0.0;
            for (var q = 0; q < _phases; q++)
            for (var r = 0; r < _phases; r++)
                variance += gradient[q] * gradient[r] * Covariance(fit, Column(q, ColumnKind.Amount), Column(r, ColumnKind.Amount));
            result[p] = (amounts[p] / total, Math.Max(0, variance));
        }
        return result;
    }

    /// <summary>
    /// Block-robust (sandwich) variances of the fractions: Cov β = (XᵀX)⁻¹ (Σ_k g_k g_kᵀ) (XᵀX)⁻¹ with g_k = X_kᵀ r_k, the score of
    /// block k. The residuals of neighbouring bins are correlated where the references' intensities or widths are off; summing
    /// the scores per block before squaring lets that correlation, not only counting noise, set the σ.
    /// </summary>
    public double[] SandwichVariances(LinearFit fit)
    {
        var p = Count;
        var index = fit.Index;
        var m = index.Length;
        var meat = new double[m, m];
        foreach (var (gram, projections) in _blockGram.Zip(fit.BlockProjections))
        {
            var score = new double[m];
            for (var i = 0; i < m; i++)
            {
                var s = projections[index[i]];
                for (var c = 0; c < p; c++) s -= gram[index[i], c] * fit.Beta[c];
                score[i] = s;
            }
            for (var i = 0; i < m; i++)
            for (var j = 0; j < m; j++) meat[i, j] += score[i] * score[j];
        }
        // Cov = Inv · meat · Inv, in the original scale.
        var cov = new double[m, m];
        for (var i = 0; i < m; i++)
        for (var j = 0; j < m; j++)
        {
            var s = 0.0;
            for (var a = 0; a < m; a++)
            for (var b = 0; b < m; b++) s += fit.Inverse[i, a] * meat[a, b] * fit.Inverse[b, j];
            cov[i, j] = s;
        }
        var amounts = Enumerable.Range(0, _phases).Select(q => Amount(fit.Beta, q)).ToArray();
        var total = amounts.Sum();
        var position = Enumerable.Range(0, _phases).Select(q => Array.IndexOf(index, Column(q, ColumnKind.Amount))).ToArray();
        var result = new double[_phases];
        for (var q = 0; q < _phases; q++)
        {
            var variance = 0.0;
            for (var a = 0; a < _phases; a++)
            for (var b = 0; b < _phases; b++)
            {
                var ga = ((a == q ? total : 0) - amounts[q]) / (total * total);
                var gb = ((b == q ? total : 0) - amounts[q]) / (total * total);
                var ca = Column(a, ColumnKind.Amount);
                var cb = Column(b, ColumnKind.Amount);
                variance += ga * gb * cov[position[a], position[b]] / (_scale[ca] * _scale[cb]);
            }
            result[q] = Math.Max(0, variance);
        }
        return result;
    }

    /// <summary>√(residual energy beyond the noise / energy of the fitted phase signal).</summary>
    public double Unexplained(LinearFit fit, double[] y, double noiseVariance)
    {
        var signal = 0.0;
        for (var i = 0; i < Count; i++)
        for (var j = 0; j < Count; j++)
            if (_kinds[i].Kind != ColumnKind.Background && _kinds[j].Kind != ColumnKind.Background)
                signal += fit.Beta[i] * fit.Beta[j] * _gram[i, j];
        var excess = Math.Max(0, fit.Rss - y.Length * noiseVariance);
        return signal > 0 ? Math.Sqrt(excess / signal) : double.PositiveInfinity;
    }
}

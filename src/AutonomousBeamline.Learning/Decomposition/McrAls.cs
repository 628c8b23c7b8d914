using MathNet.Numerics.LinearAlgebra;

namespace AutonomousBeamline.Learning.Decomposition;

/// <summary>A resolved mixture: D ≈ C·S with C (frames × components) and S (components × channels) non-negative, each
/// component scaled to unit area so that a score is the signal (counts, or μ·channels) the component contributes.</summary>
internal sealed record McrSolution(Matrix<double> Scores, Matrix<double> Components, double ResidualNorm, int Iterations);

/// <summary>
/// Multivariate curve resolution by alternating least squares (Tauler; de Juan and Tauler, Anal. Chim. Acta 500, 2003):
/// alternately the scores of every frame and the intensity of every channel, each a non-negative least-squares problem,
/// until the residual stops falling. It starts from the components it is given (the previous solution when a frame
/// arrives, so an update is a few sweeps, not a refit), and stops after <c>maxIterations</c> whatever happens, which
/// bounds an update's work.
/// </summary>
internal static class McrAls
{
    public static McrSolution Resolve(Matrix<double> data, Matrix<double> initialComponents, int maxIterations, double tolerance)
    {
        var s = Normalised(initialComponents.Clone(), null);
        Matrix<double> c = FitScores(data, s);
        var previous = double.PositiveInfinity;
        var iterations = 0;
        double residual = (data - c * s).FrobeniusNorm();
        while (iterations < maxIterations)
        {
            iterations++;
            s = FitComponents(data, c, s);
            c = FitScores(data, s);
            s = Normalised(s, c);
            residual = (data - c * s).FrobeniusNorm();
            if (previous - residual <= tolerance * Math.Max(residual, 1e-300)) break;
            previous = residual;
        }
        return new McrSolution(c, s, residual, iterations);
    }

    /// <summary>Each frame's non-negative scores on the components.</summary>
    public static Matrix<double> FitScores(Matrix<double> data, Matrix<double> components)
    {
        var gram = components * components.Transpose();
        var rhs = data * components.Transpose();
        var scores = Matrix<double>.Build.Dense(data.RowCount, components.RowCount);
        for (var i = 0; i < data.RowCount; i++) scores.SetRow(i, GramNnls.Solve(gram, rhs.Row(i).ToArray()));
        return scores;
    }

    /// <summary>Each channel's non-negative intensity in every component. A component no frame scores on keeps its previous
    /// shape: the data say nothing about it this sweep, and a zero shape could never be scored again.</summary>
    private static Matrix<double> FitComponents(Matrix<double> data, Matrix<double> scores, Matrix<double> previous)
    {
        var gram = scores.Transpose() * scores;
        var rhs = scores.Transpose() * data;
        var components = Matrix<double>.Build.Dense(scores.ColumnCount, data.ColumnCount);
        for (var j = 0; j < data.ColumnCount; j++) components.SetColumn(j, GramNnls.Solve(gram, rhs.Column(j).ToArray()));
        for (var k = 0; k < components.RowCount; k++)
            if (!(gram[k, k] > 0) || !(components.Row(k).Sum() > 0)) components.SetRow(k, previous.Row(k));
        return components;
    }

    /// <summary>Each component scaled to unit area (its score scaled inversely, so C·S is unchanged); an all-zero component is left as it is.</summary>
    private static Matrix<double> Normalised(Matrix<double> components, Matrix<double>? scores)
    {
        for (var k = 0; k < components.RowCount; k++)
        {
            var area = components.Row(k).Sum();
            if (!(area > 0)) continue;
            components.SetRow(k, components.Row(k) / area);
            if (scores is not null) scores.SetColumn(k, scores.Column(k) * area);
        }
        return components;
    }
}

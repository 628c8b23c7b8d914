using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Learning.Decomposition;

/// <summary>
/// What the decomposition is given of a diffraction pattern whose references follow a moving phase (a solid solution), and
/// how its components' shares are read back. A decomposition resolves fixed shapes; a phase whose peaks move across its window
/// by about their width takes one component per position and leaves a new phase beside it none (docs/materials.md). The
/// reference fit follows the moving phase frame by frame, so what it leaves holds the new phase at a fixed place, plus the
/// references' own mismatch, which is small beside a phase they do not have: on the layered-oxide rehearsal the new phase's
/// singular value in the window of residuals is 14,000 against 385 for the largest of the mismatch.
/// </summary>
public static class ReferenceResidual
{
    /// <summary>
    /// The frame's residual after the reference fit, each channel divided by the square root of the counts the fit expects
    /// there (at least 1): counting noise of one level everywhere, as the decomposition's Gaussian noise model assumes.
    /// The header is the frame's own, so the residual stays on the frame's axis.
    /// </summary>
    public static Frame Of(Frame frame, ReferenceExplanation explained)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(explained);
        var counts = frame.Intensities;
        if (explained.Fitted.Length != counts.Length)
            throw new ArgumentException($"the reference fit has {explained.Fitted.Length} channels and the frame {counts.Length}", nameof(explained));
        var residual = new float[counts.Length];
        for (var j = 0; j < counts.Length; j++) residual[j] = (float)((counts[j] - explained.Fitted[j]) / Weight(explained.Fitted[j]));
        return frame with { Intensities = residual };
    }

    /// <summary>
    /// The components' shares of the frame's diffracted signal instead of their shares of the residual: each component's
    /// counts (its score times its shape, weighted back) over the phases' fitted counts plus every component's. Where the
    /// references explain a frame, a component of their mismatch would otherwise take a share of 1 of what little is left.
    /// </summary>
    public static FrameComponents InSharesOfTheSignal(FrameComponents components, ReferenceExplanation explained)
    {
        ArgumentNullException.ThrowIfNull(components);
        ArgumentNullException.ThrowIfNull(explained);
        var update = components.Update;
        var unit = update.Components.ToDictionary(c => c.Id, c =>
        {
            double sum = 0;
            for (var j = 0; j < c.Shape.Count && j < explained.Fitted.Length; j++) sum += c.Shape[j] * Weight(explained.Fitted[j]);
            return sum;
        });
        var counts = update.Scores.ToDictionary(s => s.Id, s => s.Score * unit.GetValueOrDefault(s.Id));
        var total = Math.Max(0, explained.Phases.Sum()) + counts.Values.Where(v => v > 0).Sum();
        var scoreTotal = update.Scores.Sum(s => s.Score);
        var scores = update.Scores.Select(s => s with
        {
            Fraction = total > 0 ? Math.Max(0, counts[s.Id]) / total : 0,
            // The decomposition's σ of a share is the score's σ over the sum of scores; the score's σ goes over to counts alike.
            FractionSigma = total > 0 && double.IsFinite(s.FractionSigma) ? s.FractionSigma * scoreTotal * unit.GetValueOrDefault(s.Id) / total : double.PositiveInfinity,
        }).ToList();
        var byId = scores.ToDictionary(s => s.Id);
        return components with
        {
            Update = update with { Scores = scores },
            Summaries = components.Summaries.Select(c => byId.TryGetValue(c.Id, out var s) ? c with { Fraction = s.Fraction } : c).ToList(),
        };
    }

    private static double Weight(double expected) => Math.Sqrt(Math.Max(expected, 1));
}

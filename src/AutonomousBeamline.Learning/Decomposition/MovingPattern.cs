using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Materials;

namespace AutonomousBeamline.Learning.Decomposition;

/// <summary>
/// Components that are pieces of one reflection: their strongest peaks overlap, one after another, as a reflection that moves
/// continuously across the window (a solid solution's lattice changing as it charges) is cut into one component per position.
/// </summary>
/// <param name="Ids">The components, smallest d-spacing of their strongest peak first.</param>
/// <param name="PeaksFrom">Where the first one's strongest peak is, on the frames' axis.</param>
/// <param name="PeaksTo">Where the last one's is.</param>
/// <param name="StrainSpan">The relative change of the d-spacing from the first peak to the last.</param>
public sealed record MovingPattern(IReadOnlyList<int> Ids, double PeaksFrom, double PeaksTo, double StrainSpan);

/// <summary>
/// Finds the components a decomposition has cut a moving reflection into. A decomposition resolves fixed shapes; a phase whose
/// peaks move across the window by about their own width takes one component per position, and none of those components'
/// scores is an amount of anything. Distinct phases each have their strongest reflection somewhere of their own: two may
/// overlap (two phases of one structure a small strain apart), but three or more whose strongest peaks overlap one after
/// another are one reflection in pieces. (Moving one component's whole shape onto another's was tried first: the pieces ALS
/// makes of a moving peak are lobes, not shifted copies, and correlate 0.7–0.9 once moved, no better than unrelated shapes
/// that happen to share a peak.)
/// </summary>
public static class MovingPatterns
{
    /// <summary>The fewest components in a chain of overlapping peaks that counts as one reflection in pieces.</summary>
    public const int MinimumChain = 3;

    /// <summary>
    /// The chains of components whose strongest peaks overlap one after another on a diffraction axis (neighbours closer than
    /// the mean of their full widths at half maximum); none on any other axis (an absorption edge that moves is not looked for).
    /// </summary>
    /// <param name="axis">The frames' axis, one value per channel, ascending.</param>
    /// <param name="name">The axis' name as the detector describes it (2θ or q); with <paramref name="unit"/>, how to read d from it.</param>
    public static IReadOnlyList<MovingPattern> Find(IReadOnlyList<ResolvedComponent> components, IReadOnlyList<double> axis, string name, string unit)
    {
        ArgumentNullException.ThrowIfNull(components);
        ArgumentNullException.ThrowIfNull(axis);
        if (components.Count < MinimumChain || axis.Count < 2) return [];
        if (DiffractionAxis.TryFrom(new UniformAxis(axis.Count, name, unit, axis[0], axis[1] - axis[0]), out _) is not { } diffraction) return [];
        // Any wavelength: the ratio of two d-spacings does not depend on it.
        var beam = new XrayBeam(1.0);

        var peaks = components.Select(c => StrongestPeak(c.Shape, axis)).Select((p, r) => (p.Centre, p.Width, Row: r))
            .Where(p => p.Width > 0).OrderBy(p => p.Centre).ToList();
        var chains = new List<MovingPattern>();
        var chain = new List<(double Centre, double Width, int Row)>();
        void Close()
        {
            if (chain.Count >= MinimumChain)
            {
                var (first, last) = (chain[0].Centre, chain[^1].Centre);
                var (dFirst, dLast) = (diffraction.DSpacingAt(first, beam), diffraction.DSpacingAt(last, beam));
                var ids = chain.OrderBy(p => diffraction.DSpacingAt(p.Centre, beam)).Select(p => components[p.Row].Id).ToList();
                chains.Add(new MovingPattern(ids, first, last, Math.Abs(dLast - dFirst) / Math.Min(dFirst, dLast)));
            }
            chain.Clear();
        }
        foreach (var peak in peaks)
        {
            if (chain.Count > 0 && peak.Centre - chain[^1].Centre >= (peak.Width + chain[^1].Width) / 2) Close();
            chain.Add(peak);
        }
        Close();
        return chains;
    }

    /// <summary>The shape's largest channel and the full width at half maximum about it (by linear interpolation where the
    /// shape crosses half its maximum; to the axis' end where it does not).</summary>
    private static (double Centre, double Width) StrongestPeak(IReadOnlyList<double> shape, IReadOnlyList<double> axis)
    {
        var top = 0;
        for (var j = 1; j < shape.Count; j++) if (shape[j] > shape[top]) top = j;
        var half = shape[top] / 2;
        if (!(half > 0)) return (axis[top], 0);
        double Crossing(int step)
        {
            var j = top;
            while (j + step >= 0 && j + step < shape.Count && shape[j + step] > half) j += step;
            var k = j + step;
            if (k < 0 || k >= shape.Count) return axis[j];
            var t = (shape[j] - half) / (shape[j] - shape[k]);
            return axis[j] + t * (axis[k] - axis[j]);
        }
        return (axis[top], Math.Abs(Crossing(1) - Crossing(-1)));
    }
}

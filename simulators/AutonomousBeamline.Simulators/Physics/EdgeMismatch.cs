using AutonomousBeamline.Core.Materials;

namespace AutonomousBeamline.Simulators.Physics;

/// <summary>
/// A sample whose absorption edges are not quite the analyser's references, for asking whether the σ of a fraction owns up to
/// it: each reference's white-line height (<see cref="WhiteLines"/>), edge and white-line widths (<see cref="Widths"/>) are off by
/// a relative amount drawn anew for each of them between <see cref="Low"/> and <see cref="High"/>, of either sign, and its edge
/// is moved by up to ± <see cref="MaximumShiftEv"/> (each reference by its own amount).
/// </summary>
public sealed record EdgeMismatch(bool WhiteLines = false, bool Widths = false, double MaximumShiftEv = 0, double Low = 0.10, double High = 0.20)
{
    public static EdgeMismatch None { get; } = new();

    /// <summary>The sample's edges for these references, drawn from <paramref name="rng"/>.</summary>
    public FeEdgeShape[] Apply(IReadOnlyList<FeEdgeShape> references, Random rng)
    {
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(rng);
        return references.Select(r => r with
        {
            WhiteLineHeight = WhiteLines ? r.WhiteLineHeight * Off(rng) : r.WhiteLineHeight,
            EdgeWidthEv = Widths ? r.EdgeWidthEv * Off(rng) : r.EdgeWidthEv,
            WhiteLineWidthEv = Widths ? r.WhiteLineWidthEv * Off(rng) : r.WhiteLineWidthEv,
            EdgeEv = r.EdgeEv + MaximumShiftEv * (2 * rng.NextDouble() - 1),
        }).ToArray();
    }

    private double Off(Random rng) => 1 + (rng.NextDouble() < 0.5 ? -1 : 1) * (Low + (High - Low) * rng.NextDouble());
}

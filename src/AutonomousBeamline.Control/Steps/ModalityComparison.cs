using System.Globalization;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Control.Steps;

/// <summary>
/// Where diffraction and absorption measure the same spot at nearly the same state of charge, every fraction both give
/// (a diffraction phase and an absorption reference of the same name, as the built-in LiFePO4/FePO4 pair are) is compared
/// and the difference journalled, with its z-score where both sides have a σ. The map is not touched: it learns one
/// target from one modality, and the other stays a separate record, never pooled into it.
/// </summary>
/// <param name="spotToleranceMm">How close two frames' positions must be to be the same spot (within the beam footprint).</param>
/// <param name="socTolerance">How close their states of charge must be for the electrode not to have moved on between them.</param>
public sealed class ModalityComparison(double spotToleranceMm = 0.05, double socTolerance = 0.02)
{
    /// <summary>A |z| above this is a disagreement worth telling the operator about, not noise.</summary>
    public const double DisagreementZ = 3;

    private const string Fraction = "fraction:";
    private readonly Dictionary<FrameKind, List<Observation>> _latest = new() { [FrameKind.Xrd] = [], [FrameKind.Xas] = [] };

    /// <summary>Remembers <paramref name="o"/> and compares it with the other modality's latest frame at its spot.</summary>
    public IReadOnlyList<ModalitiesCompared> Compare(Observation o)
    {
        if (!_latest.TryGetValue(o.Kind, out var mine)) return [];
        mine.RemoveAll(p => SameSpot(p, o));
        mine.Add(o);
        var otherKind = o.Kind == FrameKind.Xrd ? FrameKind.Xas : FrameKind.Xrd;
        var other = _latest[otherKind].LastOrDefault(p => SameSpot(p, o) && Math.Abs(p.StateOfCharge - o.StateOfCharge) <= socTolerance);
        if (other is null) return [];
        var (xrd, xas) = o.Kind == FrameKind.Xrd ? (o, other) : (other, o);
        var compared = new List<ModalitiesCompared>();
        foreach (var (key, x) in xrd.Features ?? new Dictionary<string, double>())
        {
            if (!key.StartsWith(Fraction, StringComparison.Ordinal) || xas.Features?.GetValueOrDefault(key, double.NaN) is not { } a || !double.IsFinite(a)) continue;
            var name = key[Fraction.Length..];
            double? sx = xrd.Features!.TryGetValue("fraction_sigma:" + name, out var s) && s > 0 ? s : null;
            // The absorption analysis gives one σ for its shares (the reported one's; a two-reference share has the same).
            double? sa = xas.PhaseFractionSigma is > 0 and var t && double.IsFinite(t) ? t : null;
            var difference = a - x;
            double? z = sx is { } u && sa is { } v ? difference / Math.Sqrt(u * u + v * v) : null;
            compared.Add(new ModalitiesCompared(o.XMm, o.YMm, o.StateOfCharge, $"fraction of {name}", xrd.Frame, x, sx, xas.Frame, a, sa, difference, z));
        }
        return compared;
    }

    private bool SameSpot(Observation a, Observation b) =>
        Math.Abs(a.XMm - b.XMm) <= spotToleranceMm && Math.Abs(a.YMm - b.YMm) <= spotToleranceMm;

    /// <summary>What the operator should hear of a comparison, or null when the two agree within their σ.</summary>
    public static string? Disagreement(ModalitiesCompared c) =>
        c.Z is { } z && Math.Abs(z) > DisagreementZ
            ? string.Create(CultureInfo.InvariantCulture,
                $"XRD and XAS disagree on the {c.Quantity} at ({c.XMm:0.###}, {c.YMm:0.###}) mm: {c.Xrd:0.000} vs {c.Xas:0.000} (z {z:0.0}); check the references of both")
            : null;
}

namespace AutonomousBeamline.Core.Materials;

/// <summary>
/// The shape of one normalised K-edge (analytic, after the Fe K-edge of the built-in olivines): an arctangent step centred on <see cref="EdgeEv"/> rising from 0
/// to 1, a Gaussian white line just above it and a weak pre-edge (1s→3d) peak below it.
/// </summary>
public sealed record FeEdgeShape(double EdgeEv, double EdgeWidthEv, double WhiteLineOffsetEv, double WhiteLineHeight,
    double WhiteLineWidthEv, double PreEdgeEv, double PreEdgeHeight) : IAbsorptionReference
{
    /// <summary>What the fit and the journal call this reference.</summary>
    public string Name { get; init; } = "edge";

    private const double PreEdgeWidthEv = 1.0;

    public double WhiteLineEv => EdgeEv + WhiteLineOffsetEv;

    /// <summary>Normalised absorption at <paramref name="energyEv"/>: 0 well below the edge, 1 well above.</summary>
    public double Mu(double energyEv)
    {
        var step = 0.5 + Math.Atan(2 * (energyEv - EdgeEv) / EdgeWidthEv) / Math.PI;
        var w = (energyEv - WhiteLineEv) / WhiteLineWidthEv;
        var whiteLine = WhiteLineHeight * Math.Exp(-0.5 * w * w);
        var p = (energyEv - PreEdgeEv) / PreEdgeWidthEv;
        var preEdge = PreEdgeHeight * Math.Exp(-0.5 * p * p);
        return step + whiteLine + preEdge;
    }
}

/// <summary>
/// The Fe K-edge of the LiFePO4 (Fe2+) / FePO4 (Fe3+) electrode. A mixture is linear in the Fe3+ fraction,
/// which is what makes a two-component linear combination fit of a measured spectrum meaningful.
/// </summary>
public sealed class FeKEdgeModel(FeEdgeShape reduced, FeEdgeShape oxidised)
{
    /// <summary>Fe2+ (LiFePO4).</summary>
    public FeEdgeShape Reduced { get; } = reduced;

    /// <summary>Fe3+ (FePO4).</summary>
    public FeEdgeShape Oxidised { get; } = oxidised;

    public double Mu(double energyEv, double oxidisedFraction)
    {
        var f = Math.Clamp(oxidisedFraction, 0, 1);
        return (1 - f) * Reduced.Mu(energyEv) + f * Oxidised.Mu(energyEv);
    }

    /// <summary>
    /// The edge energy as an analyser defines it, the maximum of dμ/dE, found on a fine grid. The white line's
    /// rising flank moves it a little away from the arctangent centre, so comparisons use this, not the parameter.
    /// </summary>
    public double EdgeEnergyEv(double oxidisedFraction, double resolutionEv = 0.001)
    {
        var from = Reduced.EdgeEv - 5;
        var to = Oxidised.EdgeEv + 5;
        var best = from;
        var bestSlope = double.NegativeInfinity;
        for (var e = from; e <= to; e += resolutionEv)
        {
            var slope = (Mu(e + resolutionEv / 2, oxidisedFraction) - Mu(e - resolutionEv / 2, oxidisedFraction)) / resolutionEv;
            if (slope > bestSlope) { bestSlope = slope; best = e; }
        }
        return best;
    }
}

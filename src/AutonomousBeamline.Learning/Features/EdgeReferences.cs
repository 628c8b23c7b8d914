using AutonomousBeamline.Core.Materials;

namespace AutonomousBeamline.Learning.Features;

/// <summary>
/// The absorption analyser's view of the configured edge: where to look for E0 (from the references' own edges, or from the
/// edge table when there are none) and the mixture of the first and last references that a sparse scan is fitted with.
/// </summary>
internal sealed class EdgeReferences
{
    // A compound's edge sits above the element's tabulated (metal) edge by its oxidation state: up to about 15 eV.
    private const double ChemicalShiftRangeEv = 15;

    public EdgeReferences(AbsorptionMaterials materials)
    {
        Edge = materials.Edge;
        References = materials.References;
        if (References.Count == 0)
        {
            LowEdgeEv = Edge.EnergyEv;
            HighEdgeEv = Edge.EnergyEv + ChemicalShiftRangeEv;
            return;
        }
        var edges = References.Select(EdgeOf).ToArray();
        LowEdgeEv = edges.Min();
        HighEdgeEv = edges.Max();
    }

    public AbsorptionEdge Edge { get; }
    public IReadOnlyList<IAbsorptionReference> References { get; }
    public double LowEdgeEv { get; }
    public double HighEdgeEv { get; }
    public bool HasMixture => References.Count >= 2;
    public IAbsorptionReference First => References[0];
    public IAbsorptionReference Last => References[^1];

    public double Mu(double energyEv, double fraction) => Mu(energyEv, fraction, 0, 0);

    /// <summary>The mixture with the first reference moved up in energy by <paramref name="firstShiftEv"/> and the last by <paramref name="lastShiftEv"/>.</summary>
    public double Mu(double energyEv, double fraction, double firstShiftEv, double lastShiftEv)
    {
        var f = Math.Clamp(fraction, 0, 1);
        return (1 - f) * First.Mu(energyEv - firstShiftEv) + f * Last.Mu(energyEv - lastShiftEv);
    }

    /// <summary>The mixture's E0 (maximum of dμ/dE) on a fine grid, as a dense scan's analysis would find it.</summary>
    public double EdgeEnergyEv(double fraction, double resolutionEv = 0.001) => EdgeEnergyEv(fraction, 0, 0, resolutionEv);

    /// <summary>The E0 of the mixture with its references moved (<see cref="Mu(double, double, double, double)"/>).</summary>
    public double EdgeEnergyEv(double fraction, double firstShiftEv, double lastShiftEv, double resolutionEv = 0.001) =>
        MaximumSlope(e => Mu(e, fraction, firstShiftEv, lastShiftEv), LowEdgeEv - 5, HighEdgeEv + 5, resolutionEv);

    private double EdgeOf(IAbsorptionReference reference) => reference switch
    {
        FeEdgeShape analytic => analytic.EdgeEv,
        // A measured reference: its own derivative maximum near the tabulated edge.
        _ => MaximumSlope(reference.Mu, Edge.EnergyEv - 10, Edge.EnergyEv + 10 + ChemicalShiftRangeEv, 0.01),
    };

    private static double MaximumSlope(Func<double, double> mu, double from, double to, double resolutionEv)
    {
        var best = from;
        var bestSlope = double.NegativeInfinity;
        for (var e = from; e <= to; e += resolutionEv)
        {
            var slope = mu(e + resolutionEv / 2) - mu(e - resolutionEv / 2);
            if (slope > bestSlope) { bestSlope = slope; best = e; }
        }
        return best;
    }
}

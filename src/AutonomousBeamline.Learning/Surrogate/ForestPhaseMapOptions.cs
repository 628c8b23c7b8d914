namespace AutonomousBeamline.Learning.Surrogate;

/// <summary>Settings of the random-forest surrogate. Defaults suit tens to a few thousand observations.</summary>
/// <param name="NumberOfTrees">Trees in the forest; their disagreement is the spread.</param>
/// <param name="NumberOfLeaves">Leaves per tree; modest, because the data are few.</param>
/// <param name="MinimumExampleCountPerLeaf">Small, so a handful of observations still splits.</param>
/// <param name="Seed">Bagging seed: the same observations and seed give the same forest.</param>
/// <param name="MinimumObservations">Below this many usable observations there is no model.</param>
/// <param name="LengthScaleMm">Distance on the electrode that counts as one unit in the distance term.</param>
/// <param name="StateOfChargeScale">State-of-charge difference that counts as one unit in the distance term.</param>
/// <param name="DistanceSpreadPerUnit">Spread added per unit of distance to the nearest observation. Tree
/// disagreement does not grow away from the data (a tree extends its edge leaf forever), so this term is what
/// makes an unexplored corner uncertain. 0 switches it off. On a fraction's scale: for a target in its own unit (<see cref="MapValues.Raw"/>)
/// it is multiplied by the values' <see cref="ValueScale"/>.</param>
/// <param name="MaximumDistanceUnits">Caps the distance term, so the spread stays on the scale of the values.</param>
/// <param name="LearnDeviationFromStateOfCharge">Fit the trees to (phase fraction − cell state of charge) and add the state of
/// charge back when predicting. In the two-phase LiFePO4 reaction the FePO4 fraction follows the local state of charge, so the
/// cell average is the right first guess everywhere and the trees only have to learn the inhomogeneity, which piecewise-constant
/// trees do far better with few points than the whole steep trend along the state-of-charge axis.</param>
/// <param name="NormaliseByTwoPhaseWeight">Go one step further with the same physics: the inhomogeneity vanishes at an empty and a
/// full cell and is largest half way, so the trees learn (phase fraction − soc) / (4·soc·(1 − soc)) over (x, y, |C-rate|). That
/// quantity does not depend on the state of charge, so every frame, whenever it was taken, informs the same map, and the past is
/// not wasted as the cell moves on. Implies learning the deviation from the state of charge.</param>
/// <param name="MinimumTwoPhaseWeight">Frames where 4·soc·(1 − soc) is below this (a nearly empty or full cell) say almost nothing
/// about the shape of the inhomogeneity and would amplify noise when normalised; they are left out of a normalised fit.</param>
/// <param name="CRateScale">C-rate difference that counts as one distance unit when the C-rate is a model input.</param>
public sealed record ForestPhaseMapOptions(
    int NumberOfTrees = 60,
    int NumberOfLeaves = 24,
    int MinimumExampleCountPerLeaf = 2,
    int Seed = 1,
    int MinimumObservations = 4,
    double LengthScaleMm = 5.0,
    double StateOfChargeScale = 0.2,
    double DistanceSpreadPerUnit = 0.05,
    double MaximumDistanceUnits = 4.0,
    bool LearnDeviationFromStateOfCharge = true,
    bool NormaliseByTwoPhaseWeight = true,
    double MinimumTwoPhaseWeight = 0.2,
    double CRateScale = 1.0)
{
    public static ForestPhaseMapOptions Default { get; } = new();

    /// <summary>What the trees learn from a value: the two-phase shape, the deviation from the state of charge, or the value itself.</summary>
    public MapValues Values => NormaliseByTwoPhaseWeight ? MapValues.TwoPhaseShape
        : LearnDeviationFromStateOfCharge ? MapValues.DeviationFromStateOfCharge : MapValues.Raw;

    internal void Validate()
    {
        if (NumberOfTrees < 1) throw new ArgumentOutOfRangeException(nameof(NumberOfTrees), NumberOfTrees, "need at least one tree");
        if (NumberOfLeaves < 2) throw new ArgumentOutOfRangeException(nameof(NumberOfLeaves), NumberOfLeaves, "need at least two leaves");
        if (MinimumExampleCountPerLeaf < 1) throw new ArgumentOutOfRangeException(nameof(MinimumExampleCountPerLeaf), MinimumExampleCountPerLeaf, "must be >= 1");
        if (MinimumObservations < 2) throw new ArgumentOutOfRangeException(nameof(MinimumObservations), MinimumObservations, "must be >= 2");
        if (!(LengthScaleMm > 0)) throw new ArgumentOutOfRangeException(nameof(LengthScaleMm), LengthScaleMm, "must be positive");
        if (!(StateOfChargeScale > 0)) throw new ArgumentOutOfRangeException(nameof(StateOfChargeScale), StateOfChargeScale, "must be positive");
        if (!(DistanceSpreadPerUnit >= 0)) throw new ArgumentOutOfRangeException(nameof(DistanceSpreadPerUnit), DistanceSpreadPerUnit, "must be >= 0");
        if (!(MaximumDistanceUnits > 0)) throw new ArgumentOutOfRangeException(nameof(MaximumDistanceUnits), MaximumDistanceUnits, "must be positive");
        if (!(MinimumTwoPhaseWeight > 0 && MinimumTwoPhaseWeight < 1)) throw new ArgumentOutOfRangeException(nameof(MinimumTwoPhaseWeight), MinimumTwoPhaseWeight, "must lie in (0, 1)");
        if (!(CRateScale > 0) || !double.IsFinite(CRateScale)) throw new ArgumentOutOfRangeException(nameof(CRateScale), CRateScale, "must be positive");
    }

    /// <summary>4·soc·(1 − soc): how strongly a two-phase electrode can deviate from its average at this state of charge (1 half way, 0 at the ends).</summary>
    public static double TwoPhaseWeight(double stateOfCharge)
    {
        var s = Math.Clamp(stateOfCharge, 0, 1);
        return 4 * s * (1 - s);
    }
}

using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Acquisition;

namespace AutonomousBeamline.Control.Decisions;

/// <summary>What the arbiter settled on, the override to journal when an operator's choice won, and the knobs after it.</summary>
public sealed record Arbitrated<T>(T Choice, OperatorOverride? Override, OperatorKnobs Knobs);

/// <summary>
/// Who decides: the planner proposes, the operator disposes. Pure functions of the planner's proposal and the
/// operator's knobs, in one order for every decision: a forced value (consumed by this decision) beats a held knob,
/// which beats the planner; exclusions bind everyone but a forced spot, which was checked against them when given.
/// The approval window is not decided here: the engine runs it as a state of its own.
/// </summary>
public static class DecisionArbiter
{
    /// <summary>The next spot.</summary>
    /// <exception cref="InvalidOperationException">Every spot of the ROI is excluded: nothing is left to measure.</exception>
    public static Arbitrated<Decision> Roi(Decision planned, OperatorKnobs knobs, SpotMm here, RoiPlan roi)
    {
        if (knobs.ForcedRoi is { } forced)
        {
            var by = forced.By.ToString();
            var decision = new Decision
            {
                Kind = DecisionKind.Roi,
                Values = Spot(forced.XMm, forced.YMm),
                Score = double.NaN,
                Alternatives = [new DecisionOption(planned.Values, planned.Score)],
                Reason = FormattableString.Invariant($"operator {by} forced ({forced.XMm:0.###}, {forced.YMm:0.###}) mm"),
                ModelVersion = planned.ModelVersion,
                Strategy = DecisionSource.Operator,
            };
            return new(decision, new OperatorOverride(by, OverrideKind.Roi, planned, XMm: forced.XMm, YMm: forced.YMm),
                knobs with { ForcedRoi = null });
        }

        var choice = planned;
        if (knobs.IsLocked(Knob.Roi))
        {
            choice = planned with
            {
                Values = Spot(here.X, here.Y),
                Alternatives = [new DecisionOption(planned.Values, planned.Score)],
                Reason = "the ROI is held by the operator: measuring where the sample is",
                Strategy = DecisionSource.Operator,
            };
        }
        if (knobs.ExclusionAt(X(choice.Values), Y(choice.Values)) is { } region)
        {
            // A planner that does not know the exclusions (a raster, say): its best alternative outside them, else the nearest free spot.
            var alternative = choice.Alternatives.FirstOrDefault(a => knobs.ExclusionAt(X(a.Values), Y(a.Values)) is null);
            choice = alternative is not null
                ? choice with { Values = alternative.Values, Score = alternative.Score, Reason = $"runner-up: the best spot lies in excluded region {Describe(region)}" }
                : choice with { Values = NearestFree(knobs, here, roi), Reason = "nearest spot outside the operator's excluded regions" };
        }
        return new(choice, null, knobs);
    }

    /// <summary>The next absorption scan's energies.</summary>
    /// <param name="held">The scan planned last, which a held energy knob repeats.</param>
    public static Arbitrated<EnergyScanPlan> Energies(EnergyScanPlan planned, OperatorKnobs knobs, EnergyScanPlan? held)
    {
        if (knobs.ForcedEnergies is { } forced)
        {
            var by = forced.By.ToString();
            var energies = new List<double>();
            for (var e = forced.StartEv; e <= forced.StopEv + 1e-9; e += forced.StepEv) energies.Add(Math.Round(e, 6));
            var decision = new Decision
            {
                Kind = DecisionKind.EnergyRange,
                Values = new Dictionary<string, double> { ["start_ev"] = forced.StartEv, ["stop_ev"] = forced.StopEv, ["points"] = energies.Count, ["full_range"] = 0 },
                Score = double.NaN,
                Alternatives = [new DecisionOption(planned.Decision.Values, planned.Decision.Score)],
                Reason = FormattableString.Invariant($"operator {by} set {forced.StartEv}-{forced.StopEv} eV in {forced.StepEv} eV steps"),
                ModelVersion = planned.Decision.ModelVersion,
                Strategy = DecisionSource.Operator,
            };
            return new(new EnergyScanPlan(decision, energies, false),
                new OperatorOverride(by, OverrideKind.EnergyRange, planned.Decision, StartEv: forced.StartEv, StopEv: forced.StopEv, StepEv: forced.StepEv),
                knobs with { ForcedEnergies = null });
        }
        if (knobs.IsLocked(Knob.EnergyRange) && held is not null)
            return new(held with { Decision = held.Decision with { Reason = "energy range held by the operator", Strategy = DecisionSource.Operator } }, null, knobs);
        return new(planned, null, knobs);
    }

    public static IReadOnlyDictionary<string, double> Spot(double x, double y) => new Dictionary<string, double> { ["x_mm"] = x, ["y_mm"] = y };

    public static string Describe(RoiRectangle r) => FormattableString.Invariant($"x [{r.XMinMm}, {r.XMaxMm}], y [{r.YMinMm}, {r.YMaxMm}] mm");

    private static double X(IReadOnlyDictionary<string, double> values) => values["x_mm"];

    private static double Y(IReadOnlyDictionary<string, double> values) => values["y_mm"];

    private static IReadOnlyDictionary<string, double> NearestFree(OperatorKnobs knobs, SpotMm here, RoiPlan roi)
    {
        var free = new RoiSearchSpace(roi.XMinMm, roi.XMaxMm, roi.YMinMm, roi.YMaxMm, roi.StepMm).GridPoints()
            .Where(p => knobs.ExclusionAt(p.X, p.Y) is null)
            .OrderBy(p => Math.Pow(p.X - here.X, 2) + Math.Pow(p.Y - here.Y, 2))
            .Select(p => ((double X, double Y)?)p)
            .FirstOrDefault()
            ?? throw new InvalidOperationException("every spot of the ROI is excluded; nothing is left to measure");
        return Spot(free.X, free.Y);
    }
}

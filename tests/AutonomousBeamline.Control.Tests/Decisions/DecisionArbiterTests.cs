using AutonomousBeamline.Control.Decisions;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Acquisition;

namespace AutonomousBeamline.Control.Tests.Decisions;

/// <summary>Who decides: a forced value, then a held knob, then the planner; exclusions bind all but a forced spot.</summary>
public sealed class DecisionArbiterTests
{
    private static readonly OperatorIdentity Bob = new("bob", "hutch");
    private static readonly RoiPlan Roi = new(0, 10, 0, 10, 1);
    private static readonly OperatorKnobs Free = new() { Budget = new Budget(10, 100) };

    private static Decision Planned(double x, double y, params (double X, double Y)[] alternatives) => new()
    {
        Kind = DecisionKind.Roi, Values = DecisionArbiter.Spot(x, y), Score = 0.9,
        Alternatives = alternatives.Select(a => new DecisionOption(DecisionArbiter.Spot(a.X, a.Y), 0.5)).ToList(),
        Reason = "largest spread", ModelVersion = 7,
    };

    [Fact]
    public void The_planners_choice_stands_when_no_operator_has_said_anything()
    {
        var result = DecisionArbiter.Roi(Planned(3, 4), Free, new SpotMm(0, 0), Roi);
        Assert.Equal(Planned(3, 4).Values, result.Choice.Values);
        Assert.Null(result.Override);
    }

    [Fact]
    public void A_forced_spot_wins_is_used_up_and_names_what_it_replaced()
    {
        var knobs = Free with { ForcedRoi = new GotoRoiCommand(2.5, 7.5) { By = Bob }, Locks = [Knob.Roi] };
        var result = DecisionArbiter.Roi(Planned(3, 4), knobs, new SpotMm(1, 1), Roi);

        Assert.Equal((2.5, 7.5), (result.Choice.Values["x_mm"], result.Choice.Values["y_mm"]));
        Assert.Equal(DecisionSource.Operator, result.Choice.Strategy);
        Assert.Equal(7, result.Choice.ModelVersion);
        Assert.Null(result.Knobs.ForcedRoi);
        var taken = Assert.IsType<OperatorOverride>(result.Override);
        Assert.Equal((OverrideKind.Roi, "bob@hutch", 2.5, 7.5), (taken.What, taken.By, taken.XMm!.Value, taken.YMm!.Value));
        Assert.Equal(3, taken.Replaced.Values["x_mm"]);
    }

    [Fact]
    public void A_held_ROI_measures_where_the_sample_is_and_keeps_the_planners_choice_as_the_alternative()
    {
        var result = DecisionArbiter.Roi(Planned(3, 4), Free with { Locks = [Knob.Roi] }, new SpotMm(6, 6), Roi);
        Assert.Equal(DecisionArbiter.Spot(6, 6), result.Choice.Values);
        Assert.Equal(Planned(3, 4).Values, Assert.Single(result.Choice.Alternatives).Values);
        Assert.Contains("held by the operator", result.Choice.Reason);
    }

    [Fact]
    public void An_excluded_choice_gives_way_to_the_best_alternative_outside_else_to_the_nearest_free_spot()
    {
        var knobs = Free with { Exclusions = [new RoiRectangle(2, 5, 2, 5)] };
        var runnerUp = DecisionArbiter.Roi(Planned(3, 4, (4, 4), (8, 1)), knobs, new SpotMm(0, 0), Roi);
        Assert.Equal(DecisionArbiter.Spot(8, 1), runnerUp.Choice.Values);
        Assert.Contains("runner-up", runnerUp.Choice.Reason);

        var nearest = DecisionArbiter.Roi(Planned(3, 4), knobs, new SpotMm(4.2, 3.1), Roi);
        Assert.Equal(DecisionArbiter.Spot(6, 3), nearest.Choice.Values);
    }

    [Fact]
    public void When_every_spot_is_excluded_there_is_nothing_left_to_measure()
    {
        var knobs = Free with { Exclusions = [new RoiRectangle(-1, 11, -1, 11)] };
        var e = Assert.Throws<InvalidOperationException>(() => DecisionArbiter.Roi(Planned(3, 4), knobs, new SpotMm(0, 0), Roi));
        Assert.Contains("every spot of the ROI is excluded", e.Message);
    }

    [Fact]
    public void A_forced_energy_window_beats_a_held_one_which_beats_the_planner()
    {
        var planned = new EnergyScanPlan(new Decision
        {
            Kind = DecisionKind.EnergyRange, Values = new Dictionary<string, double> { ["start_ev"] = 7100 }, Score = 1, Alternatives = [],
            Reason = "edge", ModelVersion = 3,
        }, [7100, 7110], false);
        var held = planned with { EnergiesEv = [7120, 7130, 7140] };

        var forced = DecisionArbiter.Energies(planned, Free with { ForcedEnergies = new SetEnergyRangeCommand(7110, 7112, 0.5) { By = Bob } }, held);
        Assert.Equal([7110, 7110.5, 7111, 7111.5, 7112], forced.Choice.EnergiesEv);
        Assert.Equal(OverrideKind.EnergyRange, forced.Override!.What);
        Assert.Null(forced.Knobs.ForcedEnergies);

        var locked = DecisionArbiter.Energies(planned, Free with { Locks = [Knob.EnergyRange] }, held);
        Assert.Equal(held.EnergiesEv, locked.Choice.EnergiesEv);
        Assert.Equal(DecisionSource.Operator, locked.Choice.Decision.Strategy);

        Assert.Same(planned, DecisionArbiter.Energies(planned, Free, held).Choice);
    }
}

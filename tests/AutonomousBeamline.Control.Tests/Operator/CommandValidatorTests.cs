using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Control.Tests.Support;
using AutonomousBeamline.Learning.Acquisition;

namespace AutonomousBeamline.Control.Tests.Operator;

/// <summary>Operator commands checked against the safety window, the plan and the run as it stands, before anything is queued.</summary>
public sealed class CommandValidatorTests
{
    private static readonly OperatorIdentity Carol = new("carol", "desk");
    private static readonly RunPlan Plan = EngineRig.Plan(kinds: AcquisitionKinds.XrdAndXas);

    private static RunStatus Running(RunState state = RunState.Deciding) => new()
    {
        State = state,
        Knobs = new OperatorKnobs { Budget = Plan.Budget, Exclusions = [new RoiRectangle(0, 1, 0, 1)] },
        Counts = new RunCounts { FramesAcquired = 5, BeamTimeUsedS = 100 },
    };

    private static CommandOutcome Check(OperatorCommand c, RunStatus? status = null) => CommandValidator.Validate(c, Plan, status ?? Running());

    [Theory]
    [InlineData(11, 5, "outside the ROI")]
    [InlineData(double.NaN, 5, "outside the ROI")]
    [InlineData(0.5, 0.5, "lies in excluded region")]
    public void A_goto_outside_the_ROI_or_inside_an_exclusion_is_refused(double x, double y, string why)
    {
        var outcome = Check(new GotoRoiCommand(x, y) { By = Carol });
        Assert.False(outcome.Accepted);
        Assert.Contains(why, outcome.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(3.5)]
    [InlineData(double.PositiveInfinity)]
    public void A_C_rate_outside_the_safety_window_is_refused(double rate) =>
        Assert.Contains("outside the safety window", Check(new SetCRateCommand(rate) { By = Carol }).Message);

    [Fact]
    public void Energy_windows_must_stay_inside_the_configured_one_with_a_sane_step()
    {
        Assert.True(Check(new SetEnergyRangeCommand(7100, 7150, 0.5) { By = Carol }).Accepted);
        Assert.Contains("leaves the configured window", Check(new SetEnergyRangeCommand(7000, 7150, 0.5) { By = Carol }).Message);
        Assert.Contains("too fine", Check(new SetEnergyRangeCommand(7100, 7150, 0.001) { By = Carol }).Message);
        Assert.Contains("start < stop", Check(new SetEnergyRangeCommand(7150, 7100, 0.5) { By = Carol }).Message);
        Assert.Contains("takes no XAS", CommandValidator.Validate(new SetEnergyRangeCommand(7100, 7150, 0.5) { By = Carol }, EngineRig.Plan(), Running()).Message);
    }

    [Fact]
    public void A_budget_below_what_is_already_used_is_refused()
    {
        Assert.Contains("below the 5 already taken", Check(new SetBudgetCommand(4, null) { By = Carol }).Message);
        Assert.Contains("below the 100 s already used", Check(new SetBudgetCommand(null, 50) { By = Carol }).Message);
        Assert.True(Check(new SetBudgetCommand(20, null) { By = Carol }).Accepted);
    }

    [Fact]
    public void Commands_that_depend_on_the_state_are_refused_in_the_wrong_one()
    {
        Assert.Contains("nothing to resume", Check(new ResumeCommand { By = Carol }).Message);
        Assert.True(Check(new ResumeCommand { By = Carol }, Running(RunState.Paused)).Accepted);
        Assert.Contains("already paused", Check(new PauseCommand { By = Carol }, Running(RunState.Paused)).Message);
        Assert.Contains("no decision is waiting", Check(new VetoCommand { By = Carol }).Message);
        Assert.Contains("takes no more commands", Check(new HaltCommand { By = Carol }, Running(RunState.Completed)).Message);
    }
}

using System.Threading.Channels;
using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning;

namespace AutonomousBeamline.Control.Engine;

/// <summary>
/// Where operators meet the run (what the console's endpoint calls). Every command is checked on the caller's thread
/// and either refused with a reason or accepted; an accepted one goes to the loop's inbox, which the loop drains at its
/// safe points, except two that cannot wait for one: a halt acts at once, and a C-rate goes to the cycler that owns
/// it. Everything an operator sends is journalled with who sent it and its arguments.
/// </summary>
public sealed class OperatorDesk(RunPlan plan, string runId, RunRecorder recorder, Cycler cycler, TimeProvider time,
    ChannelWriter<OperatorCommand> inbox, Action<OperatorIdentity> halt, Func<IPhaseMap?>? currentMap, Func<MapQuantity?>? quantity = null,
    Func<Learning.Surrogate.MapCalibration?>? calibration = null) : IExperimentOperations
{
    public CommandOutcome Apply(OperatorCommand command)
    {
        var outcome = CommandValidator.Validate(command, plan, recorder.Status.Current);
        if (outcome.Accepted)
        {
            switch (command)
            {
                case HaltCommand h:
                    halt(h.By);
                    break;
                case SetCRateCommand c:
                    try { cycler.RequestCRate(c.CRate, c.By.ToString()); }
                    catch (ArgumentException refused)
                    {
                        // The cycler checks the window again (its own record says so); the operator hears the same reason.
                        outcome = CommandOutcome.Refused(refused.Message);
                        break;
                    }
                    recorder.Counts(n => n.WithDecision(DecisionKind.CRate));
                    break;
                default:
                    inbox.TryWrite(command);
                    break;
            }
        }
        // After the run the journal is closed; such a command was refused anyway.
        recorder.Journal.TryWrite(new OperatorCommandReceived(command.By.ToString(), command.By.User, command.By.Host,
            command.GetType().Name.Replace("Command", "", StringComparison.Ordinal), command, outcome.Accepted, outcome.Message));
        return outcome;
    }

    public ExperimentSnapshot Snapshot()
    {
        var now = time.GetUtcNow();
        return Snapshots.Of(recorder.Status.Current, runId, now, cycler.Latest, currentMap?.Invoke(), cycler.EstimateStateOfCharge(now), plan.Roi, quantity?.Invoke())
            with { MapCalibration = calibration?.Invoke() is { } c ? new MapCalibrationView(c.Nominal, c.Coverage, c.Checked) : null };
    }
}

using AutonomousBeamline.Cli.Composition;
using AutonomousBeamline.Configuration;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Surrogate;
using AutonomousBeamline.Storage;

namespace AutonomousBeamline.Cli.Replay;

/// <summary>A recorded ROI decision and what the replayed strategy chose at the same moment.</summary>
public sealed record ReplayedDecision(DateTimeOffset Time, Decision Recorded, Decision Replayed, int ObservationsBefore)
{
    public double DistanceMm => Math.Sqrt(Math.Pow(Recorded.Values["x_mm"] - Replayed.Values["x_mm"], 2) + Math.Pow(Recorded.Values["y_mm"] - Replayed.Values["y_mm"], 2));
}

/// <summary>
/// The decision engine run again on a recorded run: at each of the run's ROI decisions, the planner of the chosen
/// strategy is given exactly the observations the journal had recorded before it (a map fitted on them, for the
/// learner) and the cell's state then, and its choice is set beside the recorded one. Nothing is measured, so it
/// shows what another strategy or setting would have chosen next, not what it would have measured after.
/// Deterministic: the same run, config and strategy give the same choices.
/// </summary>
internal static class DecisionReplay
{
    public static IReadOnlyList<ReplayedDecision> Run(RecordedRun run, ExperimentConfig config)
    {
        // The map as the run's trainer made it: the run's options, from the frames that measure the run's target, fitted frame
        // after frame as the trainer fits (the spline updated, the forest refitted).
        var options = ScienceComposition.MapOptions(config);
        var fit = PhaseMapTrainer.FrameByFrame(options);
        var target = ScienceComposition.Target(config);
        IPhaseMap? map = null;
        var planner = LearningComposition.Planner(config, () => map, new AxisSpeeds(config.Simulation.AxisSpeedMmPerS, config.Simulation.AxisSpeedMmPerS));
        var result = new List<ReplayedDecision>();
        var fittedOn = -1;
        foreach (var recorded in run.Decisions.Where(d => d.Decision.Kind == DecisionKind.Roi))
        {
            var before = run.Observations.Where(o => o.Time <= recorded.Time).ToList();
            if (before.Count != fittedOn)
            {
                var measured = before.Where(target.Measures).ToList();
                map = fit(measured, measured.Count);
                fittedOn = before.Count;
            }
            var last = before.LastOrDefault();
            var cell = run.CellSamples.LastOrDefault(s => s.Time <= recorded.Time)?.Sample;
            var context = new RoiContext(last?.XMm ?? 0, last?.YMm ?? 0, cell?.StateOfCharge ?? last?.StateOfCharge ?? 0,
                cell is null ? last?.CRate ?? 0 : cell.CurrentA / config.Cell.NominalCapacityAh);
            result.Add(new ReplayedDecision(recorded.Time, recorded.Decision, planner.NextRoi(before, context), before.Count));
        }
        return result;
    }
}

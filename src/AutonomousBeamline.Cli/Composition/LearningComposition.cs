using AutonomousBeamline.Configuration;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Cli.Composition;

internal static class LearningComposition
{
    public static RoiSearchSpace SearchSpace(ExperimentConfig c) =>
        new(c.Search.Roi.XMinMm, c.Search.Roi.XMaxMm, c.Search.Roi.YMinMm, c.Search.Roi.YMaxMm, c.Search.Roi.StepMm);

    /// <summary>
    /// The planner named by acquisition.strategy; the learner reads the trainer's newest map and costs travel
    /// with the speeds the motion server described.
    /// </summary>
    public static IRoiPlanner Planner(ExperimentConfig c, PhaseMapTrainer trainer, MotionDescription motion)
    {
        var planner = Planner(c, trainer.CurrentSource, new AxisSpeeds(Speed(motion, c.Axes.X), Speed(motion, c.Axes.Y)));
        // The learner's spread over its lattice is evaluated on the training thread as each map is published, not by a decision.
        if (planner is LearnerRoiPlanner learner) trainer.Publishing += learner.Prepare;
        return planner;
    }

    /// <summary>The planner named by acquisition.strategy, the learner reading its map from <paramref name="map"/> (a replay fits its own).</summary>
    public static IRoiPlanner Planner(ExperimentConfig c, Func<IPhaseMap?> map, AxisSpeeds speeds) => c.Acquisition.Strategy switch
    {
        "raster" => new RasterRoiPlanner(SearchSpace(c)),
        "random" => new RandomRoiPlanner(SearchSpace(c), c.Experiment.Seed),
        _ => new LearnerRoiPlanner(SearchSpace(c), map, speeds, c.Experiment.Seed,
            // Each frame's fixed cost is its exposure; travel comes on top.
            new LearnerPlannerOptions(CostOffsetS: c.Acquisition.ExposureS, FrameExposureS: c.Acquisition.ExposureS,
                DoseBudgetS: c.Acquisition.DoseBudgetS ?? double.PositiveInfinity,
                // The planner reads the values as the map does (a fraction's shape, or a target in its own unit).
                Values: ScienceComposition.MapOptions(c).Values)),
    };

    /// <summary>The XAS energy planner over the configured window; null when the config has no window.</summary>
    public static EnergyRangePlanner? EnergyPlanner(ExperimentConfig c)
    {
        var w = c.Search.EnergyWindows.FirstOrDefault(x => x.Name == c.Acquisition.EnergyWindow) ?? c.Search.EnergyWindows.FirstOrDefault();
        return w is null ? null : new EnergyRangePlanner(new EnergyWindow(w.Name, w.StartEv, w.StopEv, w.StepEv));
    }

    /// <summary>The learner's C-rate choice from search.c_rates; null (the protocol's own rates) for the baselines or with no rates.</summary>
    public static CRatePlanner? CRatePlanner(ExperimentConfig c) =>
        c.Acquisition.Strategy == "learner" && c.Search.CRates.Count > 0 ? new CRatePlanner(c.Search.CRates, c.Cell.MaxCRate) : null;

    private static double Speed(MotionDescription motion, string axis) =>
        motion.Axes.First(a => a.Name == axis).Speed;
}

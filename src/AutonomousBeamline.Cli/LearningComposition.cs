using AutonomousBeamline.Configuration;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Cli;

internal static class LearningComposition
{
    public static RoiSearchSpace SearchSpace(ExperimentConfig c) =>
        new(c.Search.Roi.XMinMm, c.Search.Roi.XMaxMm, c.Search.Roi.YMinMm, c.Search.Roi.YMaxMm, c.Search.Roi.StepMm);

    /// <summary>
    /// The planner named by acquisition.strategy; the learner reads the trainer's newest map and costs travel
    /// with the speeds the motion server described.
    /// </summary>
    public static IRoiPlanner Planner(ExperimentConfig c, PhaseMapTrainer trainer, MotionDescription motion) => c.Acquisition.Strategy switch
    {
        "raster" => new RasterRoiPlanner(SearchSpace(c)),
        "random" => new RandomRoiPlanner(SearchSpace(c), c.Experiment.Seed),
        _ => new LearnerRoiPlanner(SearchSpace(c), trainer.CurrentSource,
            new AxisSpeeds(Speed(motion, c.Axes.X), Speed(motion, c.Axes.Y)), c.Experiment.Seed),
    };

    private static double Speed(MotionDescription motion, string axis) =>
        motion.Axes.First(a => a.Name == axis).Speed;
}

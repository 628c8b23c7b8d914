using AutonomousBeamline.Configuration;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Cli;

internal static class LearningComposition
{
    public static RoiSearchSpace SearchSpace(ExperimentConfig c) =>
        new(c.Search.Roi.XMinMm, c.Search.Roi.XMaxMm, c.Search.Roi.YMinMm, c.Search.Roi.YMaxMm, c.Search.Roi.StepMm);

    /// <summary>The planner named by acquisition.strategy; the learner reads the trainer's newest map.</summary>
    public static IRoiPlanner Planner(ExperimentConfig c, PhaseMapTrainer trainer) => c.Acquisition.Strategy switch
    {
        "raster" => new RasterRoiPlanner(SearchSpace(c)),
        "random" => new RandomRoiPlanner(SearchSpace(c), c.Experiment.Seed),
        _ => new LearnerRoiPlanner(SearchSpace(c), trainer.CurrentSource, c.Simulation.AxisSpeedMmPerS, c.Experiment.Seed),
    };
}

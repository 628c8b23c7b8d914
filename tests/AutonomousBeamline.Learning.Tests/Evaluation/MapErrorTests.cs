using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Evaluation;
using AutonomousBeamline.Learning.Surrogate;
using AutonomousBeamline.Simulators.Physics;
using Moq;
using Xunit.Abstractions;

namespace AutonomousBeamline.Learning.Tests.Evaluation;

public sealed class MapErrorTests(ITestOutputHelper output)
{
    private static readonly RoiSearchSpace Space = new(0, 20, 0, 10, 1);

    [Fact]
    public void Rmse_of_a_known_offset_is_that_offset()
    {
        var map = new Mock<IPhaseMap>();
        map.SetupGet(m => m.Version).Returns(5);
        map.Setup(m => m.Predict(It.IsAny<double>(), It.IsAny<double>(), It.IsAny<double>()))
            .Returns((double x, double _, double soc) => (soc + 0.1, 0));
        var result = MapError.Evaluate(map.Object, Space, (_, _, soc) => soc, [0.3, 0.6]);
        Assert.Equal(0.1, result.Rmse, 9);
        Assert.Equal(231, result.GridPoints);
        Assert.Equal(5, result.ModelVersion);
        Assert.Equal([0.3, 0.6], result.PerStateOfCharge.Select(p => p.StateOfCharge));
    }

    [Fact]
    public void Too_few_observations_score_their_mean()
    {
        var observations = new[] { TestObservations.Make(1, 1, 0.5, 0.2), TestObservations.Make(2, 2, 0.5, 0.4) };
        var result = MapError.Evaluate(observations, Space, (_, _, _) => 0.3, [0.5]);
        Assert.Equal(0, result.ModelVersion);
        Assert.Equal(0, result.Rmse, 9);
    }

    [Fact]
    public void States_of_charge_outside_zero_to_one_are_rejected()
    {
        var map = new Mock<IPhaseMap>();
        Assert.Throws<ArgumentOutOfRangeException>(() => MapError.Evaluate(map.Object, Space, (_, _, s) => s, [1.5]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(11)]
    public void Learner_maps_the_electrode_better_than_a_raster_with_the_same_frames(int fieldSeed)
    {
        const int frames = 60;
        var field = new ElectrodeField(fieldSeed, Space.XMinMm, Space.XMaxMm, Space.YMinMm, Space.YMaxMm);
        const double cRate = 1.0;
        double Truth(double x, double y, double soc) => field.LocalStateOfCharge(x, y, soc, cRate);

        List<Observation> Run(IRoiPlanner planner, Func<List<Observation>, IPhaseMap?> refit)
        {
            var rng = new Random(21);
            var observations = new List<Observation>();
            var (x, y) = (0.0, 0.0);
            for (var i = 0; i < frames; i++)
            {
                // The cell charges steadily through the plateau while the beam moves; the same schedule for both.
                var soc = 0.1 + 0.8 * i / (frames - 1);
                var decision = planner.NextRoi(observations, new RoiContext(x, y, soc, cRate));
                (x, y) = (decision.Values["x_mm"], decision.Values["y_mm"]);
                var measured = Truth(x, y, soc) + 0.01 * (rng.NextDouble() - 0.5) * 2;
                observations.Add(TestObservations.Make(x, y, soc, measured, i, planner.Strategy));
                refit(observations);
            }
            return observations;
        }

        var trainer = new PhaseMapTrainer();
        var learner = new LearnerRoiPlanner(Space, trainer.CurrentSource, new AxisSpeeds(2, 2), seed: 3);
        var learned = Run(learner, trainer.Fit);
        var rastered = Run(new RasterRoiPlanner(Space), _ => null);

        var learnerError = MapError.Evaluate(learned, Space, Truth);
        var rasterError = MapError.Evaluate(rastered, Space, Truth);
        output.WriteLine($"field {fieldSeed}, after {frames} frames: learner {learnerError.Rmse:F4}, raster {rasterError.Rmse:F4}");
        Assert.True(learnerError.Rmse < rasterError.Rmse, $"learner {learnerError.Rmse:F4} not below raster {rasterError.Rmse:F4}");
    }
}

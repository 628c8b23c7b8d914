using AutonomousBeamline.Configuration;
using AutonomousBeamline.Control.Running;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Evaluation;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Learning.Surrogate;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Cli;

/// <summary>
/// How good the night's map is, which only a dry run can say: the simulator knows the true field.
/// The learner's map is compared with the map a raster scan would have given with the same number
/// of frames, taken at the same moments of the same cycling (so at the same states of charge).
/// </summary>
internal static class DryRunEvaluation
{
    /// <summary>States of charge at which the maps are compared: spread over what the run actually visited.</summary>
    private const int EvaluationStates = 5;

    public static MapErrorSummary MapError(IReadOnlyList<Observation> observations, SimulationComposition.Facility facility, ExperimentConfig config)
    {
        var space = LearningComposition.SearchSpace(config);
        var options = new ForestPhaseMapOptions { Seed = config.Experiment.Seed };
        var states = EvaluationPoints(observations);

        var raster = RasterObservations(observations, space, facility, config);

        return new MapErrorSummary(
            Rmse(observations, space, states, facility.Field, options),
            Rmse(raster, space, states, facility.Field, options),
            observations.Count,
            $"RMSE of the FePO4 fraction over the {space.GridPoints().Count()}-point ROI grid at {states.Count} states of charge visited by the run; " +
            "raster: a serpentine raster covering the ROI with the same number of frames, taken at the same times, measured through the same renderer and analyzer");
    }

    private static List<(double Soc, double CRate)> EvaluationPoints(IReadOnlyList<Observation> observations)
    {
        var sorted = observations.OrderBy(o => o.StateOfCharge).ToList();
        return Enumerable.Range(0, EvaluationStates)
            .Select(i => sorted[(int)Math.Round((sorted.Count - 1) * (i + 0.5) / EvaluationStates)])
            .Select(o => (o.StateOfCharge, o.CRate))
            .ToList();
    }

    /// <summary>
    /// The field depends on the C-rate a state of charge was reached at, so each state is judged against the
    /// truth at its own rate; the groups are the same size, so the overall RMSE is the root of their mean square.
    /// </summary>
    private static double Rmse(IReadOnlyList<Observation> observations, RoiSearchSpace space, List<(double Soc, double CRate)> states,
        ElectrodeField field, ForestPhaseMapOptions options)
    {
        var map = ForestPhaseMap.Fit(observations, 1, options);
        var meanSquare = states.Average(s =>
        {
            double Truth(double x, double y, double soc) => field.LocalStateOfCharge(x, y, soc, s.CRate);
            var rmse = map is null
                ? Learning.Evaluation.MapError.Rmse(observations, space, Truth, [s.Soc], options) // too few for a forest: scored as their mean
                : Learning.Evaluation.MapError.Rmse(map, space, Truth, [s.Soc]);
            return rmse * rmse;
        });
        return Math.Sqrt(meanSquare);
    }

    /// <summary>
    /// What a raster scan would have measured: frame k at the k-th point of a serpentine raster that covers
    /// the ROI in as many frames as the run took, at the moment (and state of charge) of the run's frame k.
    /// </summary>
    private static List<Observation> RasterObservations(IReadOnlyList<Observation> run, RoiSearchSpace space, SimulationComposition.Facility facility, ExperimentConfig config)
    {
        var points = RasterPoints(space, run.Count);
        var rng = new Random(config.Experiment.Seed + 1);
        var analyzer = new XrdPhaseAnalyzer();
        var result = new List<Observation>();
        for (var k = 0; k < run.Count; k++)
        {
            var o = run[k];
            var (x, y) = points[k];
            // The cell as the run saw it at frame k; the simulator keeps no history to ask afterwards.
            var fraction = facility.Truth.FePO4FractionOverFootprint(x, y, new CellSnapshot(o.StateOfCharge, o.CRate), config.Simulation.FootprintMm);
            var intensities = facility.XrdRenderer.Render(fraction, config.Acquisition.ExposureS, 1.0, rng);
            var axis = facility.XrdRenderer.Axis;
            var frame = new Frame(new FrameHeader
            {
                Frame = k, RequestId = "raster", Kind = "xrd", N = intensities.Length, XMode = "uniform",
                XName = axis.Name, XUnit = axis.Unit, XStart = axis.Start, XStep = axis.Step,
                ExposureS = config.Acquisition.ExposureS, TStart = o.Time, BeamCurrentMa = o.BeamCurrentMa,
            }, intensities, null);
            var features = analyzer.Analyze(frame);
            if (!features.Usable) continue;
            result.Add(o with { XMm = x, YMm = y, PhaseFraction = features.PhaseFraction, PhaseFractionSigma = features.PhaseFractionSigma, Source = "raster" });
        }
        return result;
    }

    /// <summary>The coarsest serpentine raster over the ROI with at least <paramref name="frames"/> points, in scan order.</summary>
    internal static List<(double X, double Y)> RasterPoints(RoiSearchSpace space, int frames)
    {
        var width = space.XMaxMm - space.XMinMm;
        var height = space.YMaxMm - space.YMinMm;
        var nx = Math.Max(1, (int)Math.Round(Math.Sqrt(frames * width / height)));
        var ny = Math.Max(1, (int)Math.Ceiling((double)frames / nx));
        var points = new List<(double, double)>();
        for (var j = 0; j < ny; j++)
        for (var i = 0; i < nx; i++)
        {
            var column = j % 2 == 0 ? i : nx - 1 - i;
            var x = nx == 1 ? (space.XMinMm + space.XMaxMm) / 2 : space.XMinMm + column * width / (nx - 1);
            var y = ny == 1 ? (space.YMinMm + space.YMaxMm) / 2 : space.YMinMm + j * height / (ny - 1);
            points.Add((x, y));
        }
        return points.Take(frames).ToList();
    }
}

using AutonomousBeamline.Configuration;
using AutonomousBeamline.Cli.Composition;
using AutonomousBeamline.Control.Engine;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Acquisition;
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

    /// <returns>Null when the simulator has no true value of the configured target (an edge position) or no frame measured it.</returns>
    public static MapErrorSummary? MapError(IReadOnlyList<Observation> all, SimulationComposition.Facility facility, ExperimentConfig config)
    {
        var target = ScienceComposition.Target(config);
        // The map is of the target, learnt from the frames that measure it: so is its error.
        var observations = all.Where(target.Measures).ToList();
        if (observations.Count == 0 || ScienceComposition.TruthOfTarget(config) is not { } truthOf) return null;
        var space = LearningComposition.SearchSpace(config);
        var options = ScienceComposition.MapOptions(config);
        var states = EvaluationPoints(observations);

        var spots = Math.Max(1, all.Count(o => o.Kind != FrameKind.Xas));
        // The config's raster strategy: the serpentine over the configured grid, as far as the budget reaches.
        var gridRaster = new RasterRoiPlanner(space);
        var gridPoints = Enumerable.Range(0, spots)
            .Select(k => gridRaster.NextRoi(observations.Take(k).ToList(), new RoiContext(0, 0, 0, 0)).Values)
            .Select(v => (v["x_mm"], v["y_mm"])).ToList();
        var raster = RasterObservations(observations, gridPoints, facility, config);
        // A stronger baseline no config offers: the coarsest serpentine that covers the whole ROI once in the budget.
        var coarse = RasterObservations(observations, RasterPoints(space, spots), facility, config);

        return new MapErrorSummary(
            Rmse(observations, space, states, facility.Field, options, truthOf),
            Rmse(raster, space, states, facility.Field, options, truthOf),
            observations.Count,
            $"RMSE of the {target}{Unit(target.QuantityOf(observations))} over the {space.GridPoints().Count()}-point ROI grid at {states.Count} states of charge visited by the run. " +
            "raster: the config's raster strategy (serpentine over the configured grid) with the same frames spent the same way (same moments, " +
            "XAS scans where the run took them), measured through the same renderers and analyzers; coarse_raster: the coarsest serpentine covering the ROI once with the same spots",
            Rmse(coarse, space, states, facility.Field, options, truthOf));
    }

    private static string Unit(MapQuantity quantity) => quantity.Unit.Length > 0 ? $" (in {quantity.Unit})" : "";

    /// <summary>The map error of each strategy after a quarter, half, three quarters and all of the run's observations.</summary>
    public static IReadOnlyList<Reporting.MapErrorPoint> MapErrorAgainstFrames(IReadOnlyList<Observation> observations, SimulationComposition.Facility facility,
        ExperimentConfig config) =>
        new[] { 0.25, 0.5, 0.75, 1.0 }
            .Select(share => Math.Max(1, (int)Math.Round(observations.Count * share)))
            .Distinct()
            // A target without a true field to compare with (an edge position) has no map error to plot.
            .Select(n => MapError(observations.Take(n).ToList(), facility, config) is { } m
                ? new Reporting.MapErrorPoint(n, m.LearnerRmse, m.RasterRmse, m.CoarseRasterRmse)
                : null)
            .OfType<Reporting.MapErrorPoint>()
            .ToList();

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
        ElectrodeField field, ForestPhaseMapOptions options, Func<double, double> truthOf)
    {
        var map = PhaseMapTrainer.FitDefault(observations, 1, options);
        var meanSquare = states.Average(s =>
        {
            double Truth(double x, double y, double soc) => truthOf(field.LocalStateOfCharge(x, y, soc, s.CRate));
            var rmse = map is null
                ? Learning.Evaluation.MapError.Rmse(observations, space, Truth, [s.Soc], options) // too few for a forest: scored as their mean
                : Learning.Evaluation.MapError.Rmse(map, space, Truth, [s.Soc]);
            return rmse * rmse;
        });
        return Math.Sqrt(meanSquare);
    }

    /// <summary>
    /// What a raster scan would have measured with the same budget spent the same way: the run's k-th diffraction
    /// frame becomes a frame at the raster's k-th point, at the same moment (and state of charge); the run's XAS scans become full-window scans at the
    /// raster's spot of the moment.
    /// </summary>
    private static List<Observation> RasterObservations(IReadOnlyList<Observation> run, IReadOnlyList<(double X, double Y)> points, SimulationComposition.Facility facility, ExperimentConfig config)
    {
        var rng = new Random(config.Experiment.Seed + 1);
        var xrdAnalyzer = ScienceComposition.XrdAnalyzer(config);
        var xasAnalyzer = ScienceComposition.XasAnalyzer(config);
        var target = ScienceComposition.Target(config);
        var window = config.Search.EnergyWindows.FirstOrDefault(w => w.Name == config.Acquisition.EnergyWindow) ?? config.Search.EnergyWindows.FirstOrDefault();
        var result = new List<Observation>();
        var spot = -1;
        foreach (var o in run)
        {
            if (o.Kind != FrameKind.Xas) spot++;
            var (x, y) = points[Math.Clamp(spot, 0, points.Count - 1)];
            // The cell as the run saw it then; the simulator keeps no history to ask afterwards.
            var fraction = facility.Truth.FePO4FractionOverFootprint(x, y, new CellSnapshot(o.StateOfCharge, o.CRate), config.Simulation.FootprintMm);
            double measured, sigma;
            if (o.Kind == FrameKind.Xas && window is not null)
            {
                var energies = new List<double>();
                for (var e = window.StartEv; e <= window.StopEv + 1e-9; e += window.StepEv) energies.Add(e);
                var mu = facility.XasRenderer.Render(energies, fraction, config.Acquisition.DwellS, 1.0, rng);
                var features = xasAnalyzer.Analyze(energies, mu.Select(v => (double)v).ToList());
                if (!features.Usable) continue;
                (measured, sigma) = target.From(features, xasAnalyzer.ReferenceNames);
            }
            else
            {
                var intensities = facility.XrdRenderer.Render(fraction, config.Acquisition.ExposureS, 1.0, rng);
                var axis = facility.XrdRenderer.Axis;
                var frame = new Frame(new FrameHeader
                {
                    Frame = spot, RequestId = "raster", Kind = FrameKind.Xrd, N = intensities.Length, XMode = "uniform",
                    XName = axis.Name, XUnit = axis.Unit, XStart = axis.Start, XStep = axis.Step,
                    ExposureS = config.Acquisition.ExposureS, TStart = o.Time, BeamCurrentMa = o.BeamCurrentMa,
                }, intensities, null);
                var features = xrdAnalyzer.Analyze(frame);
                if (!features.Usable) continue;
                (measured, sigma) = target.From(features);
            }
            result.Add(o with { XMm = x, YMm = y, PhaseFraction = measured, PhaseFractionSigma = sigma, Source = DecisionSource.Raster });
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

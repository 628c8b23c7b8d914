using System.Globalization;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Evaluation;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Learning.Surrogate;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Bench;

/// <summary>
/// Part a: how many frames each strategy needs to reach the map error a serpentine raster has after the whole budget.
/// Every strategy measures the same simulated electrode at the same moments (frame k at the same state of charge),
/// through the real renderer and analyser, and is scored with the same surrogate, so only the choice of spots differs.
/// </summary>
internal sealed class MapBenchmark(int frames, IReadOnlyList<int> fieldSeeds, IReadOnlyList<double> cRates, TextWriter output, bool gaussianProcess = false)
{
    // The shipped dry run's electrode and grid (configs/dry-run.yaml).
    public static readonly RoiSearchSpace Space = new(0, 10, 0, 10, 0.5);
    private const double ExposureS = 20;
    private const double SocStart = 0.1;
    private const double SocEnd = 0.9;

    public sealed record Result(double SpeedupVsRaster, double SpeedupVsRandom);

    private sealed record Run(string Strategy, double[] ErrorAfter);

    public Result Execute()
    {
        output.WriteLine($"## a{(gaussianProcess ? "2" : "")}. frames to reach the raster's final map error ({frames}-frame budget, {Space.GridPoints().Count()}-point grid, SOC {SocStart}→{SocEnd}, surrogate: {(gaussianProcess ? "Gaussian process (experimental)" : "normalised forest")})");
        output.WriteLine("Frames to reach the raster's final RMSE (the target): learner, random, coarse raster (covers the electrode once in the budget). Speedup = raster budget / learner frames; vs random = random frames / learner frames; last column: frames the learner needs to reach random's own final RMSE.");
        output.WriteLine();
        output.WriteLine("| C-rate | field | raster final RMSE (target) | coarse raster final | random final | learner final | frames learner | random | coarse | speedup vs raster | vs random | learner frames to random's final |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        var speedRaster = new List<double>();
        var speedRandom = new List<double>();
        var toRandomFinal = new List<double>();
        foreach (var rate in cRates)
        foreach (var seed in fieldSeeds)
        {
            var field = new ElectrodeField(seed, Space.XMinMm, Space.XMaxMm, Space.YMinMm, Space.YMaxMm);
            var raster = Measure("raster", new RasterRoiPlanner(Space), field, rate, seed, everyFrame: false);
            var random = Measure("random", new RandomRoiPlanner(Space, seed), field, rate, seed, everyFrame: true);
            var coarse = Measure("coarse", new FixedOrderPlanner(BenchPlanners.CoarseRaster(Space, frames), "coarse raster"), field, rate, seed, everyFrame: true);
            var learner = Measure("learner", null, field, rate, seed, everyFrame: true);
            var target = raster.ErrorAfter[frames];
            var nLearner = FramesToReach(learner, target);
            var nRandom = FramesToReach(random, target);
            var nCoarse = FramesToReach(coarse, target);
            // Against random: frames the learner needs to reach random's final error, relative to random's budget.
            var nLearnerVsRandom = FramesToReach(learner, random.ErrorAfter[frames]);
            speedRaster.Add((double)frames / nLearner);
            speedRandom.Add((double)nRandom / nLearner);
            toRandomFinal.Add(nLearnerVsRandom);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {rate:0.0} | {seed} | {target:F4} | {coarse.ErrorAfter[frames]:F4} | {random.ErrorAfter[frames]:F4} | {learner.ErrorAfter[frames]:F4} | {nLearner} | {nRandom} | {nCoarse} | {(double)frames / nLearner:F1}x | {(double)nRandom / nLearner:F1}x | {nLearnerVsRandom} |"));
        }
        var result = new Result(Median(speedRaster), Median(speedRandom));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median speedup vs raster {result.SpeedupVsRaster:F1}x (min {speedRaster.Min():F1}x), vs random {result.SpeedupVsRandom:F1}x (min {speedRandom.Min():F1}x)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"learner frames to reach random's 80-frame RMSE: median {Median(toRandomFinal):F0} (range {toRandomFinal.Min():F0}-{toRandomFinal.Max():F0})"));
        output.WriteLine();
        return result;
    }

    private static double Median(List<double> values) => BenchFrames.Percentile(values, 50);

    /// <summary>The first frame count after which the map is at least as good as <paramref name="target"/>; the budget when never.</summary>
    private int FramesToReach(Run run, double target)
    {
        for (var n = 1; n <= frames; n++)
            if (!double.IsNaN(run.ErrorAfter[n]) && run.ErrorAfter[n] <= target) return n;
        return frames;
    }

    private Run Measure(string name, IRoiPlanner? baseline, ElectrodeField field, double rate, int seed, bool everyFrame)
    {
        var renderer = new XrdPatternRenderer();
        var analyzer = new XrdPhaseAnalyzer(renderer.Axis);
        var rng = new Random(seed * 31 + 7);
        var observations = new List<Observation>();
        var errors = new double[frames + 1];
        Array.Fill(errors, double.NaN);
        IPhaseMap? map = null;
        var planner = baseline ?? new LearnerRoiPlanner(Space, () => map, new AxisSpeeds(2, 2), seed,
            LearnerPlannerOptions.Default with { CostOffsetS = ExposureS, FrameExposureS = ExposureS });
        double x = (Space.XMinMm + Space.XMaxMm) / 2, y = (Space.YMinMm + Space.YMaxMm) / 2;
        for (var k = 0; k < frames; k++)
        {
            var soc = SocStart + (SocEnd - SocStart) * k / Math.Max(1, frames - 1);
            var decision = planner.NextRoi(observations, new RoiContext(x, y, soc, rate));
            x = decision.Values["x_mm"]; y = decision.Values["y_mm"];
            var fraction = field.LocalStateOfCharge(x, y, soc, rate);
            if (BenchFrames.Observe(renderer, analyzer, rng, k, x, y, soc, rate, fraction, ExposureS, baseline?.Strategy ?? DecisionSource.Learner) is { } observation)
                observations.Add(observation);
            var last = k == frames - 1;
            if (baseline is null || everyFrame || last)
            {
                // The learner plans on exactly this map, so it is fitted every frame anyway; the baselines are scored the same way.
                map = gaussianProcess
                    ? GaussianProcessPhaseMap.Fit(observations, k + 1)
                    : ForestPhaseMap.Fit(observations, k + 1, new ForestPhaseMapOptions { Seed = seed });
                errors[k + 1] = map is null ? double.NaN : MapError.Rmse(map, Space, (px, py, s) => field.LocalStateOfCharge(px, py, s, rate));
            }
        }
        return new Run(name, errors);
    }
}

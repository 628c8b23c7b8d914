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
/// Part e, the headline: frames the learner needs to reach the error the strong baselines reach with the whole budget — the
/// coarse raster that covers the ROI once, and random spots — on field families with sharp features, one of them held out,
/// static and operando, each strategy scored twice: by the product's map fitted on its measured frames, and by one fixed
/// interpolator (a thin-plate spline through the true values at its spots), so that only the choice of spots counts.
/// Also the calibration of the learner's 90 % intervals at held-out spots.
/// </summary>
internal sealed class SpotChoiceBenchmark(int frames, IReadOnlyList<string> families, IReadOnlyList<int> seeds, IReadOnlyList<bool> operandoModes,
    TextWriter output, Func<IReadOnlyList<Observation>, int, IPhaseMap?>? fit = null, string surrogateName = "hybrid (forest + spline correction)",
    LearnerPlannerOptions? plannerOptions = null, string? csvPath = null)
{
    // The shipped dry run's electrode and grid (configs/dry-run.yaml): the candidates and the scoring grid.
    public static readonly RoiSearchSpace Space = new(0, 10, 0, 10, 0.5);
    private const double ExposureS = 20;
    private const double SocStart = 0.1;
    private const double SocEnd = 0.9;
    private const double StaticSoc = 0.5;
    private static readonly double Z90 = 1.6448536269514722;

    private readonly Func<IReadOnlyList<Observation>, int, IPhaseMap?> _fit = fit ?? ((o, v) => HybridPhaseMap.Fit(o, v));

    /// <summary>Medians over every field and mode of budget / learner frames to reach each baseline's budget error, per scoring.</summary>
    public sealed record Result(double VsCoarseProduct, double VsRandomProduct, double VsCoarseSpline, double VsRandomSpline, double WorstVsRandom, double MedianCoverage);

    private sealed record Curve(double[] Product, double[] Spline, double Coverage);

    private sealed record FieldResult(string Family, bool Operando, int Seed, Curve Coarse, Curve Random, Curve Learner, double SerpentineSpline);

    public Result Execute()
    {
        output.WriteLine($"## e. spot choice: frames to reach the strong baselines' {frames}-frame error ({Space.GridPoints().Count()}-point grid, seeds {seeds[0]}-{seeds[^1]}, product map: {surrogateName})");
        output.WriteLine("Per family and mode, over seeds: final RMSE of the coarse raster (covers the ROI once in the budget), random spots and the learner; " +
                         $"frames the learner needs to reach the coarse raster's and random's {frames}-frame RMSE as median (worst); speedup = {frames} / those frames; " +
                         $"'>{frames}' = never within the budget (counted as {frames + 1}). 'product' scores the map the product fits on the measured frames; " +
                         "'spline' scores a thin-plate spline through the true values at the chosen spots (only the choice counts). " +
                         "Last columns: the learner's final RMSE over random's, worst seed, and the 90 % interval coverage of the learner's map at held-out grid spots (median, min-max).");
        output.WriteLine();
        output.WriteLine("| family | mode | scoring | coarse final | random final | learner final | serpentine final | learner frames to coarse | to random | speedup vs coarse | vs random | worst learner/random final | 90 % coverage |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        var all = new List<FieldResult>();
        foreach (var operando in operandoModes)
        foreach (var family in families)
        {
            var results = seeds.Select(seed => RunField(family, seed, operando)).ToArray();
            all.AddRange(results);
            if (csvPath is not null) AppendCsv(csvPath, results);
            WriteRows(family, operando, results);
        }
        var vsCoarseProduct = all.Select(r => Speedup(r.Learner.Product, r.Coarse.Product[frames])).ToList();
        var vsRandomProduct = all.Select(r => Speedup(r.Learner.Product, r.Random.Product[frames])).ToList();
        var vsCoarseSpline = all.Select(r => Speedup(r.Learner.Spline, r.Coarse.Spline[frames])).ToList();
        var vsRandomSpline = all.Select(r => Speedup(r.Learner.Spline, r.Random.Spline[frames])).ToList();
        var worst = all.Max(r => Math.Max(r.Learner.Product[frames] / r.Random.Product[frames], r.Learner.Spline[frames] / r.Random.Spline[frames]));
        var coverage = all.Select(r => r.Learner.Coverage).ToList();
        var result = new Result(Median(vsCoarseProduct), Median(vsRandomProduct), Median(vsCoarseSpline), Median(vsRandomSpline), worst, Median(coverage));
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"all {all.Count} fields: median speedup, product map: {result.VsCoarseProduct:F2}x vs coarse raster, {result.VsRandomProduct:F2}x vs random; " +
            $"spline through the truth: {result.VsCoarseSpline:F2}x vs coarse raster, {result.VsRandomSpline:F2}x vs random; " +
            $"worst learner final / random final {worst:F2}; median 90 % coverage {coverage.Count(double.IsFinite) switch { 0 => "n/a", _ => result.MedianCoverage.ToString("P0", CultureInfo.InvariantCulture) }}"));
        var heldOut = all.Where(r => r.Family == FieldFamilies.HeldOut).ToArray();
        if (heldOut.Length > 0)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"held-out family ({FieldFamilies.HeldOut}) alone: product {Median(heldOut.Select(r => Speedup(r.Learner.Product, r.Coarse.Product[frames])).ToList()):F2}x vs coarse, {Median(heldOut.Select(r => Speedup(r.Learner.Product, r.Random.Product[frames])).ToList()):F2}x vs random; " +
                $"spline {Median(heldOut.Select(r => Speedup(r.Learner.Spline, r.Coarse.Spline[frames])).ToList()):F2}x vs coarse, {Median(heldOut.Select(r => Speedup(r.Learner.Spline, r.Random.Spline[frames])).ToList()):F2}x vs random"));
        output.WriteLine();
        return result;
    }

    private void WriteRows(string family, bool operando, FieldResult[] results)
    {
        foreach (var spline in new[] { false, true })
        {
            double[] Of(Curve c) => spline ? c.Spline : c.Product;
            var toCoarse = results.Select(r => (double)FramesToReach(Of(r.Learner), Of(r.Coarse)[frames])).ToList();
            var toRandom = results.Select(r => (double)FramesToReach(Of(r.Learner), Of(r.Random)[frames])).ToList();
            var worstRatio = results.Max(r => Of(r.Learner)[frames] / Of(r.Random)[frames]);
            var coverage = results.Select(r => r.Learner.Coverage).Where(double.IsFinite).ToList();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {family}{(family == FieldFamilies.HeldOut ? " (held out)" : "")} | {(operando ? "operando" : "static")} | {(spline ? "spline" : "product")} " +
                $"| {Median(results.Select(r => Of(r.Coarse)[frames]).ToList()):F4} | {Median(results.Select(r => Of(r.Random)[frames]).ToList()):F4} " +
                $"| {Median(results.Select(r => Of(r.Learner)[frames]).ToList()):F4} | {(spline ? Median(results.Select(r => r.SerpentineSpline).ToList()).ToString("F4", CultureInfo.InvariantCulture) : "-")} " +
                $"| {Frames(Median(toCoarse))} ({Frames(toCoarse.Max())}) | {Frames(Median(toRandom))} ({Frames(toRandom.Max())}) " +
                $"| {frames / Median(toCoarse):F2}x ({frames / toCoarse.Max():F2}x) | {frames / Median(toRandom):F2}x ({frames / toRandom.Max():F2}x) | {worstRatio:F2} " +
                $"| {(spline || coverage.Count == 0 ? "-" : $"{Median(coverage):P0} ({coverage.Min():P0}-{coverage.Max():P0})")} |"));
        }
    }

    /// <summary>One line per field, so that runs split over processes (e.g. --modes static and --modes operando) can be pooled.</summary>
    private void AppendCsv(string path, FieldResult[] results)
    {
        if (!File.Exists(path))
            File.WriteAllText(path, "family,mode,seed,coarse_product,random_product,learner_product,coarse_spline,random_spline,learner_spline,serpentine_spline,frames_to_coarse_product,frames_to_random_product,frames_to_coarse_spline,frames_to_random_spline,coverage90\n");
        File.AppendAllLines(path, results.Select(r => string.Create(CultureInfo.InvariantCulture,
            $"{r.Family},{(r.Operando ? "operando" : "static")},{r.Seed},{r.Coarse.Product[frames]:R},{r.Random.Product[frames]:R},{r.Learner.Product[frames]:R},{r.Coarse.Spline[frames]:R},{r.Random.Spline[frames]:R},{r.Learner.Spline[frames]:R},{r.SerpentineSpline:R}," +
            $"{FramesToReach(r.Learner.Product, r.Coarse.Product[frames])},{FramesToReach(r.Learner.Product, r.Random.Product[frames])},{FramesToReach(r.Learner.Spline, r.Coarse.Spline[frames])},{FramesToReach(r.Learner.Spline, r.Random.Spline[frames])},{r.Learner.Coverage:R}")));
    }

    private string Frames(double n) => n > frames ? $">{frames}" : n.ToString("0.#", CultureInfo.InvariantCulture);

    private double Speedup(double[] learner, double target) => (double)frames / FramesToReach(learner, target);

    /// <summary>The first frame count whose error is at most <paramref name="target"/>; budget + 1 when never.</summary>
    private int FramesToReach(double[] curve, double target)
    {
        for (var n = 1; n <= frames; n++)
            if (curve[n] <= target * (1 + 1e-9)) return n;
        return frames + 1;
    }

    private static double Median(List<double> values) => BenchFrames.Percentile(values, 50);

    private FieldResult RunField(string family, int seed, bool operando)
    {
        var field = FieldFamilies.Create(family, seed);
        var coarse = Measure(new FixedOrderPlanner(BenchPlanners.CoarseRaster(Space, frames), "coarse raster"), field, seed, operando, out _);
        var random = Measure(new RandomRoiPlanner(Space, seed), field, seed, operando, out _);
        var learner = Measure(null, field, seed, operando, out _);
        Measure(new RasterRoiPlanner(Space), field, seed, operando, out var serpentineSpline, productMap: false);
        return new FieldResult(family, operando, seed, coarse, random, learner, serpentineSpline);
    }

    private Curve Measure(IRoiPlanner? baseline, IBenchField field, int seed, bool operando, out double finalSpline, bool productMap = true)
    {
        var renderer = new XrdPatternRenderer();
        var analyzer = new XrdPhaseAnalyzer(renderer.Axis);
        var rng = new Random(seed * 31 + 7);
        var observations = new List<Observation>();
        var spots = new List<(double X, double Y, double Soc)>();
        var product = new double[frames + 1];
        var spline = new double[frames + 1];
        Array.Fill(product, double.PositiveInfinity);
        Array.Fill(spline, double.PositiveInfinity);
        var coverage = double.NaN;
        IPhaseMap? map = null;
        var rate = operando ? 1.0 : 0.0;
        var planner = baseline ?? new LearnerRoiPlanner(Space, () => map, new AxisSpeeds(2, 2), seed,
            (plannerOptions ?? LearnerPlannerOptions.Default) with { CostOffsetS = ExposureS, FrameExposureS = ExposureS });
        double x = (Space.XMinMm + Space.XMaxMm) / 2, y = (Space.YMinMm + Space.YMaxMm) / 2;
        Func<double, double, double, double> truth = operando ? field.Operando : (px, py, _) => field.Static(px, py);
        IReadOnlyList<double> scoredSocs = operando ? MapError.DefaultStatesOfCharge : [StaticSoc];
        for (var k = 0; k < frames; k++)
        {
            var soc = operando ? SocStart + (SocEnd - SocStart) * k / Math.Max(1, frames - 1) : StaticSoc;
            var decision = planner.NextRoi(observations, new RoiContext(x, y, soc, rate));
            x = decision.Values["x_mm"]; y = decision.Values["y_mm"];
            var fraction = truth(x, y, soc);
            spots.Add((x, y, soc));
            if (BenchFrames.Observe(renderer, analyzer, rng, k, x, y, soc, rate, fraction, ExposureS, baseline?.Strategy ?? DecisionSource.Learner) is { } observation)
                observations.Add(observation);
            // The learner plans on the map of every frame so far, as in a run where the trainer keeps up; a baseline's map counts
            // only after its whole budget (the target the learner must reach).
            if (baseline is null || (productMap && k + 1 == frames))
            {
                map = _fit(observations, k + 1);
                product[k + 1] = map is null ? double.PositiveInfinity : MapError.Rmse(map, Space, truth, scoredSocs);
                if (map is not null && k + 1 == frames && baseline is null) coverage = Coverage(map, spots, truth, scoredSocs);
            }
            spline[k + 1] = spots.Count < 3 ? double.PositiveInfinity : operando
                ? SpotChoiceError.Operando(spots, Space, truth, scoredSocs)
                : SpotChoiceError.Static(spots.Select(s => (s.X, s.Y)).ToArray(), Space, (px, py) => truth(px, py, StaticSoc));
        }
        finalSpline = spline[frames];
        return new Curve(product, spline, coverage);
    }

    /// <summary>Share of held-out grid spots (not measured) whose true value lies within the map's 90 % interval, mean ± 1.645·spread.</summary>
    private static double Coverage(IPhaseMap map, List<(double X, double Y, double Soc)> spots, Func<double, double, double, double> truth, IReadOnlyList<double> socs)
    {
        var measured = spots.Select(s => (Math.Round(s.X, 6), Math.Round(s.Y, 6))).ToHashSet();
        int inside = 0, total = 0;
        foreach (var soc in socs)
        foreach (var (x, y) in Space.GridPoints())
        {
            if (measured.Contains((Math.Round(x, 6), Math.Round(y, 6)))) continue;
            var (mean, spread) = map.Predict(x, y, soc);
            total++;
            if (Math.Abs(mean - truth(x, y, soc)) <= Z90 * spread) inside++;
        }
        return total == 0 ? double.NaN : (double)inside / total;
    }
}

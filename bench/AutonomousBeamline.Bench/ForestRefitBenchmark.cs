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
/// Part f: does refitting the forest less often keep the map as good? On one fixed sequence of frames per field (random spots on
/// part e's electrode and grid, static at half charge), the product's map after every frame from 16 to the budget, fitted (a) from
/// scratch — forest and spline — and (b) as <see cref="HybridPhaseMapFitter"/> does with the forest refitted only after the frames
/// grew by a share g, the spline updated on every frame. The same frames for both, so the choice of spots plays no part (in part
/// e a different map sends the learner elsewhere, and the fields' spread swamps the map's). Reported: the geometric mean over the
/// frames of RMSE(b) / RMSE(a) per field, and over the fields; how many forest fits each made.
/// </summary>
internal sealed class ForestRefitBenchmark(int frames, IReadOnlyList<string> families, IReadOnlyList<int> seeds, IReadOnlyList<double> growths, TextWriter output)
{
    private const int FirstScoredFrame = 16;

    /// <summary>Geometric-mean RMSE ratio over all fields and frames, per growth.</summary>
    public IReadOnlyList<double> Execute()
    {
        output.WriteLine($"## f. forest refit policy: map RMSE with the forest refitted only after the frames grew by g, over a refit on every frame (same random frames, {frames}-frame budget, frames {FirstScoredFrame}-{frames} scored, static at half charge, seeds {seeds[0]}-{seeds[^1]})");
        output.WriteLine($"| family | seed | {string.Join(" | ", growths.Select(g => string.Create(CultureInfo.InvariantCulture, $"g = {g:P0}")))} | forest fits in {frames} frames (a refit on every frame: {frames - ForestPhaseMapOptions.Default.MinimumObservations + 1}) |");
        output.WriteLine($"|---|---|{string.Concat(growths.Select(_ => "---|"))}---|");
        var logSums = new double[growths.Count];
        var fields = 0;
        foreach (var family in families)
        foreach (var seed in seeds)
        {
            var (ratios, forestFits) = RunField(FieldFamilies.Create(family, seed), seed);
            for (var g = 0; g < growths.Count; g++) logSums[g] += Math.Log(ratios[g]);
            fields++;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {family} | {seed} | {string.Join(" | ", ratios.Select(r => r.ToString("F3", CultureInfo.InvariantCulture)))} | {string.Join(" / ", forestFits)} |"));
        }
        var pooled = logSums.Select(s => Math.Exp(s / fields)).ToArray();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| all | | {string.Join(" | ", pooled.Select(r => r.ToString("F3", CultureInfo.InvariantCulture)))} | |"));
        output.WriteLine();
        return pooled;
    }

    private (double[] Ratios, int[] ForestFits) RunField(IBenchField field, int seed)
    {
        var renderer = new XrdPatternRenderer();
        var analyzer = new XrdPhaseAnalyzer(renderer.Axis);
        var rng = new Random(seed * 31 + 7);
        var space = SpotChoiceBenchmark.Space;
        var planner = new RandomRoiPlanner(space, seed);
        var fitters = growths.Select(g => new HybridPhaseMapFitter(forestRefitGrowth: g)).ToArray();
        var observations = new List<Observation>();
        var logRatios = new double[growths.Count];
        var scored = 0;
        Func<double, double, double, double> truth = (x, y, _) => field.Static(x, y);
        for (var k = 0; k < frames; k++)
        {
            var decision = planner.NextRoi(observations, new RoiContext(5, 5, 0.5, 0));
            var (x, y) = (decision.Values["x_mm"], decision.Values["y_mm"]);
            if (BenchFrames.Observe(renderer, analyzer, rng, k, x, y, 0.5, 0, field.Static(x, y), 20, DecisionSource.Random) is { } o)
                observations.Add(o);
            var maps = fitters.Select(f => f.Fit(observations, k + 1)).ToArray();
            if (k + 1 < FirstScoredFrame || HybridPhaseMap.Fit(observations, k + 1) is not { } scratch) continue;
            var reference = MapError.Rmse(scratch, space, truth, [0.5]);
            for (var g = 0; g < growths.Count; g++) logRatios[g] += Math.Log(MapError.Rmse(maps[g]!, space, truth, [0.5]) / reference);
            scored++;
        }
        return (logRatios.Select(s => Math.Exp(s / Math.Max(1, scored))).ToArray(), fitters.Select(f => f.ForestFits).ToArray());
    }
}

using System.Diagnostics;
using System.Globalization;
using AutonomousBeamline.Bench;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Surrogate;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var quick = args.Contains("--quick");
var parts = Option("--parts") ?? "ebcrds"; // a, f, g and k on request
// Part e's knobs: how many field seeds, which families and modes, and which surrogate is the product's map.
var seedCount = int.Parse(Option("--seeds") ?? (quick ? "3" : "10"), CultureInfo.InvariantCulture);
var families = Option("--families")?.Split(',') ?? [.. FieldFamilies.All];
bool[] modes = (Option("--modes") ?? "static,operando").Split(',').Select(m => m == "operando").ToArray();
var surrogate = Option("--surrogate") ?? "hybrid";
// Experiments with the learner's settings: --learner edge=0.5,influence=1.5,cold=8,distance=0.003,local=1.5 (defaults otherwise).
var knobs = (Option("--learner") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(kv => kv.Split('='))
    .ToDictionary(kv => kv[0], kv => kv.Length == 2 && double.TryParse(kv[1], CultureInfo.InvariantCulture, out var v)
        ? v
        : throw new ArgumentException($"--learner expects name=number pairs separated by commas, got '{string.Join("=", kv)}'"));
string[] knownKnobs = ["edge", "local", "influence", "cold", "distance", "spread", "nonlinear", "neighbours", "floor", "proj", "fill", "every", "random", "nugget"];
if (knobs.Keys.FirstOrDefault(k => !knownKnobs.Contains(k)) is { } unknown)
    throw new ArgumentException($"--learner: unknown setting '{unknown}' (known: {string.Join(", ", knownKnobs)})");
var hybridOptions = HybridPhaseMapOptions.Default with
{
    EdgeWeight = knobs.GetValueOrDefault("edge", HybridPhaseMapOptions.Default.EdgeWeight),
    LocalLengthMm = knobs.GetValueOrDefault("local", HybridPhaseMapOptions.Default.LocalLengthMm),
    // One nugget for the correction spline instead of the leave-one-out choice among the defaults.
    Smoothings = knobs.TryGetValue("nugget", out var nugget) ? [nugget] : HybridPhaseMapOptions.Default.Smoothings,
};
var plannerOptions = LearnerPlannerOptions.Default with
{
    InfluenceLengthMm = knobs.GetValueOrDefault("influence", LearnerPlannerOptions.Default.InfluenceLengthMm),
    ColdStartCount = (int)knobs.GetValueOrDefault("cold", LearnerPlannerOptions.Default.ColdStartCount),
    DistanceWeight = knobs.GetValueOrDefault("distance", LearnerPlannerOptions.Default.DistanceWeight),
    MapSpreadWeight = knobs.GetValueOrDefault("spread", LearnerPlannerOptions.Default.MapSpreadWeight),
    NonlinearityWeight = knobs.GetValueOrDefault("nonlinear", LearnerPlannerOptions.Default.NonlinearityWeight),
    NonlinearityNeighbours = (int)knobs.GetValueOrDefault("neighbours", LearnerPlannerOptions.Default.NonlinearityNeighbours),
    NonlinearityFloor = knobs.GetValueOrDefault("floor", LearnerPlannerOptions.Default.NonlinearityFloor),
    ProjectionWeight = knobs.GetValueOrDefault("proj", LearnerPlannerOptions.Default.ProjectionWeight),
    FillGuardFactor = knobs.GetValueOrDefault("fill", LearnerPlannerOptions.Default.FillGuardFactor),
    SpaceFillingEvery = (int)knobs.GetValueOrDefault("every", LearnerPlannerOptions.Default.SpaceFillingEvery),
    RandomEvery = (int)knobs.GetValueOrDefault("random", LearnerPlannerOptions.Default.RandomEvery),
};
var clock = Stopwatch.StartNew();
var output = Console.Out;
output.WriteLine($"# AutonomousBeamline benchmark ({(quick ? "quick" : "full")}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
output.WriteLine();

// How the product's map is fitted frame after frame: as the trainer does (incremental: the spline updated, the forest refitted
// after --forest-growth, by default on every frame), or from scratch on every frame.
var fitter = Option("--fitter") ?? "incremental";
if (fitter is not ("incremental" or "scratch")) throw new ArgumentException($"--fitter expects incremental or scratch, got '{fitter}'");
var forestGrowth = double.Parse(Option("--forest-growth") ?? HybridPhaseMapFitter.DefaultForestRefitGrowth.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
var incrementalFitter = new HybridPhaseMapFitter(hybridOptions, forestGrowth);
Func<IReadOnlyList<Observation>, int, IPhaseMap?> hybridFit = fitter == "incremental"
    ? incrementalFitter.Fit
    : (o, v) => HybridPhaseMap.Fit(o, v, hybridOptions);
var spots = parts.Contains('e')
    ? new SpotChoiceBenchmark(80, families, Enumerable.Range(1, seedCount).ToArray(), modes, output,
        surrogate == "forest" ? (o, v) => ForestPhaseMap.Fit(o, v) : hybridFit,
        surrogate == "forest" ? "normalised forest" : fitter == "incremental"
            ? $"hybrid (forest + spline correction), fitted as the trainer does (spline updated every frame, forest refitted after {forestGrowth:P0} growth)"
            : "hybrid (forest + spline correction), fitted from scratch on every frame", plannerOptions, Option("--csv")).Execute()
    : null;
if (parts.Contains('f'))
    new ForestRefitBenchmark(80, Option("--families")?.Split(',') ?? ["blobs", "tab-crack", "electrode"], Enumerable.Range(1, int.Parse(Option("--seeds") ?? (quick ? "2" : "4"), CultureInfo.InvariantCulture)).ToArray(),
        [0.05, 0.1, 0.2], output).Execute();
var map = parts.Contains('a')
    ? new MapBenchmark(80, quick ? [1, 2] : [1, 2, 3, 4, 5], [1.0, 2.0], output).Execute()
    : null;
if (parts.Contains('g'))
    new MapBenchmark(80, quick ? [1, 2] : [1, 2, 3, 4, 5], [1.0, 2.0], output, gaussianProcess: true).Execute();
var xas = parts.Contains('b')
    ? new XasBenchmark(quick ? [1, 2] : [1, 2, 3, 4, 5, 6, 7, 8], 40, output).Execute()
    : null;
var rates = parts.Contains('r')
    ? new RateBenchmark(6, Enumerable.Range(1, quick ? 3 : 10).ToArray(), output).Execute()
    : null;
var latency = parts.Contains('c')
    // 101 x 101 = 10,201 candidates at 0.1 mm; 317 x 317 = 100,489 at 10/316 mm.
    ? new LatencyBenchmark(LatencySizes(Option("--sizes")), quick ? 40 : 200, output).Execute()
    : null;
var patternsPerS = parts.Contains('d')
    ? new FeatureBenchmark(quick ? 500 : 3000, output).Execute()
    : double.NaN;
// Part k's knobs: --frames FILE (a run's frames.jsonl: the rank frame after frame over its patterns instead of the synthetic
// windows), --disposition D (only the patterns kept as D, e.g. flagged:reference-misfit).
if (parts.Contains('k'))
{
    if (Option("--frames") is { } framesFile) new DecompositionBenchmark(40, output).FromRun(framesFile, Option("--disposition"));
    else new DecompositionBenchmark(40, output).Execute();
}
var (sigmaRms, xasSigmaRms, xasSparseSigmaRms) = parts.Contains('s')
    ? new SigmaBenchmark(quick ? 60 : 300, output).Execute()
    : (double.NaN, double.NaN, double.NaN);
output.WriteLine($"total {clock.Elapsed.TotalSeconds:F0} s");
// The last line is the machine-readable summary; a part that was not run reports null.
var summary = new Dictionary<string, double?>
{
    ["speedup_vs_coarse_raster"] = Round(spots?.VsCoarseProduct, 2),
    ["speedup_vs_random"] = Round(spots?.VsRandomProduct, 2),
    ["spot_choice_speedup_vs_coarse_raster"] = Round(spots?.VsCoarseSpline, 2),
    ["spot_choice_speedup_vs_random"] = Round(spots?.VsRandomSpline, 2),
    ["worst_learner_over_random"] = Round(spots?.WorstVsRandom, 3),
    ["coverage_90"] = Round(spots?.MedianCoverage, 3),
    ["speedup_vs_serpentine"] = Round(map?.SpeedupVsRaster, 2),
    ["xas_points_fraction"] = Round(xas?.PointsFraction, 4),
    ["xas_edge_error_eV"] = Round(xas?.EdgeErrorEv, 4),
    ["c_rate_gain_vs_best_fixed"] = Round(rates?.GainVsBestFixed, 2),
    ["c_rate_gain_vs_random"] = Round(rates?.GainVsRandom, 2),
    ["p95_decision_ms_1000"] = Round(latency is not null && latency.TryGetValue((1000, 10_201), out var p95) ? p95.WallP95Ms : null, 3),
    ["p95_decision_ms_10000_x_100000"] = Round(latency is not null && latency.TryGetValue((10_000, 100_489), out var p95Large) ? p95Large.WallP95Ms : null, 3),
    // The same percentiles of the decision thread's own CPU time: what the code costs, without the waits of a loaded machine.
    ["p95_decision_cpu_ms_1000"] = Round(latency is not null && latency.TryGetValue((1000, 10_201), out var cpu) ? cpu.CpuP95Ms : null, 3),
    ["p95_decision_cpu_ms_10000_x_100000"] = Round(latency is not null && latency.TryGetValue((10_000, 100_489), out var cpuLarge) ? cpuLarge.CpuP95Ms : null, 3),
    ["patterns_per_s"] = Round(double.IsFinite(patternsPerS) ? patternsPerS : null, 0),
    // The z-score RMS furthest from 1 (either way) over the mismatched rows of part s.
    ["xrd_sigma_z_rms_worst"] = Round(double.IsFinite(sigmaRms) ? sigmaRms : null, 2),
    ["xas_sigma_z_rms_worst"] = Round(double.IsFinite(xasSigmaRms) ? xasSigmaRms : null, 2),
    ["xas_sparse_sigma_z_rms_worst"] = Round(double.IsFinite(xasSparseSigmaRms) ? xasSparseSigmaRms : null, 2),
};
output.WriteLine(System.Text.Json.JsonSerializer.Serialize(summary));

string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

// Part c's sizes: observations x candidates (a square grid over the 10 x 10 mm electrode), e.g. --sizes 1000x10201,10000x100489.
static (int Observations, double StepMm)[] LatencySizes(string? option) =>
    (option ?? "100x10201,1000x10201,5000x10201,10000x100489").Split(',').Select(size =>
    {
        var parts = size.Split('x');
        if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var observations) || observations < 1
            || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out var candidates) || Math.Sqrt(candidates) % 1 != 0 || candidates < 4)
            throw new ArgumentException($"--sizes expects OBSERVATIONSxCANDIDATES with a square number of candidates (e.g. 1000x10201), got '{size}'");
        return (observations, 10.0 / (Math.Sqrt(candidates) - 1));
    }).ToArray();

static double? Round(double? value, int digits) => value is { } v && double.IsFinite(v) ? Math.Round(v, digits) : null;

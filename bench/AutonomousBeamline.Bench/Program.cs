using System.Diagnostics;
using System.Globalization;
using AutonomousBeamline.Bench;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var quick = args.Contains("--quick");
var parts = args.SkipWhile(a => a != "--parts").Skip(1).FirstOrDefault() ?? "agbcde";
var clock = Stopwatch.StartNew();
var output = Console.Out;
output.WriteLine($"# AutonomousBeamline benchmark ({(quick ? "quick" : "full")}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
output.WriteLine();

var map = parts.Contains('a')
    ? new MapBenchmark(80, quick ? [1, 2] : [1, 2, 3, 4, 5], [1.0, 2.0], output).Execute()
    : null;
if (parts.Contains('g'))
    new MapBenchmark(80, quick ? [1, 2] : [1, 2, 3, 4, 5], [1.0, 2.0], output, gaussianProcess: true).Execute();
var xas = parts.Contains('b')
    ? new XasBenchmark(quick ? [1, 2] : [1, 2, 3, 4, 5, 6, 7, 8], 40, output).Execute()
    : null;
var latency = parts.Contains('c')
    ? new LatencyBenchmark([100, 1000, 5000], quick ? 40 : 200, output).Execute()
    : null;
var patternsPerS = parts.Contains('d')
    ? new FeatureBenchmark(quick ? 500 : 3000, output).Execute()
    : double.NaN;
var sigmaRms = parts.Contains('e')
    ? new SigmaBenchmark(quick ? 60 : 300, output).Execute()
    : double.NaN;
output.WriteLine($"total {clock.Elapsed.TotalSeconds:F0} s");
// The last line is the machine-readable summary; a part that was not run reports null.
var summary = new Dictionary<string, double?>
{
    ["speedup_vs_raster"] = Round(map?.SpeedupVsRaster, 2),
    ["speedup_vs_random"] = Round(map?.SpeedupVsRandom, 2),
    ["xas_points_fraction"] = Round(xas?.PointsFraction, 4),
    ["xas_edge_error_eV"] = Round(xas?.EdgeErrorEv, 4),
    ["p95_decision_ms_1000"] = Round(latency is not null && latency.TryGetValue(1000, out var p95) ? p95 : null, 3),
    ["patterns_per_s"] = Round(double.IsFinite(patternsPerS) ? patternsPerS : null, 0),
    // The z-score RMS furthest from 1 (either way) over the mismatched rows of part e.
    ["xrd_sigma_z_rms_worst"] = Round(double.IsFinite(sigmaRms) ? sigmaRms : null, 2),
};
output.WriteLine(System.Text.Json.JsonSerializer.Serialize(summary));

static double? Round(double? value, int digits) => value is { } v && double.IsFinite(v) ? Math.Round(v, digits) : null;

using System.Diagnostics;
using System.Globalization;
using AutonomousBeamline.Bench;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var quick = args.Contains("--quick");
var parts = args.SkipWhile(a => a != "--parts").Skip(1).FirstOrDefault() ?? "abcd";
var clock = Stopwatch.StartNew();
var output = Console.Out;
output.WriteLine($"# AutonomousBeamline benchmark ({(quick ? "quick" : "full")}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
output.WriteLine();

var map = parts.Contains('a')
    ? new MapBenchmark(80, quick ? [1, 2] : [1, 2, 3, 4, 5], [1.0, 2.0], output).Execute()
    : null;
var xas = parts.Contains('b')
    ? new XasBenchmark(quick ? [1, 2] : [1, 2, 3, 4, 5, 6, 7, 8], 40, output).Execute()
    : null;
var latency = parts.Contains('c')
    ? new LatencyBenchmark([100, 1000, 5000], quick ? 40 : 200, output).Execute()
    : null;
var patternsPerS = parts.Contains('d')
    ? new FeatureBenchmark(quick ? 500 : 3000, output).Execute()
    : double.NaN;
output.WriteLine($"total {clock.Elapsed.TotalSeconds:F0} s");

using System.Diagnostics;
using System.Globalization;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Bench;

/// <summary>Part d: phase-fraction extraction throughput on one core, 4096-bin patterns rendered beforehand (rendering is not timed).</summary>
internal sealed class FeatureBenchmark(int patterns, TextWriter output)
{
    public double Execute()
    {
        var renderer = new XrdPatternRenderer();
        var analyzer = new XrdPhaseAnalyzer(renderer.Axis);
        var rng = new Random(11);
        var fractions = Enumerable.Range(0, patterns).Select(_ => rng.NextDouble()).ToArray();
        var frames = fractions.Select((f, i) => BenchFrames.Xrd(renderer.Render(f, 20, 1, rng), renderer.Axis, i, 20)).ToArray();
        for (var i = 0; i < Math.Min(50, frames.Length); i++) analyzer.Analyze(frames[i]); // JIT warm-up
        var errors = new double[frames.Length];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < frames.Length; i++) errors[i] = Math.Abs(analyzer.Analyze(frames[i]).PhaseFraction - fractions[i]);
        var seconds = clock.Elapsed.TotalSeconds;
        var rate = frames.Length / seconds;
        output.WriteLine($"## d. feature extraction ({frames.Length} patterns of {renderer.Axis.N} bins, one thread)");
        output.WriteLine("| patterns/s | µs per pattern | phase-fraction MAE |");
        output.WriteLine("|---|---|---|");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {rate:F0} | {1e6 / rate:F0} | {errors.Average():F4} |"));
        output.WriteLine();
        return rate;
    }
}

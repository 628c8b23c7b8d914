using System.Diagnostics;
using System.Globalization;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Learning.Surrogate;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Bench;

/// <summary>
/// Part c: decision latency, frame in → next command out: analyse the fresh 4096-bin pattern, append the observation, ask the
/// learner for the next spot among ~10,000 candidates. The map is refitted in the background in a real run and is not part of
/// the path; "steady" decisions reuse the published map, "new map" decisions are the first after a refit (the planner then
/// re-evaluates the map's spread over its coarse lattice). Fit times (forest alone, and the hybrid the trainer publishes) are shown for scale.
/// </summary>
internal sealed class LatencyBenchmark(IReadOnlyList<(int Observations, double StepMm)> sizes, int decisions, TextWriter output)
{
    /// <summary>Steady p95 (ms) per (observations, candidates).</summary>
    public IReadOnlyDictionary<(int Observations, int Candidates), double> Execute()
    {
        output.WriteLine($"## c. decision latency, frame in -> next command out (10 x 10 mm electrode, {decisions} decisions per size, one thread, the product's map: hybrid)");
        output.WriteLine("| observations | candidates | p50 steady (ms) | p95 steady (ms) | p50 first on a new map (ms) | p95 first on a new map (ms) | forest fit (s) | hybrid fit (s) |");
        output.WriteLine("|---|---|---|---|---|---|---|---|");
        var renderer = new XrdPatternRenderer();
        var analyzer = new XrdPhaseAnalyzer(renderer.Axis);
        var field = new ElectrodeField(3, 0, 10, 0, 10);
        var rng = new Random(5);
        var frames = Enumerable.Range(0, 16).Select(i => BenchFrames.Xrd(renderer.Render(0.5, 20, 1, rng), renderer.Axis, i, 20)).ToArray();
        var p95 = new Dictionary<(int, int), double>();
        foreach (var (count, step) in sizes)
        {
            var space = new RoiSearchSpace(0, 10, 0, 10, step);
            var candidates = space.GridPoints().Count();
            var observations = Enumerable.Range(0, count).Select(i =>
            {
                var x = rng.NextDouble() * 10; var y = rng.NextDouble() * 10; var soc = 0.1 + 0.8 * rng.NextDouble();
                return Observation(i, x, y, soc, field.LocalStateOfCharge(x, y, soc, 1.0) + 0.01 * (rng.NextDouble() - 0.5));
            }).ToList();
            var fitClock = Stopwatch.StartNew();
            ForestPhaseMap.Fit(observations, 1);
            var forestS = fitClock.Elapsed.TotalSeconds;
            fitClock.Restart();
            var maps = Enumerable.Range(0, 2).Select(v => PhaseMapTrainer.FitDefault(observations, v + 1, new ForestPhaseMapOptions { Seed = v + 1 })!).ToArray();
            var hybridS = fitClock.Elapsed.TotalSeconds / maps.Length;
            IPhaseMap current = maps[0];
            var planner = new LearnerRoiPlanner(space, () => current, new AxisSpeeds(2, 2), seed: 1);
            // Warm-up on a copy: JIT tiers and the first pass over the observations are start-up costs, not decision costs.
            var warmUp = observations.ToList();
            for (var w = 0; w < 30; w++)
            {
                analyzer.Analyze(frames[w % frames.Length]);
                warmUp.Add(Observation(-1 - w, 5, 5, 0.5, 0.5));
                planner.NextRoi(warmUp, new RoiContext(5, 5, 0.5, 1.0));
            }
            // The planner then tracks the real list once (a run's planner has tracked its observations as they came).
            planner.NextRoi(observations, new RoiContext(5, 5, 0.5, 1.0));
            var steady = new List<double>();
            var fresh = new List<double>();
            var probe = new List<string>();
            double x0 = 5, y0 = 5;
            for (var d = 0; d < decisions; d++)
            {
                var newMap = d % 10 == 0;
                if (newMap) current = maps[(d / 10 + 1) % maps.Length];
                var soc = 0.1 + 0.8 * d / decisions;
                var g0 = GC.CollectionCount(0); var g1 = GC.CollectionCount(1); var g2 = GC.CollectionCount(2);
                var bytes = GC.GetAllocatedBytesForCurrentThread();
                var cpu = ThreadClock.Milliseconds();
                var clock = Stopwatch.StartNew();
                var features = analyzer.Analyze(frames[d % frames.Length]);
                var tAnalyse = clock.Elapsed.TotalMilliseconds;
                var bytesAnalyse = GC.GetAllocatedBytesForCurrentThread() - bytes;
                observations.Add(Observation(count + d, x0, y0, soc, features.PhaseFraction));
                var decision = planner.NextRoi(observations, new RoiContext(x0, y0, soc, 1.0));
                var ms = clock.Elapsed.TotalMilliseconds;
                var cpuMs = ThreadClock.Milliseconds() - cpu;
                (newMap ? fresh : steady).Add(ms);
                probe.Add(string.Create(CultureInfo.InvariantCulture, $"{d},{(newMap ? 1 : 0)},{ms:F3},{cpuMs:F3},{tAnalyse:F3},{bytesAnalyse},{GC.GetAllocatedBytesForCurrentThread() - bytes},{GC.CollectionCount(0) - g0},{GC.CollectionCount(1) - g1},{GC.CollectionCount(2) - g2}"));
                x0 = decision.Values["x_mm"]; y0 = decision.Values["y_mm"];
            }
            File.WriteAllLines($"/tmp/speedprobe/probe-{count}.csv", ["d,new,ms,cpu,analyse_ms,analyse_bytes,bytes,g0,g1,g2", .. probe]);
            p95[(count, candidates)] = BenchFrames.Percentile(steady, 95);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {count} | {candidates} | {BenchFrames.Percentile(steady, 50):F2} | {p95[(count, candidates)]:F2} | {BenchFrames.Percentile(fresh, 50):F2} | {BenchFrames.Percentile(fresh, 95):F2} | {forestS:F2} | {hybridS:F2} |"));
        }
        output.WriteLine();
        return p95;
    }

    private static Observation Observation(int i, double x, double y, double soc, double fraction) => new()
    {
        Sequence = i, Frame = i, Time = DateTimeOffset.UnixEpoch.AddSeconds(i), Kind = FrameKind.Xrd, XMm = x, YMm = y,
        StateOfCharge = soc, CRate = 1.0, PhaseFraction = fraction, PhaseFractionSigma = 0.01, BeamCurrentMa = 200,
    };
}

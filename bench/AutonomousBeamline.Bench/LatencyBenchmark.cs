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
/// re-evaluates the trees over the grid). Fit times are shown for scale.
/// </summary>
internal sealed class LatencyBenchmark(IReadOnlyList<int> observationCounts, int decisions, TextWriter output)
{
    // 101 x 101 = 10,201 candidates.
    private static readonly RoiSearchSpace Space = new(0, 10, 0, 10, 0.1);

    public IReadOnlyDictionary<int, double> Execute()
    {
        output.WriteLine($"## c. decision latency, frame in -> next command out ({Space.GridPoints().Count()} candidates, {decisions} decisions per size, one thread)");
        output.WriteLine("| observations | p50 steady (ms) | p95 steady (ms) | p50 first on a new map (ms) | p95 first on a new map (ms) | forest fit (s) |");
        output.WriteLine("|---|---|---|---|---|---|");
        var renderer = new XrdPatternRenderer();
        var analyzer = new XrdPhaseAnalyzer(renderer.Axis);
        var field = new ElectrodeField(3, 0, 10, 0, 10);
        var rng = new Random(5);
        var frames = Enumerable.Range(0, 16).Select(i => BenchFrames.Xrd(renderer.Render(0.5, 20, 1, rng), renderer.Axis, i, 20)).ToArray();
        var p95 = new Dictionary<int, double>();
        foreach (var count in observationCounts)
        {
            var observations = Enumerable.Range(0, count).Select(i =>
            {
                var x = rng.NextDouble() * 10; var y = rng.NextDouble() * 10; var soc = 0.1 + 0.8 * rng.NextDouble();
                return Observation(i, x, y, soc, field.LocalStateOfCharge(x, y, soc, 1.0) + 0.01 * (rng.NextDouble() - 0.5));
            }).ToList();
            var fitClock = Stopwatch.StartNew();
            var maps = Enumerable.Range(0, 2).Select(v => ForestPhaseMap.Fit(observations, v + 1, new ForestPhaseMapOptions { Seed = v + 1 })!).ToArray();
            var fitS = fitClock.Elapsed.TotalSeconds / maps.Length;
            IPhaseMap current = maps[0];
            var planner = new LearnerRoiPlanner(Space, () => current, new AxisSpeeds(2, 2), seed: 1);
            // Warm-up on a copy: JIT tiers and the first pass over the observations are start-up costs, not decision costs.
            var warmUp = observations.ToList();
            for (var w = 0; w < 30; w++)
            {
                analyzer.Analyze(frames[w % frames.Length]);
                warmUp.Add(Observation(-1 - w, 5, 5, 0.5, 0.5));
                planner.NextRoi(warmUp, new RoiContext(5, 5, 0.5, 1.0));
            }
            var steady = new List<double>();
            var fresh = new List<double>();
            double x0 = 5, y0 = 5;
            for (var d = 0; d < decisions; d++)
            {
                var newMap = d % 10 == 0;
                if (newMap) current = maps[(d / 10 + 1) % maps.Length];
                var soc = 0.1 + 0.8 * d / decisions;
                var clock = Stopwatch.StartNew();
                var features = analyzer.Analyze(frames[d % frames.Length]);
                observations.Add(Observation(count + d, x0, y0, soc, features.PhaseFraction));
                var decision = planner.NextRoi(observations, new RoiContext(x0, y0, soc, 1.0));
                var ms = clock.Elapsed.TotalMilliseconds;
                (newMap ? fresh : steady).Add(ms);
                x0 = decision.Values["x_mm"]; y0 = decision.Values["y_mm"];
            }
            p95[count] = BenchFrames.Percentile(steady, 95);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {count} | {BenchFrames.Percentile(steady, 50):F2} | {p95[count]:F2} | {BenchFrames.Percentile(fresh, 50):F2} | {BenchFrames.Percentile(fresh, 95):F2} | {fitS:F2} |"));
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

using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Learning.Surrogate;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Bench;

/// <summary>Part c's figures for one size: wall-clock and thread-CPU p95 of a decision (ms).</summary>
internal sealed record LatencyFigures(double WallP95Ms, double CpuP95Ms);

/// <summary>
/// Part c: decision latency, frame in → next command out: analyse the fresh 4096-bin pattern, append the observation, ask the
/// learner for the next spot among 10,000 or 100,000 candidates. The map is refitted in the background in a real run and is not
/// part of the path; every tenth decision meets a new map, whose spread over the planner's lattice the trainer's thread has
/// evaluated before publishing it (<see cref="LearnerRoiPlanner.Prepare"/>; its cost is a column of its own). Each decision is
/// timed by the wall clock and by the thread's own CPU time: on a shared, loaded machine the wall-clock tail is mostly time spent
/// waiting for a core. The decisions are timed once the JIT has settled (no method compiled for half a second), as in a run that
/// has been going for a while. Fit times: the forest alone, the hybrid from scratch, and the trainer's incremental fit per frame.
/// </summary>
internal sealed class LatencyBenchmark(IReadOnlyList<(int Observations, double StepMm)> sizes, int decisions, TextWriter output)
{
    private const int IncrementalFrames = 20;

    /// <summary>Steady p95s (ms) per (observations, candidates).</summary>
    public IReadOnlyDictionary<(int Observations, int Candidates), LatencyFigures> Execute()
    {
        output.WriteLine($"## c. decision latency, frame in -> next command out (10 x 10 mm electrode, {decisions} decisions per size, one thread, the product's map: hybrid; {Environment.ProcessorCount} cores, load average {LoadAverage()} at the start, {(GCSettings.IsServerGC ? "server" : "workstation")} GC)");
        output.WriteLine("| observations | candidates | wall p50 / p95 (ms) | thread CPU p50 / p95 (ms) | waited > 1 ms for a core | first on a new map: wall / CPU p95 (ms) | new map's lattice spread, on the training thread (ms) | allocated per decision (KB) | GCs gen0/1/2 in the decisions | forest fit (s) | hybrid fit from scratch (s) | incremental fit per frame: wall p50 / CPU p50 / wall max (ms), forest refits |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        var renderer = new XrdPatternRenderer();
        var analyzer = new XrdPhaseAnalyzer(renderer.Axis);
        var field = new ElectrodeField(3, 0, 10, 0, 10);
        var rng = new Random(5);
        var frames = Enumerable.Range(0, 16).Select(i => BenchFrames.Xrd(renderer.Render(0.5, 20, 1, rng), renderer.Axis, i, 20)).ToArray();
        var figures = new Dictionary<(int, int), LatencyFigures>();
        var warmUps = new List<string>();
        foreach (var (count, step) in sizes)
        {
            var space = new RoiSearchSpace(0, 10, 0, 10, step);
            var candidates = space.GridPoints().Count();
            Observation Random(int i)
            {
                var x = rng.NextDouble() * 10; var y = rng.NextDouble() * 10; var soc = 0.1 + 0.8 * rng.NextDouble();
                return Observation(i, x, y, soc, field.LocalStateOfCharge(x, y, soc, 1.0) + 0.01 * (rng.NextDouble() - 0.5));
            }
            var observations = Enumerable.Range(0, count).Select(Random).ToList();
            var fitClock = Stopwatch.StartNew();
            ForestPhaseMap.Fit(observations, 1);
            var forestS = fitClock.Elapsed.TotalSeconds;
            fitClock.Restart();
            var maps = Enumerable.Range(0, 2).Select(v => PhaseMapTrainer.FitDefault(observations, v + 1, new ForestPhaseMapOptions { Seed = v + 1 })!).ToArray();
            var hybridS = fitClock.Elapsed.TotalSeconds / maps.Length;
            var (incrementalMs, forestRefits) = IncrementalFits(observations, Random);

            IPhaseMap current = maps[0];
            var planner = new LearnerRoiPlanner(space, () => current, new AxisSpeeds(2, 2), seed: 1);
            var preparations = new List<double>();
            void Publish(IPhaseMap map)
            {
                // What the trainer's thread does before publishing: not part of the decision.
                var clock = Stopwatch.StartNew();
                planner.Prepare(map);
                preparations.Add(clock.Elapsed.TotalMilliseconds);
                current = map;
            }
            warmUps.Add($"{count}: {WarmUp(planner, analyzer, frames, observations, maps, Publish)}");
            preparations.Clear();
            // The planner then tracks the real list once (a run's planner has tracked its observations as they came).
            planner.NextRoi(observations, new RoiContext(5, 5, 0.5, 1.0));
            var steady = new List<(double Wall, double Cpu)>();
            var fresh = new List<(double Wall, double Cpu)>();
            long allocated = 0;
            var gcBefore = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
            double x0 = 5, y0 = 5;
            for (var d = 0; d < decisions; d++)
            {
                var newMap = d % 10 == 0;
                if (newMap) Publish(maps[(d / 10 + 1) % maps.Length]);
                var soc = 0.1 + 0.8 * d / decisions;
                var bytes = GC.GetAllocatedBytesForCurrentThread();
                var cpu = ThreadClock.Milliseconds();
                var clock = Stopwatch.StartNew();
                var features = analyzer.Analyze(frames[d % frames.Length]);
                observations.Add(Observation(count + d, x0, y0, soc, features.PhaseFraction));
                var decision = planner.NextRoi(observations, new RoiContext(x0, y0, soc, 1.0));
                var wall = clock.Elapsed.TotalMilliseconds;
                (newMap ? fresh : steady).Add((wall, ThreadClock.Milliseconds() - cpu));
                allocated += GC.GetAllocatedBytesForCurrentThread() - bytes;
                x0 = decision.Values["x_mm"]; y0 = decision.Values["y_mm"];
            }
            var gcs = $"{GC.CollectionCount(0) - gcBefore.Item1}/{GC.CollectionCount(1) - gcBefore.Item2}/{GC.CollectionCount(2) - gcBefore.Item3}";
            var wallP95 = P(steady, s => s.Wall, 95);
            var cpuP95 = P(steady, s => s.Cpu, 95);
            figures[(count, candidates)] = new LatencyFigures(wallP95, cpuP95);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {count} | {candidates} | {P(steady, s => s.Wall, 50):F2} / {wallP95:F2} | {P(steady, s => s.Cpu, 50):F2} / {cpuP95:F2} | {steady.Count(s => s.Wall - s.Cpu > 1)} of {steady.Count} | {P(fresh, s => s.Wall, 95):F2} / {P(fresh, s => s.Cpu, 95):F2} | {BenchFrames.Percentile(preparations, 50):F1} | {allocated / 1024.0 / decisions:F0} | {gcs} | {forestS:F2} | {hybridS:F2} | {P(incrementalMs, f => f.Wall, 50):F1} / {P(incrementalMs, f => f.Cpu, 50):F1} / {incrementalMs.Max(f => f.Wall):F0}, {forestRefits} of {IncrementalFrames} |"));
        }
        output.WriteLine($"load average {LoadAverage()} at the end; warm-up decisions until the JIT settled, per size: {string.Join(", ", warmUps)}");
        output.WriteLine();
        return figures;
    }

    private static double P(List<(double Wall, double Cpu)> values, Func<(double Wall, double Cpu), double> pick, double p) =>
        BenchFrames.Percentile(values.Select(pick).ToList(), p);

    /// <summary>
    /// The trainer's fitter on the observations, then on one more frame at a time: how long a fit per frame takes once the
    /// spline's systems are kept (the forest refitted when the frames grew by the trainer's default share).
    /// </summary>
    private static (List<(double Wall, double Cpu)> PerFrameMs, int ForestRefits) IncrementalFits(List<Observation> observations, Func<int, Observation> next)
    {
        var fitter = new HybridPhaseMapFitter();
        var history = observations.ToList();
        fitter.Fit(history, 1);
        var times = new List<(double Wall, double Cpu)>();
        var refits = 0;
        for (var k = 0; k < IncrementalFrames; k++)
        {
            history.Add(next(-100 - k));
            var cpu = ThreadClock.Milliseconds();
            var clock = Stopwatch.StartNew();
            fitter.Fit(history, k + 2);
            times.Add((clock.Elapsed.TotalMilliseconds, ThreadClock.Milliseconds() - cpu));
            if (fitter.LastFitRefittedForest) refits++;
        }
        return (times, refits);
    }

    /// <summary>
    /// Decisions on a copy of the observations until no method has been (re)compiled for half a second: tier-0 code and its
    /// recompilation are start-up costs a run pays in its first minutes, not the cost of a decision.
    /// </summary>
    /// <returns>How many warm-up decisions it took.</returns>
    private static int WarmUp(LearnerRoiPlanner planner, XrdPhaseAnalyzer analyzer, Frame[] frames, List<Observation> observations,
        IPhaseMap[] maps, Action<IPhaseMap> publish)
    {
        var copy = observations.ToList();
        var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
        var quiet = Stopwatch.StartNew();
        var w = 0;
        for (; w < 30 || (quiet.ElapsedMilliseconds < 500 && w < 3000); w++)
        {
            if (w % 10 == 0) publish(maps[w / 10 % maps.Length]);
            analyzer.Analyze(frames[w % frames.Length]);
            copy.Add(Observation(-1 - w, 5, 5, 0.5, 0.5));
            planner.NextRoi(copy, new RoiContext(5, 5, 0.5, 1.0));
            var now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now != compiled) { compiled = now; quiet.Restart(); }
        }
        return w;
    }

    private static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
        catch (UnauthorizedAccessException) { return "unknown"; }
    }

    private static Observation Observation(int i, double x, double y, double soc, double fraction) => new()
    {
        Sequence = i, Frame = i, Time = DateTimeOffset.UnixEpoch.AddSeconds(i), Kind = FrameKind.Xrd, XMm = x, YMm = y,
        StateOfCharge = soc, CRate = 1.0, PhaseFraction = fraction, PhaseFractionSigma = 0.01, BeamCurrentMa = 200,
    };
}

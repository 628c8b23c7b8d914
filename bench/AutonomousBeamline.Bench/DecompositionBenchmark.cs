using System.Globalization;
using AutonomousBeamline.Core.Materials;
using AutonomousBeamline.Learning.Decomposition;
using AutonomousBeamline.Simulators.Physics;
using MathNet.Numerics.LinearAlgebra;

namespace AutonomousBeamline.Bench;

/// <summary>
/// Part k: how many components the rank estimate counts in a window of the simulator's patterns of two phases, one
/// frame-to-frame variation switched on at a time (per-frame strain, peak width, background level, beam and exposure).
/// </summary>
internal sealed class DecompositionBenchmark(int window, TextWriter output)
{
    private readonly List<double> Elapsed = [];

    private static readonly LatticePhase RockSalt = new("rock-salt", Lattice.Cubic(4.18),
        [new Reflection(1, 1, 1, 30), new Reflection(2, 0, 0, 100), new Reflection(2, 2, 0, 55), new Reflection(3, 1, 1, 20)]);

    public void Execute()
    {
        output.WriteLine("## k. Decomposition: components counted in a window of two-phase patterns");
        output.WriteLine();
        output.WriteLine($"{window} patterns of the olivines (progress uniform in 0.2–0.8), the simulator's renderer with one variation at a time.");
        output.WriteLine();
        output.WriteLine("| variation | rank | residual beyond it | threshold | σ̂ | singular values 1–8 |");
        output.WriteLine("| --- | --- | --- | --- | --- | --- |");
        var none = XrdRendererOptions.Default with { StrainSigma = 0, WidthJitter = 0, BackgroundJitter = 0 };
        Row("none (Poisson counts only)", none, false);
        Row("per-frame strain", none with { StrainSigma = XrdRendererOptions.Default.StrainSigma }, false);
        Row("per-frame width", none with { WidthJitter = XrdRendererOptions.Default.WidthJitter }, false);
        Row("per-frame background", none with { BackgroundJitter = XrdRendererOptions.Default.BackgroundJitter }, false);
        Row("beam and exposure (0.3–1 × 5–20 s)", none, true);
        Row("all (the simulator's defaults)", XrdRendererOptions.Default, false);
        Row("all, with beam and exposure", XrdRendererOptions.Default, true);
        output.WriteLine();
        output.WriteLine("The same with a third (cubic, rock-salt-like) phase growing in over the window's second half, to at most the share given.");
        output.WriteLine();
        output.WriteLine("| third phase's largest share | rank | residual beyond it | threshold | σ̂ | singular values 1–8 |");
        output.WriteLine("| --- | --- | --- | --- | --- | --- |");
        foreach (var share in new[] { 0.01, 0.02, 0.05, 0.1, 0.3, 0.5 })
            Row($"{share:P0}", XrdRendererOptions.Default, true, share);
        output.WriteLine();
        output.WriteLine("Three phases in every frame (the third 10–40 %, as frames a third phase has made misfits are).");
        output.WriteLine();
        output.WriteLine("| variation | rank | residual beyond it | threshold | σ̂ | singular values 1–8 |");
        output.WriteLine("| --- | --- | --- | --- | --- | --- |");
        Row("none", none, false, -1);
        Row("per-frame strain", none with { StrainSigma = XrdRendererOptions.Default.StrainSigma }, false, -1);
        Row("per-frame width", none with { WidthJitter = XrdRendererOptions.Default.WidthJitter }, false, -1);
        Row("all (the simulator's defaults)", XrdRendererOptions.Default, false, -1);
        output.WriteLine();
        output.WriteLine(FormattableString.Invariant($"One estimate of a 40 × {BatteryMaterials.DefaultXrdAxis.N} window: median {BenchFrames.Percentile(Elapsed, 50):0} ms, largest {Elapsed.Max():0} ms (one thread)."));
        output.WriteLine();
    }

    private void Row(string name, XrdRendererOptions options, bool varyBeam, double third = 0)
    {
        var renderer = new XrdPatternRenderer(BatteryMaterials.DefaultXrdAxis, options);
        var rng = new Random(3);
        var rows = new List<double[]>();
        for (var i = 0; i < window; i++)
        {
            var progress = 0.2 + 0.6 * rng.NextDouble();
            var exposure = varyBeam ? 5 + 15 * rng.NextDouble() : 20;
            var scale = varyBeam ? 0.3 + 0.7 * rng.NextDouble() : 1;
            var share = third < 0 ? 0.1 + 0.3 * rng.NextDouble() : i < window / 2 ? 0 : third * (i - window / 2 + 1) / (window / 2);
            var frame = third != 0 ? RenderWithThird(options, progress, share, exposure, scale, rng) : renderer.Render(progress, exposure, scale, rng);
            rows.Add(frame.Select(v => (double)v).ToArray());
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var estimate = SignificantComponents.Estimate(Matrix<double>.Build.DenseOfRowArrays(rows), NoiseModel.Poisson);
        Elapsed.Add(clock.Elapsed.TotalMilliseconds);
        var values = string.Join(", ", estimate.SingularValues.Take(8).Select(s => s.ToString("G4", CultureInfo.InvariantCulture)));
        output.WriteLine($"| {name} | {estimate.Rank} | {estimate.ResidualLeading:G4} | {estimate.Threshold:G4} | {estimate.NoiseSigma:G3} | {values} |");
    }

    /// <summary>
    /// The rank estimate frame after frame over a run's diffraction patterns (its <c>frames.jsonl</c>; preflight's aside), on
    /// windows of all of them or only of those with the given disposition: what the decomposition would have counted.
    /// </summary>
    public void FromRun(string framesJsonl, string? disposition)
    {
        output.WriteLine($"## k. Decomposition over the patterns of {framesJsonl}{(disposition is null ? "" : $" ({disposition} only)")}");
        output.WriteLine();
        output.WriteLine("| frame | disposition | exposure s | beam mA | total counts | rank | residual beyond k = 0, 1, … / its threshold | singular values 1–6 | components (id@peak:share) |");
        output.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        var rows = new List<double[]>();
        var decomposition = new IncrementalDecomposition(new DecompositionOptions(NoiseModel.Poisson, window));
        foreach (var line in File.ReadLines(framesJsonl))
        {
            var frame = System.Text.Json.Nodes.JsonNode.Parse(line)!;
            var header = frame["header"]!;
            var kept = (string?)frame["disposition"];
            if ((string?)header["kind"] != "xrd" || kept == "preflight" || disposition is not null && kept != disposition) continue;
            var bytes = Convert.FromBase64String((string)frame["intensities_f32le"]!);
            var counts = new double[bytes.Length / 4];
            for (var j = 0; j < counts.Length; j++) counts[j] = BitConverter.ToSingle(bytes, 4 * j);
            rows.Add(counts);
            if (rows.Count > window) rows.RemoveAt(0);
            var estimate = SignificantComponents.Estimate(Matrix<double>.Build.DenseOfRowArrays(rows), NoiseModel.Poisson);
            var values = string.Join(", ", estimate.SingularValues.Take(6).Select(v => v.ToString("G4", CultureInfo.InvariantCulture)));
            var update = decomposition.Add(counts);
            var start = (double)header["x_start"]!;
            var step = (double)header["x_step"]!;
            var peaks = string.Join(" ", update.Components.Select(c =>
                FormattableString.Invariant($"{c.Id}@{start + step * c.Shape.Select((v, j) => (v, j)).MaxBy(t => t.v).j:0.00}:{update.ScoreOf(c.Id)?.Fraction:0.00}")));
            var steps = string.Join(", ", estimate.Steps.Select(t => FormattableString.Invariant($"{t.Leading:G3}/{t.Threshold:G3}")));
            output.WriteLine(FormattableString.Invariant(
                $"| {header["frame"]} | {kept} | {header["exposure_s"]} | {(double?)header["beam_current_mA"]:0.#} | {counts.Sum():G4} | {estimate.Rank} | {steps} | {values} | {peaks} |"));
        }
        output.WriteLine();
    }

    /// <summary>A pattern whose third phase has the given share of the scattering (the olivines share the rest as the progress has them).</summary>
    private static float[] RenderWithThird(XrdRendererOptions options, double progress, double share, double exposure, double scale, Random rng)
    {
        var renderer = new XrdPatternRenderer(BatteryMaterials.DefaultXrdAxis, SimulatedDiffraction.Olivines with
        {
            Phases = [.. SimulatedDiffraction.Olivines.Phases, RockSalt],
            Reaction = new SampleReaction([new ReactionPhase("LiFePO4", 1 - share, 0), new ReactionPhase("FePO4", 0, 1 - share), new ReactionPhase("rock-salt", share, share)]),
        }, options);
        return renderer.Render(progress, exposure, scale, rng);
    }
}

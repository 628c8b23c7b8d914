using System.Globalization;
using AutonomousBeamline.Core.Materials;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Bench;

/// <summary>
/// Part e: how honest the diffraction fraction's σ is when the sample is not the references. Each frame is rendered from the
/// olivines with every reflection's intensity off by a seeded random relative amount and the peak widths scaled, at a random
/// FePO4 fraction; the z-score is (fitted − true) / σ. An honest σ gives an RMS near 1.
/// </summary>
internal sealed class SigmaBenchmark(int framesPerRow, TextWriter output)
{
    private static readonly (double Jitter, double Width)[] Mismatches = [(0, 1), (0.10, 1.10), (0.15, 1.20), (0.20, 0.85), (0.20, 1.20)];

    /// <returns>The mismatched rows' z RMS furthest from 1.</returns>
    public double Execute()
    {
        output.WriteLine($"## e. σ of the XRD fraction on frames off their references ({framesPerRow} frames per row, 1 s exposure)");
        output.WriteLine("| intensities off (σ) | widths × | z RMS (σ with mismatch) | z RMS (counting noise only) | fraction MAE |");
        output.WriteLine("|---|---|---|---|---|");
        var honest = new XrdPhaseAnalyzer();
        var countingOnly = new XrdPhaseAnalyzer(options: XrdAnalyzerOptions.Default with { MismatchBlocks = 0 });
        var worst = 1.0;
        foreach (var (jitter, width) in Mismatches)
        {
            var z = new List<double>();
            var zCounting = new List<double>();
            var errors = new List<double>();
            for (var seed = 0; seed < framesPerRow; seed++)
            {
                var mismatch = new PhysicsMismatch(IntensityJitter: jitter, Seed: 1000 + seed);
                var shape = PeakShape.Default with { FwhmDeg = PeakShape.Default.FwhmDeg * width, FwhmTanThetaDeg = PeakShape.Default.FwhmTanThetaDeg * width };
                var sample = SimulatedDiffraction.Olivines with { Phases = SimulatedDiffraction.Olivines.Phases.Select(mismatch.Apply).ToArray(), Shape = shape };
                var renderer = new XrdPatternRenderer(BatteryMaterials.DefaultXrdAxis, sample);
                var rng = new Random(seed);
                var truth = 0.1 + 0.8 * rng.NextDouble();
                var frame = BenchFrames.Xrd(renderer.Render(truth, 1, 1, rng), renderer.Axis, seed, 1);
                var a = honest.Analyze(frame);
                var b = countingOnly.Analyze(frame);
                if (!a.Usable || !b.Usable) continue;
                z.Add((a.PhaseFraction - truth) / a.PhaseFractionSigma);
                zCounting.Add((b.PhaseFraction - truth) / b.PhaseFractionSigma);
                errors.Add(Math.Abs(a.PhaseFraction - truth));
            }
            var rms = Math.Sqrt(z.Average(v => v * v));
            if (jitter > 0 && Math.Abs(Math.Log(rms)) > Math.Abs(Math.Log(worst))) worst = rms;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {jitter:P0} | {width:0.00} | {rms:F2} | {Math.Sqrt(zCounting.Average(v => v * v)):F2} | {errors.Average():F4} |"));
        }
        output.WriteLine();
        return worst;
    }
}

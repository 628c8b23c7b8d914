using System.Globalization;
using AutonomousBeamline.Core.Materials;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Simulators.Physics;
using AutonomousBeamline.Tests.Shared;

namespace AutonomousBeamline.Bench;

/// <summary>
/// Part s: how honest the σ of a fraction is when the sample is not the references. Diffraction: each frame is rendered from the
/// olivines with every reflection's intensity off by a seeded random relative amount and the peak widths scaled, at a random
/// FePO4 fraction. Absorption: each spectrum is rendered from edges off the analyser's references (<see cref="EdgeMismatch"/>,
/// drawn anew for every spectrum, or the dry run's <see cref="PhysicsMismatch"/>) at a random fraction. The z-score is
/// (fitted − true) / σ; an honest σ gives an RMS near 1. Sparse absorption scans: runs planned as a run plans them
/// (<see cref="SparseScanRuns"/>: dense every 20th scan, one sample per run), the σ of each sparse scan taking the mismatch from
/// the run's dense scans.
/// </summary>
internal sealed class SigmaBenchmark(int framesPerRow, TextWriter output)
{
    private static readonly (double Jitter, double Width)[] Mismatches = [(0, 1), (0.10, 1.10), (0.15, 1.20), (0.20, 0.85), (0.20, 1.20)];

    private const double XasDwellS = 1.0;

    /// <summary>How the sample's edges depart from the references in an absorption row; null: the dry run's <see cref="PhysicsMismatch"/>.</summary>
    private sealed record XasRow(string Name, EdgeMismatch? Edges);

    private static readonly XasRow[] XasRows =
    [
        new("matched", EdgeMismatch.None),
        new("white lines 10–20 % off", new EdgeMismatch(WhiteLines: true)),
        new("edge and white-line widths 10–20 % off", new EdgeMismatch(Widths: true)),
        new("edges shifted by up to ±0.3 eV, each its own", new EdgeMismatch(MaximumShiftEv: 0.3)),
        new("all three (shifts ≤ 0.2 eV)", new EdgeMismatch(WhiteLines: true, Widths: true, MaximumShiftEv: 0.2)),
        new("the dry run's physics: structure above the step ×(0.8–0.9 or 1.1–1.2), both edges moved ≤ 0.2 eV", null),
    ];

    private sealed record XasEdge(string Name, AbsorptionMaterials Materials, FeEdgeShape[] References, double FromEv, double ToEv);

    private static readonly XasEdge[] XasEdges =
    [
        new("Fe K", BatteryMaterials.FeKAbsorption, [BatteryMaterials.FeKEdge.Reduced, BatteryMaterials.FeKEdge.Oxidised], 7090, 7180),
        // The layered oxide's Ni K-edge of part b (the shapes of configs/references/ni-k-*.nor).
        new("Ni K", new AbsorptionMaterials(EdgeTable.Get("Ni", EdgeKind.K), []), [
            new FeEdgeShape(8344.5, 2.0, 7.0, 0.75, 4.0, 8333.5, 0.02) { Name = "NMC-pristine" },
            new FeEdgeShape(8347.5, 2.2, 6.0, 0.55, 4.5, 8334.2, 0.03) { Name = "NMC-charged" }], 8300, 8420),
    ];

    /// <returns>The mismatched diffraction rows' z RMS furthest from 1, and the same for the dense and the sparse absorption rows.</returns>
    public (double Xrd, double Xas, double XasSparse) Execute() => (ExecuteXrd(), ExecuteXas(), ExecuteXasSparse());

    /// <summary>Scans per run of the sparse rows, as <c>SparseScanSigmaTests</c> runs them: dense scans 1 and 21.</summary>
    private const int SparseScansPerRun = 30;

    private double ExecuteXasSparse()
    {
        // The sample is drawn once per run, so the runs, not the scans, are the independent draws: 300 spectra per row make 60 runs.
        var runs = Math.Max(2, framesPerRow / 5);
        output.WriteLine($"## s. σ of the XAS fraction of sparse scans, the mismatch from the run's dense scans ({runs} runs of {SparseScansPerRun} scans per row, dense every 20th, 0.5 eV grid, 1 s/point, 0.2 % noise)");
        output.WriteLine("| edge | sample's edges (one draw per run) | sparse scans | z RMS (σ with mismatch) | z RMS (least squares only) | fraction MAE | mean σ |");
        output.WriteLine("|---|---|---|---|---|---|---|");
        var worst = 1.0;
        foreach (var edge in XasEdges)
        {
            var analyzer = new XasEdgeAnalyzer(edge.Materials with { References = edge.References });
            var window = new Learning.Acquisition.EnergyWindow(edge.Name, edge.FromEv, edge.ToEv, 0.5);
            foreach (var row in XasRows.Where(r => r.Edges is not null))
            {
                var scans = SparseScanRuns.Run(analyzer, window, edge.References, row.Edges!, runs, SparseScansPerRun, firstSeed: 7000);
                var rms = SparseScanRuns.Rms(scans.Select(s => s.Z));
                if (row.Edges != EdgeMismatch.None && Math.Abs(Math.Log(rms)) > Math.Abs(Math.Log(worst))) worst = rms;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {edge.Name} | {row.Name} | {scans.Count} | {rms:F2} | {SparseScanRuns.Rms(scans.Select(s => s.LeastSquaresZ)):F2} | {scans.Average(s => Math.Abs(s.Fraction - s.Truth)):F4} | {scans.Average(s => s.Sigma):F4} |"));
            }
        }
        output.WriteLine();
        return worst;
    }

    private double ExecuteXrd()
    {
        output.WriteLine($"## s. σ of the XRD fraction on frames off their references ({framesPerRow} frames per row, 1 s exposure)");
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

    private double ExecuteXas()
    {
        output.WriteLine($"## s. σ of the XAS fraction on spectra off their references ({framesPerRow} spectra per row, 0.5 eV grid, {XasDwellS} s/point)");
        output.WriteLine("| edge | sample's edges | z RMS (σ with mismatch) | z RMS (least squares only) | fraction MAE | mean σ |");
        output.WriteLine("|---|---|---|---|---|---|");
        var worst = 1.0;
        foreach (var edge in XasEdges)
        {
            var materials = edge.Materials with { References = edge.References };
            var honest = new XasEdgeAnalyzer(materials);
            var countingOnly = new XasEdgeAnalyzer(materials, XasAnalyzerOptions.Default with { MismatchBlocks = 0 });
            var energies = Enumerable.Range(0, (int)Math.Round((edge.ToEv - edge.FromEv) / 0.5) + 1).Select(i => edge.FromEv + 0.5 * i).ToArray();
            foreach (var row in XasRows)
            {
                var (z, zCounting, errors, sigmas) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
                for (var seed = 0; seed < framesPerRow; seed++)
                {
                    var rng = new Random(5000 + seed);
                    var (start, end) = Sample(row, edge.References, rng);
                    var renderer = new XasSpectrumRenderer(start, end);
                    var truth = 0.1 + 0.8 * rng.NextDouble();
                    var mu = renderer.Render(energies, truth, XasDwellS, 1, rng).Select(v => (double)v).ToArray();
                    var a = honest.Analyze(energies, mu);
                    var b = countingOnly.Analyze(energies, mu);
                    if (!a.Usable || !b.Usable) continue;
                    z.Add((a.OxidisedFraction - truth) / a.OxidisedFractionSigma);
                    zCounting.Add((b.OxidisedFraction - truth) / b.OxidisedFractionSigma);
                    errors.Add(Math.Abs(a.OxidisedFraction - truth));
                    sigmas.Add(a.OxidisedFractionSigma);
                }
                var rms = Math.Sqrt(z.Average(v => v * v));
                if (row.Edges != EdgeMismatch.None && Math.Abs(Math.Log(rms)) > Math.Abs(Math.Log(worst))) worst = rms;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {edge.Name} | {row.Name} | {rms:F2} | {Math.Sqrt(zCounting.Average(v => v * v)):F2} | {errors.Average():F4} | {sigmas.Average():F4} |"));
            }
        }
        output.WriteLine();
        return worst;
    }

    /// <summary>The sample's two edges for a row, drawn anew for each spectrum.</summary>
    private static (IAbsorptionReference Start, IAbsorptionReference End) Sample(XasRow row, FeEdgeShape[] references, Random rng)
    {
        if (row.Edges is { } edges)
        {
            var drawn = edges.Apply(references, rng);
            return (drawn[0], drawn[1]);
        }
        // The dry run's mismatch (config simulation.physics): one structure scale and one shift for both edges.
        var physics = new PhysicsMismatch(EdgeShiftEv: 0.4 * (rng.NextDouble() - 0.5),
            WhiteLineScale: 1 + (rng.NextDouble() < 0.5 ? -1 : 1) * (0.1 + 0.1 * rng.NextDouble()));
        return (physics.Apply(references[0]), physics.Apply(references[1]));
    }
}

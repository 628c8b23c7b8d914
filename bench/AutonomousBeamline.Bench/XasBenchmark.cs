using System.Globalization;
using AutonomousBeamline.Core.Materials;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Bench;

/// <summary>
/// Part b: XAS points used against the edge-position error, planner-chosen scans versus a full-grid scan of the same spectra.
/// A charge is followed scan by scan (the Fe3+ fraction rising), each scan rendered with counting noise and reduced by the analyser;
/// the error is the distance of the found E0 from the model's true derivative maximum at that fraction.
/// </summary>
internal sealed class XasBenchmark(IReadOnlyList<int> seeds, int scansPerRun, TextWriter output)
{
    private const double DwellS = 1.0;
    private static readonly EnergyWindow Window = new("fe-k-edge", 7090, 7180, 0.5);

    public sealed record Result(double PointsFraction, double EdgeErrorEv, double FullGridEdgeErrorEv);

    public Result Execute()
    {
        var model = BatteryMaterials.FeKEdge;
        var renderer = new XasSpectrumRenderer(model);
        var analyzer = new XasEdgeAnalyzer(model);
        var planner = new EnergyRangePlanner(Window, EnergyPlannerOptions.Default);
        var fullGrid = Window.FullGrid();
        var truthCache = new Dictionary<double, double>();
        double pointsUsed = 0, pointsFull = 0;
        var plannedErrors = new List<double>();
        var targetedErrors = new List<double>();
        var fullErrors = new List<double>();
        var targetedPoints = new List<int>();
        var lost = 0;
        foreach (var seed in seeds)
        {
            var rng = new Random(seed);
            var history = new List<XasFeatures>();
            for (var k = 0; k < scansPerRun; k++)
            {
                var fraction = 0.05 + 0.9 * k / Math.Max(1, scansPerRun - 1);
                if (!truthCache.TryGetValue(fraction, out var trueEdge)) truthCache[fraction] = trueEdge = model.EdgeEnergyEv(fraction);
                var plan = planner.NextScan(history);
                var planned = analyzer.Analyze(plan.EnergiesEv, Floats(renderer.Render(plan.EnergiesEv, fraction, DwellS, 1.0, rng)));
                var full = analyzer.Analyze(fullGrid, Floats(renderer.Render(fullGrid, fraction, DwellS, 1.0, rng)));
                history.Add(planned);
                pointsUsed += plan.EnergiesEv.Count;
                pointsFull += fullGrid.Count;
                if (full.Usable) fullErrors.Add(Math.Abs(full.EdgeEnergyEv - trueEdge));
                if (!planned.Usable) { lost++; continue; }
                plannedErrors.Add(Math.Abs(planned.EdgeEnergyEv - trueEdge));
                if (!plan.FullRange)
                {
                    targetedErrors.Add(Math.Abs(planned.EdgeEnergyEv - trueEdge));
                    targetedPoints.Add(plan.EnergiesEv.Count);
                }
            }
        }
        var result = new Result(pointsUsed / pointsFull, plannedErrors.Average(), fullErrors.Average());
        output.WriteLine($"## b. XAS points vs edge-position error ({seeds.Count} charges x {scansPerRun} scans, {Window.StartEv}-{Window.StopEv} eV at {Window.StepEv} eV = {fullGrid.Count} points, dwell {DwellS} s/point, full range every {EnergyPlannerOptions.Default.FullRangeEvery}th scan)");
        output.WriteLine("| scans | points per scan | fraction of full grid | edge MAE (eV) | edge p95 (eV) | scans lost |");
        output.WriteLine("|---|---|---|---|---|---|");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| full grid | {fullGrid.Count} | 1.000 | {fullErrors.Average():F3} | {BenchFrames.Percentile(fullErrors, 95):F3} | 0 |"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| planner, targeted scans only | {targetedPoints.Average():F1} | {targetedPoints.Average() / fullGrid.Count:F3} | {targetedErrors.Average():F3} | {BenchFrames.Percentile(targetedErrors, 95):F3} | - |"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| planner, all scans (incl. calibration) | {pointsUsed / (seeds.Count * scansPerRun):F1} | {result.PointsFraction:F3} | {result.EdgeErrorEv:F3} | {BenchFrames.Percentile(plannedErrors, 95):F3} | {lost} |"));
        output.WriteLine();
        return result;
    }

    private static double[] Floats(float[] values) => values.Select(v => (double)v).ToArray();
}

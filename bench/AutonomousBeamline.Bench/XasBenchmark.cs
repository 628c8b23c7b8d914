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
/// <remarks>
/// Sparse scans take E0 from a fit of the analyser's two references, which in the main rows are exactly the ones the spectra are
/// rendered from. The last row renders the sample from slightly different references (Fe3+ edge 0.2 eV higher, white lines 5 %
/// lower) than the analyser knows, to show what an imperfect reference costs; the truth there is the sample's own E0. Two rows repeat
/// the charges at the dry run's 0.1 s dwell (about three times the noise).
/// </remarks>
internal sealed class XasBenchmark(IReadOnlyList<int> seeds, int scansPerRun, TextWriter output)
{
    private const double DwellS = 1.0;
    private static readonly EnergyWindow Window = new("fe-k-edge", 7090, 7180, 0.5);
    private static readonly EnergyWindow NickelWindow = new("ni-k-edge", 8300, 8420, 0.5);

    public sealed record Result(double PointsFraction, double EdgeErrorEv, double FullGridEdgeErrorEv);

    private sealed record Run(List<double> Planned, List<double> Targeted, List<double> Full, List<int> TargetedPoints,
        List<double> HopErrors, double PointsUsed, double PointsFull, int Lost);

    public Result Execute()
    {
        var model = BatteryMaterials.FeKEdge;
        var nominal = Charges(model, model);
        var fullGrid = Window.FullGrid();
        var offSample = new FeKEdgeModel(
            model.Reduced with { WhiteLineHeight = model.Reduced.WhiteLineHeight * 0.95 },
            model.Oxidised with { EdgeEv = model.Oxidised.EdgeEv + 0.2, WhiteLineHeight = model.Oxidised.WhiteLineHeight * 0.95 });
        var mismatched = Charges(offSample, model);
        // The references measured on another monochromator calibration: the sample's whole energy scale 0.3 eV up from theirs.
        const double scaleOffsetEv = 0.3;
        var offScale = new FeKEdgeModel(
            model.Reduced with { EdgeEv = model.Reduced.EdgeEv + scaleOffsetEv, PreEdgeEv = model.Reduced.PreEdgeEv + scaleOffsetEv },
            model.Oxidised with { EdgeEv = model.Oxidised.EdgeEv + scaleOffsetEv, PreEdgeEv = model.Oxidised.PreEdgeEv + scaleOffsetEv });
        var rescaled = Charges(offScale, model);
        // The two references off in opposite directions: the Fe2+ edge 0.2 eV up, the Fe3+ edge 0.2 eV down.
        var opposite = new FeKEdgeModel(model.Reduced with { EdgeEv = model.Reduced.EdgeEv + 0.2 }, model.Oxidised with { EdgeEv = model.Oxidised.EdgeEv - 0.2 });
        var opposed = Charges(opposite, model);
        // The same on the Ni K-edge of a layered oxide (the shapes of configs/references/ni-k-*.nor), and 0.2 eV off there too.
        var nickel = new FeKEdgeModel(
            new FeEdgeShape(8344.5, 2.0, 7.0, 0.75, 4.0, 8333.5, 0.02) { Name = "NMC-pristine" },
            new FeEdgeShape(8347.5, 2.2, 6.0, 0.55, 4.5, 8334.2, 0.03) { Name = "NMC-charged" });
        var nickelOff = new FeKEdgeModel(nickel.Reduced with { EdgeEv = nickel.Reduced.EdgeEv - 0.2 }, nickel.Oxidised with { EdgeEv = nickel.Oxidised.EdgeEv + 0.2 });
        var nickelEdge = EdgeTable.Get("Ni", EdgeKind.K);
        var onNickel = Charges(nickel, nickel, DwellS, NickelWindow, nickelEdge);
        var onNickelOff = Charges(nickelOff, nickel, DwellS, NickelWindow, nickelEdge);
        var nickelScale = new FeKEdgeModel(
            nickel.Reduced with { EdgeEv = nickel.Reduced.EdgeEv + scaleOffsetEv, PreEdgeEv = nickel.Reduced.PreEdgeEv + scaleOffsetEv },
            nickel.Oxidised with { EdgeEv = nickel.Oxidised.EdgeEv + scaleOffsetEv, PreEdgeEv = nickel.Oxidised.PreEdgeEv + scaleOffsetEv });
        var onNickelScale = Charges(nickelScale, nickel, DwellS, NickelWindow, nickelEdge);
        const double shortDwellS = 0.1;
        var shortDwell = Charges(model, model, shortDwellS);

        var result = new Result(nominal.PointsUsed / nominal.PointsFull, nominal.Planned.Average(), nominal.Full.Average());
        output.WriteLine($"## b. XAS points vs edge-position error ({seeds.Count} charges x {scansPerRun} scans, {Window.StartEv}-{Window.StopEv} eV at {Window.StepEv} eV = {fullGrid.Count} points, dwell {DwellS} s/point, full range every {EnergyPlannerOptions.Default.FullRangeEvery}th scan)");
        output.WriteLine("| scans | points per scan | fraction of full grid | edge MAE (eV) | edge p95 (eV) | edge max (eV) | scans lost |");
        output.WriteLine("|---|---|---|---|---|---|---|");
        var scans = seeds.Count * scansPerRun;
        Row("full grid", fullGrid.Count, 1.0, nominal.Full, "0");
        Row("planner, targeted scans only", nominal.TargetedPoints.Average(), nominal.TargetedPoints.Average() / fullGrid.Count, nominal.Targeted, "-");
        Row("planner, all scans (incl. calibration)", nominal.PointsUsed / scans, result.PointsFraction, nominal.Planned, nominal.Lost.ToString(CultureInfo.InvariantCulture));
        Row("planner, scans within 0.03 of the hop fraction", double.NaN, double.NaN, nominal.HopErrors, "-");
        Row(string.Create(CultureInfo.InvariantCulture, $"full grid, dwell {shortDwellS} s (the dry run's)"), fullGrid.Count, 1.0, shortDwell.Full, "0");
        Row(string.Create(CultureInfo.InvariantCulture, $"planner, all scans, dwell {shortDwellS} s"), shortDwell.PointsUsed / scans, shortDwell.PointsUsed / shortDwell.PointsFull, shortDwell.Planned, shortDwell.Lost.ToString(CultureInfo.InvariantCulture));
        Row("planner, references 0.2 eV / 5 % off the sample", mismatched.PointsUsed / scans, mismatched.PointsUsed / mismatched.PointsFull, mismatched.Planned, mismatched.Lost.ToString(CultureInfo.InvariantCulture));
        Row(string.Create(CultureInfo.InvariantCulture, $"planner, the references' energy scale {scaleOffsetEv} eV off the sample's"),
            rescaled.PointsUsed / scans, rescaled.PointsUsed / rescaled.PointsFull, rescaled.Planned, rescaled.Lost.ToString(CultureInfo.InvariantCulture));
        Row("planner, references off in opposite directions (Fe2+ edge +0.2 eV, Fe3+ -0.2 eV)", opposed.PointsUsed / scans, opposed.PointsUsed / opposed.PointsFull, opposed.Planned, opposed.Lost.ToString(CultureInfo.InvariantCulture));
        Row($"Ni K ({NickelWindow.StartEv}-{NickelWindow.StopEv} eV): full grid", NickelWindow.FullGrid().Count, 1.0, onNickel.Full, "0");
        Row("Ni K: planner, all scans", onNickel.PointsUsed / scans, onNickel.PointsUsed / onNickel.PointsFull, onNickel.Planned, onNickel.Lost.ToString(CultureInfo.InvariantCulture));
        Row("Ni K: planner, references 0.2 eV off the sample (opposite directions)", onNickelOff.PointsUsed / scans, onNickelOff.PointsUsed / onNickelOff.PointsFull, onNickelOff.Planned, onNickelOff.Lost.ToString(CultureInfo.InvariantCulture));
        Row(string.Create(CultureInfo.InvariantCulture, $"Ni K: planner, the references' energy scale {scaleOffsetEv} eV off the sample's"), onNickelScale.PointsUsed / scans, onNickelScale.PointsUsed / onNickelScale.PointsFull, onNickelScale.Planned, onNickelScale.Lost.ToString(CultureInfo.InvariantCulture));
        output.WriteLine();
        return result;
    }

    private void Row(string what, double points, double fraction, IReadOnlyList<double> errors, string lost) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {what} | {(double.IsNaN(points) ? "-" : points.ToString("0.#", CultureInfo.InvariantCulture))} | {(double.IsNaN(fraction) ? "-" : fraction.ToString("F3", CultureInfo.InvariantCulture))} | {(errors.Count == 0 ? double.NaN : errors.Average()):F3} | {BenchFrames.Percentile(errors, 95):F3} | {(errors.Count == 0 ? double.NaN : errors.Max()):F3} | {lost} |"));

    /// <summary>Every charge, spectra rendered from <paramref name="sample"/> and analysed with <paramref name="references"/>.</summary>
    private Run Charges(FeKEdgeModel sample, FeKEdgeModel references, double dwellS = DwellS, EnergyWindow? window = null, AbsorptionEdge? edge = null)
    {
        window ??= Window;
        var renderer = new XasSpectrumRenderer(sample);
        var analyzer = new XasEdgeAnalyzer(new AbsorptionMaterials(edge ?? BatteryMaterials.FeKAbsorption.Edge, [references.Reduced, references.Oxidised]));
        var planner = new EnergyRangePlanner(window, EnergyPlannerOptions.Default);
        var fullGrid = window.FullGrid();
        var truthCache = new Dictionary<double, double>();
        var hopFraction = HopFraction(sample);
        var run = new Run([], [], [], [], [], 0, 0, 0);
        double pointsUsed = 0, pointsFull = 0;
        var lost = 0;
        foreach (var seed in seeds)
        {
            var rng = new Random(seed);
            var history = new List<XasFeatures>();
            // The run's dense scans, as the observation keeper holds them: the sparse scans' σ and E0 correction learn from them.
            var dense = new List<DenseXasScan>();
            for (var k = 0; k < scansPerRun; k++)
            {
                var fraction = 0.05 + 0.9 * k / Math.Max(1, scansPerRun - 1);
                if (!truthCache.TryGetValue(fraction, out var trueEdge)) truthCache[fraction] = trueEdge = sample.EdgeEnergyEv(fraction);
                var plan = planner.NextScan(history);
                var plannedMu = Floats(renderer.Render(plan.EnergiesEv, fraction, dwellS, 1.0, rng));
                var planned = analyzer.Analyze(plan.EnergiesEv, plannedMu, dense);
                if (DenseXasScan.From(plan.EnergiesEv, plannedMu, planned) is { } d) dense.Add(d);
                var full = analyzer.Analyze(fullGrid, Floats(renderer.Render(fullGrid, fraction, dwellS, 1.0, rng)));
                history.Add(planned);
                pointsUsed += plan.EnergiesEv.Count;
                pointsFull += fullGrid.Count;
                if (full.Usable) run.Full.Add(Math.Abs(full.EdgeEnergyEv - trueEdge));
                if (!planned.Usable) { lost++; continue; }
                var error = Math.Abs(planned.EdgeEnergyEv - trueEdge);
                run.Planned.Add(error);
                if (Math.Abs(fraction - hopFraction) <= 0.03) run.HopErrors.Add(error);
                if (!plan.FullRange)
                {
                    run.Targeted.Add(error);
                    run.TargetedPoints.Add(plan.EnergiesEv.Count);
                }
            }
        }
        return run with { PointsUsed = pointsUsed, PointsFull = pointsFull, Lost = lost };
    }

    /// <summary>The Fe3+ fraction at which the mixture's derivative maximum hops from the Fe2+ to the Fe3+ edge (bisection).</summary>
    private static double HopFraction(FeKEdgeModel model)
    {
        double low = 0, high = 1;
        var reducedEdge = model.EdgeEnergyEv(0, 0.01);
        var shift = model.EdgeEnergyEv(1, 0.01) - reducedEdge;
        for (var i = 0; i < 20; i++)
        {
            var middle = (low + high) / 2;
            if (model.EdgeEnergyEv(middle, 0.01) - reducedEdge < shift / 2) low = middle; else high = middle;
        }
        return (low + high) / 2;
    }

    private static double[] Floats(float[] values) => values.Select(v => (double)v).ToArray();
}

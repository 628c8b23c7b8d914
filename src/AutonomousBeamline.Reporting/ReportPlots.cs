using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Learning.Surrogate;
using AutonomousBeamline.Storage;
using ScottPlot;

namespace AutonomousBeamline.Reporting;

/// <summary>A figure of the report: its file name, caption and PNG bytes.</summary>
public sealed record ReportFigure(string FileName, string Caption, byte[] Png);

/// <summary>The map error of each strategy after a number of frames (dry run only: the simulator knows the truth).</summary>
public sealed record MapErrorPoint(int Frames, double LearnerRmse, double RasterRmse, double? CoarseRasterRmse);

/// <summary>The region the learned map is drawn over.</summary>
public sealed record MapRegion(double XMinMm, double XMaxMm, double YMinMm, double YMaxMm, double StepMm);

/// <summary>The report's plots, each drawn by ScottPlot from the recorded run alone.</summary>
internal static class ReportPlots
{
    private const int Width = 900, Height = 420;

    public static ReportFigure CellAgainstTime(RecordedRun run)
    {
        var plot = new Plot();
        var hours = run.CellSamples.Select(s => Hours(run, s.Time)).ToArray();
        var voltage = plot.Add.Scatter(hours, run.CellSamples.Select(s => s.Sample.VoltageV).ToArray());
        voltage.LegendText = "voltage (V)";
        voltage.MarkerSize = 0;
        var current = plot.Add.Scatter(hours, run.CellSamples.Select(s => s.Sample.CurrentA * 1000).ToArray());
        current.LegendText = "current (mA)";
        current.MarkerSize = 0;
        current.Axes.YAxis = plot.Axes.Right;
        // The frames, where they were taken, on the voltage curve.
        var frameTimes = run.Frames.Select(f => f.Frame!.Header.TStart).ToList();
        var frames = plot.Add.ScatterPoints(frameTimes.Select(t => Hours(run, t)).ToArray(), frameTimes.Select(t => VoltageAt(run, t)).ToArray());
        frames.LegendText = "frames";
        frames.MarkerSize = 5;
        foreach (var step in run.Steps)
        {
            var line = plot.Add.VerticalLine(Hours(run, step.Started));
            line.LineWidth = 1;
            line.LinePattern = LinePattern.Dashed;
            line.Text = step.Start.Step;
        }
        plot.Title("Cell voltage and current, frames marked");
        plot.XLabel("time from start (h)");
        plot.YLabel("voltage (V)");
        plot.Axes.Right.Label.Text = "current (mA)";
        plot.ShowLegend(Alignment.LowerRight);
        return Figure(plot, "cell.png", "Cell voltage and current against time; dots: the frames; dashed: protocol steps.");
    }

    /// <summary>
    /// The learned map's mean and spread at several states of charge, with the spots measured near each: fitted, as the run's
    /// own map was, to the observations of the target alone and with the target's options (a peak position is not a share,
    /// and must not be clipped to 0..1), labelled with the target's quantity and unit.
    /// </summary>
    public static IEnumerable<ReportFigure> Maps(RecordedRun run, MapRegion region, int seed, ObservationTarget target)
    {
        var observations = run.Observations.Where(target.Measures).ToList();
        var map = ForestPhaseMap.Fit(observations, 1, target.MapOptions(seed));
        if (map is null || observations.Count == 0) yield break;
        var quantity = target.QuantityOf(observations);
        var socs = observations.Select(o => o.StateOfCharge).Order().ToList();
        foreach (var quantile in new[] { 0.2, 0.5, 0.8 })
        {
            var soc = socs[(int)Math.Round((socs.Count - 1) * quantile)];
            var near = observations.Where(o => Math.Abs(o.StateOfCharge - soc) <= 0.1).ToList();
            yield return MapFigure(map, region, soc, near, quantity, mean: true);
            yield return MapFigure(map, region, soc, near, quantity, mean: false);
        }
    }

    private static ReportFigure MapFigure(IPhaseMap map, MapRegion region, double soc, IReadOnlyList<Observation> near, MapQuantity quantity, bool mean)
    {
        var nx = Math.Max(2, (int)Math.Round((region.XMaxMm - region.XMinMm) / region.StepMm) + 1);
        var ny = Math.Max(2, (int)Math.Round((region.YMaxMm - region.YMinMm) / region.StepMm) + 1);
        var values = new double[ny, nx];
        for (var j = 0; j < ny; j++)
        for (var i = 0; i < nx; i++)
        {
            var x = region.XMinMm + i * (region.XMaxMm - region.XMinMm) / (nx - 1);
            // Row 0 is drawn at the top.
            var y = region.YMaxMm - j * (region.YMaxMm - region.YMinMm) / (ny - 1);
            var (m, s) = map.Predict(x, y, soc);
            values[j, i] = mean ? m : s;
        }
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = mean ? new ScottPlot.Colormaps.Viridis() : new ScottPlot.Colormaps.Inferno();
        heatmap.Extent = new CoordinateRect(region.XMinMm, region.XMaxMm, region.YMinMm, region.YMaxMm);
        var unit = quantity.Symbol.Length > 0 ? $" ({quantity.Symbol})" : "";
        plot.Add.ColorBar(heatmap).Label = mean ? quantity.Name + unit : "spread" + unit;
        var spots = plot.Add.ScatterPoints(near.Select(o => o.XMm).ToArray(), near.Select(o => o.YMm).ToArray());
        spots.Color = Colors.White;
        spots.MarkerSize = 7;
        spots.LegendText = "measured within ±0.1 SOC";
        plot.ShowLegend(Alignment.UpperRight);
        var what = mean ? "map" : "uncertainty";
        plot.Title(FormattableString.Invariant($"Learned {what} at SOC {soc:0.00}"));
        plot.XLabel("x (mm)");
        plot.YLabel("y (mm)");
        var name = FormattableString.Invariant($"{what}-soc{soc * 100:00}.png");
        var shown = mean ? quantity.Name + unit : $"spread of the map of the {quantity.Name}{unit}";
        return Figure(plot, name, FormattableString.Invariant($"The learned {shown} at state of charge {soc:0.00}; white: spots measured within ±0.1 of it."), 560, 460);
    }

    public static ReportFigure Decisions(RecordedRun run)
    {
        var plot = new Plot();
        foreach (var kind in run.Decisions.Select(d => d.Decision.Kind).Distinct())
        {
            var ds = run.Decisions.Where(d => d.Decision.Kind == kind && double.IsFinite(d.Decision.Score)).ToList();
            var points = plot.Add.ScatterPoints(ds.Select(d => Hours(run, d.Time)).ToArray(), ds.Select(d => d.Decision.Score).ToArray());
            points.LegendText = $"{kind.Name()} score";
        }
        var rates = run.Decisions.Where(d => d.Decision.Kind == DecisionKind.CRate && d.Decision.Values.ContainsKey("c_rate")).ToList();
        if (rates.Count > 0)
        {
            var chosen = plot.Add.ScatterPoints(rates.Select(d => Hours(run, d.Time)).ToArray(), rates.Select(d => d.Decision.Values["c_rate"]).ToArray());
            chosen.LegendText = "C-rate chosen";
            chosen.MarkerSize = 10;
            chosen.MarkerShape = MarkerShape.FilledDiamond;
            chosen.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "C-rate (1/h)";
        }
        plot.Title("Decisions over time");
        plot.XLabel("time from start (h)");
        plot.YLabel("score");
        plot.ShowLegend(Alignment.UpperRight);
        return Figure(plot, "decisions.png", "Each decision's score over time by kind, and the C-rates chosen (right axis); the table below gives the reasons.");
    }

    public static ReportFigure? Xas(RecordedRun run)
    {
        var scans = run.Observations.Where(o => o.Kind == FrameKind.Xas && o.EdgeEnergyEv is not null).ToList();
        if (scans.Count == 0) return null;
        var plot = new Plot();
        var edge = plot.Add.ScatterPoints(scans.Select(o => o.StateOfCharge).ToArray(), scans.Select(o => o.EdgeEnergyEv!.Value).ToArray());
        edge.LegendText = "edge E0 (eV)";
        edge.MarkerSize = 8;
        // A scan's value is the target where the target is the spectra's (an edge position, a reference's share), else the last
        // reference's share; either way it says which.
        var value = scans.LastOrDefault(o => o.Target is not null) is { } t ? new MapQuantity(t.Target!, t.TargetUnit ?? "") : new MapQuantity("share of the last reference", "");
        var label = value.Name + (value.Symbol.Length > 0 ? $" ({value.Symbol})" : "");
        var fraction = plot.Add.ScatterPoints(scans.Select(o => o.StateOfCharge).ToArray(), scans.Select(o => o.PhaseFraction).ToArray());
        fraction.LegendText = label;
        fraction.MarkerShape = MarkerShape.FilledSquare;
        fraction.Axes.YAxis = plot.Axes.Right;
        plot.Axes.Right.Label.Text = label;
        plot.Title($"Absorption edge position and {value.Name} against state of charge");
        plot.XLabel("state of charge");
        plot.YLabel("edge energy E0 (eV)");
        plot.ShowLegend(Alignment.UpperLeft);
        var times = string.Join(", ", scans.Select(o => FormattableString.Invariant($"{Hours(run, o.Time):0.00} h")));
        return Figure(plot, "xas.png", $"XAS edge position (left) and {label} (right) of each scan against state of charge; scans at {times}.");
    }

    public static ReportFigure? Waterfall(RecordedRun run)
    {
        var patterns = run.Frames.Where(f => f.Frame!.Header.Kind == FrameKind.Xrd && f.Fate == Control.Journal.FrameFate.Observation).ToList();
        if (patterns.Count == 0) return null;
        // At most 25 patterns, spread over the run, so that each stays readable.
        var shown = Enumerable.Range(0, Math.Min(25, patterns.Count)).Select(i => patterns[(int)((long)i * patterns.Count / Math.Min(25, patterns.Count))]).ToList();
        var peak = shown.Max(f => f.Frame!.Intensities.Max());
        var plot = new Plot();
        var colormap = new ScottPlot.Colormaps.Turbo();
        for (var k = 0; k < shown.Count; k++)
        {
            var frame = shown[k].Frame!;
            var x = Enumerable.Range(0, frame.Intensities.Length).Select(frame.XAt).ToArray();
            var y = frame.Intensities.Select(v => v / peak + 0.35 * k).ToArray();
            var line = plot.Add.Scatter(x, y);
            line.MarkerSize = 0;
            line.LineWidth = 1;
            line.Color = colormap.GetColor(shown.Count == 1 ? 0 : (double)k / (shown.Count - 1));
        }
        var first = shown[0].Frame!.Header;
        plot.Title($"Diffraction waterfall: {shown.Count} of {patterns.Count} patterns, first at the bottom");
        plot.XLabel($"{first.XName ?? "2θ"} ({first.XUnit ?? "deg"})");
        plot.YLabel("intensity (normalised, offset per frame)");
        return Figure(plot, "waterfall.png", "Diffraction patterns in the order taken (colour from blue, first, to red, last), each offset upwards.", Width, 560);
    }

    public static ReportFigure? MapErrorAgainstFrames(IReadOnlyList<MapErrorPoint> series, MapQuantity quantity)
    {
        if (series.Count == 0) return null;
        var plot = new Plot();
        var frames = series.Select(p => (double)p.Frames).ToArray();
        var learner = plot.Add.Scatter(frames, series.Select(p => p.LearnerRmse).ToArray());
        learner.LegendText = "learner";
        var raster = plot.Add.Scatter(frames, series.Select(p => p.RasterRmse).ToArray());
        raster.LegendText = "raster (config's grid)";
        if (series.All(p => p.CoarseRasterRmse is not null))
        {
            var coarse = plot.Add.Scatter(frames, series.Select(p => p.CoarseRasterRmse!.Value).ToArray());
            coarse.LegendText = "coarse raster";
        }
        plot.Title("Map error against frames, per strategy (dry run: against the simulator's truth)");
        plot.XLabel("frames");
        plot.YLabel($"RMSE of the {quantity.Name}" + (quantity.Symbol.Length > 0 ? $" ({quantity.Symbol})" : ""));
        plot.ShowLegend(Alignment.UpperRight);
        return Figure(plot, "map-error.png", "The map's RMSE against the simulator's true field after each number of frames, for the learner and the rasters with the same frames.");
    }

    private static double Hours(RecordedRun run, DateTimeOffset time) => run.SecondsFromStart(time) / 3600;

    /// <summary>The cell's last voltage sample at or before <paramref name="time"/> (the first one before any).</summary>
    private static double VoltageAt(RecordedRun run, DateTimeOffset time)
    {
        if (run.CellSamples.Count == 0) return double.NaN;
        var last = run.CellSamples[0];
        foreach (var s in run.CellSamples)
        {
            if (s.Time > time) break;
            last = s;
        }
        return last.Sample.VoltageV;
    }

    private static ReportFigure Figure(Plot plot, string name, string caption, int width = Width, int height = Height) =>
        new(name, caption, plot.GetImageBytes(width, height, ImageFormat.Png));
}

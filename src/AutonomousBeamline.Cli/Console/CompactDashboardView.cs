using System.Globalization;
using System.Text;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Core.Domain;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace AutonomousBeamline.Cli.OperatorConsole;

/// <summary>
/// The dashboard for a standard terminal (80×24 and up, smaller than the full layout needs): the header first, then one
/// line each for the cell, the beam and the budget, the uncertainty heat map as a character ramp with its legend (it
/// reads without colour; colour is added where the terminal has it), the last decision, the last fault and messages,
/// and the input line. Every line is cut to the terminal's width, so the screen never wraps.
/// </summary>
public static class CompactDashboardView
{
    public const string Ramp = SpreadRaster.Ramp;

    public static IRenderable Render(DashboardModel model, int width, int height)
    {
        var lines = new List<string>();
        var s = model.Snapshot;
        lines.Add(Bold($"beamline console  run {s?.RunId ?? "?"}  state {s?.State ?? "unknown"}" +
                       (s is null ? "" : $"  {s.Time.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} UTC"), width));
        lines.Add(model.ConnectionProblem is null
            ? Plain($"attached {model.Endpoint}", width, "green")
            : Plain($"{model.ConnectionProblem} ({model.Endpoint})", width, "red"));
        if (s is null) lines.Add(Plain("waiting for the first snapshot...", width, "grey"));
        else
        {
            var c = s.Cell;
            lines.Add(Plain($"cell {F(c.VoltageV, "0.0000")} V  {F(c.CurrentA * 1000, "0.000")} mA  SOC {F(c.StateOfCharge * 100, "0.0")} %  " +
                            $"C {F(c.CRate, "0.###")}  {c.Step} (cycle {c.Cycle})  output {(c.OutputOn ? "on" : "off")}", width));
            lines.Add(Plain($"beam {F(s.BeamCurrentMa, "0.0")} mA  shutter {(s.ShutterOpen ? "open" : "closed")}  x {F(s.XMm, "0.000")} y {F(s.YMm, "0.000")} mm  " +
                            $"locked {(s.LockedKnobs.Count == 0 ? "none" : string.Join(",", s.LockedKnobs))}", width));
            lines.Add(Plain($"frames {s.FramesUsed}/{s.FramesBudget} {Bar(s.FramesUsed, s.FramesBudget)}  beam {F(s.BeamTimeUsedS, "0")}/{F(s.BeamTimeBudgetS, "0")} s " +
                            $"{Bar(s.BeamTimeUsedS, s.BeamTimeBudgetS)}  obs {s.Observations}", width));
        }
        // What follows the map: the last decision, fault, two messages and the input, plus the map's title and legend.
        var tail = new List<string>();
        if (s is not null)
        {
            if (s.PendingDecision is { } pending) tail.Add(Plain($"PENDING (veto?) {DecisionText(pending)}", width, "yellow"));
            var last = s.RecentDecisions.LastOrDefault();
            tail.Add(last is null ? Plain("decisions: none yet", width, "grey") : Plain($"last {DecisionText(last)}", width));
            var fault = s.RecentFaults.LastOrDefault();
            tail.Add(fault is null ? Plain("faults: none", width, "green")
                : Plain($"fault {fault.Time.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {fault.Source}: {fault.Message}", width, "red"));
        }
        foreach (var m in model.Messages.TakeLast(2))
            tail.Add(Plain($"{(m.Ok ? "ok" : "no")} {m.Text}", width, m.Ok ? null : "red"));
        tail.Add($"[bold]>[/] {Markup.Escape(Cut(model.Input, width - 4))}_");

        var room = Math.Max(0, height - 1 - lines.Count - tail.Count);
        if (model.ShowHelp)
            lines.AddRange(ConsoleLineParser.HelpText.TrimEnd().Split('\n').Take(room).Select(l => Plain(l.TrimEnd(), width)));
        else if (s?.Uncertainty is { } grid && room >= 5)
        {
            lines.AddRange(HeatMap(grid, s.XMm, s.YMm, Math.Min(width - 1, 60), room - 3, width, s.Cell.StateOfCharge));
            // Whether the spread above can be trusted: how its intervals held where the map had not yet been.
            lines.Add(Plain(s.MapCalibration is { } held ? $"calibration: {held}" : "calibration: no new frame checked yet", width));
        }
        lines.AddRange(tail);
        return new Markup(string.Join("\n", lines));
    }

    /// <summary>
    /// The spread over the ROI, high y at the top, one character per cell from <see cref="Ramp"/> (pooled, max per cell, to
    /// fit), <c>X</c> at the stage, <c>?</c> where there is no value; a title line above and a legend below.
    /// </summary>
    public static IEnumerable<string> HeatMap(UncertaintyGrid grid, double xMm, double yMm, int maxColumns, int maxRows, int width, double stateOfCharge)
    {
        if (SpreadRaster.Pool(grid, xMm, yMm, maxColumns, maxRows) is not { } map)
        {
            yield return Plain($"unusable grid ({grid.Nx} x {grid.Ny})", width, "red");
            yield break;
        }
        yield return Plain($"{map.What} at SOC {F(stateOfCharge * 100, "0")} %  (x across, y up; X = stage)", width);
        for (var r = map.Rows - 1; r >= 0; r--)
        {
            var line = new StringBuilder();
            for (var c = 0; c < map.Columns; c++)
            {
                var v = map[r, c];
                if (map.IsStage(r, c)) line.Append("[bold white]X[/]");
                else if (!double.IsFinite(v)) line.Append("[grey]?[/]");
                else line.Append($"[{Tint(map.Level(v))}]{Markup.Escape(Ramp[map.Level(v)].ToString())}[/]");
            }
            yield return line.ToString();
        }
        var high = map.Quantity?.Format(map.High) ?? MapQuantity.Significant(map.High);
        yield return Plain($"legend: '{Ramp[1]}' low {MapQuantity.Significant(map.Low)} .. '{Ramp[^1]}' high {high} spread, ramp \"{Ramp}\", ? = no value", width);
    }

    private static string DecisionText(DecisionView d) =>
        $"{d.Kind} {string.Join(" ", d.Values.Select(kv => $"{kv.Key}={F(kv.Value, "0.###")}"))} score {F(d.Score, "0.###")}: {d.Reason}";

    private static string Tint(int level) => level switch { <= 2 => "blue", <= 5 => "green", <= 7 => "yellow", _ => "red" };

    private static string Bar(double used, double budget)
    {
        const int cells = 10;
        var filled = budget > 0 ? (int)Math.Round(Math.Clamp(used / budget, 0, 1) * cells) : cells;
        return "[" + new string('#', filled) + new string('.', cells - filled) + "]";
    }

    private static string Plain(string text, int width, string? colour = null)
    {
        var escaped = Markup.Escape(Cut(text, width - 1));
        return colour is null ? escaped : $"[{colour}]{escaped}[/]";
    }

    private static string Bold(string text, int width) => $"[bold]{Markup.Escape(Cut(text, width - 1))}[/]";

    private static string Cut(string text, int width) =>
        width <= 1 ? "" : text.Length <= width ? text : text[..(width - 1)] + "~";

    private static string F(double value, string format) =>
        double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a";
}

using System.Globalization;
using AutonomousBeamline.Control.Operator;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace AutonomousBeamline.Cli.OperatorConsole;

/// <summary>A line in the console's message log: a reply, a refusal, a local error.</summary>
public sealed record ConsoleMessage(DateTimeOffset Time, bool Ok, string Text);

/// <summary>Everything the dashboard draws, at one moment.</summary>
public sealed record DashboardModel
{
    public required string Endpoint { get; init; }
    public ExperimentSnapshot? Snapshot { get; init; }

    /// <summary>Why there is no fresh snapshot (not connected, stream stalled), or null when all is well.</summary>
    public string? ConnectionProblem { get; init; }

    public IReadOnlyList<ConsoleMessage> Messages { get; init; } = [];
    public string Input { get; init; } = "";
    public bool ShowHelp { get; init; }
}

/// <summary>
/// Draws the operator dashboard from a snapshot. Pure: the same model gives the same screen, so it can be
/// checked on a test console without a controller.
/// </summary>
public static class DashboardView
{
    public const int MaxHeatMapColumns = 24;
    public const int MaxHeatMapRows = 12;
    private const int ShownDecisions = 5;
    private const int ShownFaults = 4;
    private const int ShownMessages = 4;

    /// <summary>Terminals smaller than this get the compact layout (<see cref="CompactDashboardView"/>).</summary>
    public const int FullLayoutMinWidth = 120, FullLayoutMinHeight = 40;

    /// <summary>The dashboard for whatever terminal it is drawn on: the full layout where it fits, else the compact one.</summary>
    public static IRenderable Render(DashboardModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new SizedToTerminal(model);
    }

    /// <summary>The full layout: panels side by side, for terminals of at least <see cref="FullLayoutMinWidth"/> × <see cref="FullLayoutMinHeight"/>.</summary>
    public static IRenderable RenderFull(DashboardModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var rows = new List<IRenderable> { Header(model) };
        if (model.Snapshot is { } s)
        {
            // A grid rather than Columns: Columns wraps panels onto new lines and the screen outgrows the terminal.
            rows.Add(SideBySide(CellPanel(s), BeamPanel(s), BudgetPanel(s)));
            rows.Add(SideBySide(new Rows(DecisionsPanel(s), FaultsPanel(s)), HeatMapPanel(s)));
        }
        else
        {
            rows.Add(new Panel(new Markup("[grey]waiting for the first snapshot...[/]")).Header("experiment"));
        }
        rows.Add(MessagesPanel(model));
        if (model.ShowHelp) rows.Add(new Panel(new Text(ConsoleLineParser.HelpText.TrimEnd())).Header("commands").BorderColor(Color.Blue));
        rows.Add(new Markup($"[bold]>[/] {Markup.Escape(model.Input)}[blink]_[/]   [grey](help, quit; Ctrl-C detaches)[/]"));
        return new Rows(rows);
    }

    /// <summary>Chooses the layout when drawn, from the size of the console it is drawn on.</summary>
    private sealed class SizedToTerminal(DashboardModel model) : Renderable
    {
        private IRenderable Layout(RenderOptions options, int maxWidth)
        {
            var height = options.ConsoleSize.Height;
            return maxWidth >= FullLayoutMinWidth && height >= FullLayoutMinHeight
                ? RenderFull(model)
                : CompactDashboardView.Render(model, maxWidth, height > 0 ? height : 24);
        }

        protected override Measurement Measure(RenderOptions options, int maxWidth) => Layout(options, maxWidth).Measure(options, maxWidth);

        protected override IEnumerable<Segment> Render(RenderOptions options, int maxWidth) => Layout(options, maxWidth).Render(options, maxWidth);
    }

    private static Grid SideBySide(params IRenderable[] items)
    {
        var grid = new Grid();
        foreach (var _ in items) grid.AddColumn(new GridColumn().PadRight(1));
        grid.AddRow(items);
        return grid;
    }

    private static IRenderable Header(DashboardModel model)
    {
        var s = model.Snapshot;
        var state = s is null ? "[grey]unknown[/]" : $"[{StateColour(s.State)}]{Markup.Escape(s.State)}[/]";
        var run = s is null ? "" : $"run [bold]{Markup.Escape(s.RunId)}[/]   ";
        var time = s is null ? "" : $"   {s.Time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC";
        var link = model.ConnectionProblem is null
            ? $"[green]attached[/] {Markup.Escape(model.Endpoint)}"
            : $"[red]{Markup.Escape(model.ConnectionProblem)}[/] ({Markup.Escape(model.Endpoint)})";
        return new Panel(new Markup($"{run}state {state}{time}\n{link}")).Header("beamline console").Expand();
    }

    private static string StateColour(string state) => state.ToLowerInvariant() switch
    {
        var x when x.Contains("fault") || x.Contains("abort") || x.Contains("halt") => "bold red",
        var x when x.Contains("pause") || x.Contains("suspend") || x.Contains("approval") => "bold yellow",
        var x when x.Contains("complete") || x.Contains("finish") || x.Contains("done") => "bold blue",
        _ => "bold green",
    };

    private static Panel CellPanel(ExperimentSnapshot s)
    {
        var c = s.Cell;
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("voltage", $"{F(c.VoltageV, "0.0000")} V");
        grid.AddRow("current", $"{F(c.CurrentA * 1000, "0.000")} mA");
        grid.AddRow("step", Markup.Escape(c.Step));
        grid.AddRow("cycle", c.Cycle.ToString(CultureInfo.InvariantCulture));
        grid.AddRow("SOC", $"{F(c.StateOfCharge * 100, "0.0")} %");
        grid.AddRow("C-rate", F(c.CRate, "0.###") + (s.LockedKnobs.Contains("c_rate") ? " [yellow](locked)[/]" : ""));
        grid.AddRow("output", c.OutputOn ? "[green]on[/]" : "[grey]off[/]");
        return new Panel(grid).Header("cell");
    }

    private static Panel BeamPanel(ExperimentSnapshot s)
    {
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("beam", $"{F(s.BeamCurrentMa, "0.0")} mA");
        grid.AddRow("shutter", s.ShutterOpen ? "[green]open[/]" : "[grey]closed[/]");
        grid.AddRow("x", $"{F(s.XMm, "0.000")} mm");
        grid.AddRow("y", $"{F(s.YMm, "0.000")} mm");
        grid.AddRow("approval", s.ApprovalWindowS > 0 ? $"{F(s.ApprovalWindowS, "0.#")} s window" : "[grey]unattended[/]");
        grid.AddRow("locked", s.LockedKnobs.Count == 0 ? "[grey]none[/]" : Markup.Escape(string.Join(", ", s.LockedKnobs)));
        return new Panel(grid).Header("beam & position");
    }

    private static Panel BudgetPanel(ExperimentSnapshot s)
    {
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("frames", $"{s.FramesUsed} / {s.FramesBudget}  ({Math.Max(0, s.FramesBudget - s.FramesUsed)} left)");
        grid.AddRow("", Bar(s.FramesUsed, s.FramesBudget));
        grid.AddRow("beam time", $"{F(s.BeamTimeUsedS, "0")} / {F(s.BeamTimeBudgetS, "0")} s  ({F(Math.Max(0, s.BeamTimeBudgetS - s.BeamTimeUsedS), "0")} s left)");
        grid.AddRow("", Bar(s.BeamTimeUsedS, s.BeamTimeBudgetS));
        grid.AddRow("observations", s.Observations.ToString(CultureInfo.InvariantCulture));
        return new Panel(grid).Header("budget");
    }

    private static string Bar(double used, double budget)
    {
        const int width = 20;
        var fraction = budget > 0 ? Math.Clamp(used / budget, 0, 1) : 1;
        var filled = (int)Math.Round(fraction * width);
        var colour = fraction >= 0.9 ? "red" : fraction >= 0.7 ? "yellow" : "green";
        return $"[{colour}]{new string('█', filled)}[/][grey]{new string('░', width - filled)}[/]";
    }

    private static Panel DecisionsPanel(ExperimentSnapshot s)
    {
        var table = new Table().Border(TableBorder.Simple);
        table.AddColumn("time").AddColumn("kind").AddColumn("values").AddColumn(new TableColumn("score").RightAligned()).AddColumn("reason").AddColumn("model");
        if (s.PendingDecision is { } pending)
            table.AddRow(DecisionCells(pending, "[bold yellow]PENDING[/] "));
        foreach (var decision in s.RecentDecisions.TakeLast(ShownDecisions).Reverse())
            table.AddRow(DecisionCells(decision, ""));
        if (s.PendingDecision is null && s.RecentDecisions.Count == 0)
            table.AddRow("[grey]no decisions yet[/]", "", "", "", "", "");
        return new Panel(table).Header(s.PendingDecision is { } waiting ? $"last decisions ([yellow]one waits for approval{RunsIn(s, waiting)}: veto?[/])" : "last decisions");
    }

    // Both times come from the controller's clock, so the difference holds on a virtual clock too.
    private static string RunsIn(ExperimentSnapshot s, DecisionView pending)
    {
        var left = (pending.Time + TimeSpan.FromSeconds(s.ApprovalWindowS) - s.Time).TotalSeconds;
        return double.IsFinite(left) && left >= 0 ? $", runs in {F(Math.Ceiling(left), "0")} s" : "";
    }

    private static string[] DecisionCells(DecisionView d, string prefix) =>
    [
        prefix + d.Time.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture),
        Markup.Escape(d.Kind),
        Markup.Escape(string.Join(" ", d.Values.Select(kv => $"{kv.Key}={F(kv.Value, "0.###")}"))),
        F(d.Score, "0.###"),
        Markup.Escape(d.Reason),
        Markup.Escape($"v{d.ModelVersion} {d.Strategy}"),
    ];

    private static Panel HeatMapPanel(ExperimentSnapshot s) =>
        new Panel(s.Uncertainty is { } grid
                // Whether the spread can be trusted: how its intervals held where the map had not yet been.
                ? new Rows(HeatMap(grid, s.XMm, s.YMm), new Markup(Markup.Escape(Wrap(
                    s.MapCalibration is { } held ? $"calibration: {held}" : "calibration: no new frame checked yet", CalibrationWidth))))
                : new Markup("[grey]no model yet[/]"))
            .Header(Markup.Escape(s.Uncertainty is { } g && SpreadRaster.QuantityOf(g) is { } q
                // The panel is as narrow as the map: the quantity's name goes in the legend, its unit here.
                ? $"spread{(q.Symbol.Length > 0 ? $" ({q.Symbol})" : "")} at SOC {F(s.Cell.StateOfCharge * 100, "0")} %"
                : $"model uncertainty over the ROI at SOC {F(s.Cell.StateOfCharge * 100, "0")} %"));

    /// <summary>Narrow, like the map's coordinate line, so the panel does not squeeze the decisions beside it.</summary>
    private const int CalibrationWidth = 34;

    private static string Wrap(string text, int width)
    {
        var lines = new List<string> { "" };
        foreach (var word in text.Split(' '))
            if (lines[^1].Length == 0) lines[^1] = word;
            else if (lines[^1].Length + 1 + word.Length <= width) lines[^1] += " " + word;
            else lines.Add(word);
        return string.Join("\n", lines);
    }

    /// <summary>
    /// The spread, high y at the top, the stage's position marked, wide grids pooled (max per cell): each cell two characters
    /// of the density ramp, so the map reads on a terminal without colour, coloured where it has colour; a legend below.
    /// </summary>
    public static IRenderable HeatMap(UncertaintyGrid grid, double xMm, double yMm)
    {
        if (SpreadRaster.Pool(grid, xMm, yMm, MaxHeatMapColumns, MaxHeatMapRows) is not { } map)
            return new Markup($"[red]unusable grid ({grid.Nx} x {grid.Ny}, {grid.Spread?.Length ?? 0} values)[/]");
        var ramp = SpreadRaster.Ramp;
        var text = new System.Text.StringBuilder();
        for (var r = map.Rows - 1; r >= 0; r--)
        {
            for (var c = 0; c < map.Columns; c++)
            {
                var value = map[r, c];
                var here = map.IsStage(r, c);
                if (!double.IsFinite(value)) text.Append(here ? "[white]<>[/]" : "[grey]??[/]");
                else
                {
                    var level = map.Level(value);
                    var colour = Colour((double)level / (ramp.Length - 1));
                    text.Append(here ? $"[black on {colour}]<>[/]" : $"[{colour}]{Markup.Escape(new string(ramp[level], 2))}[/]");
                }
            }
            text.Append('\n');
        }
        var xMax = grid.XMinMm + grid.StepMm * (grid.Nx - 1);
        var yMax = grid.YMinMm + grid.StepMm * (grid.Ny - 1);
        text.Append(CultureInfo.InvariantCulture,
            $"[grey]x {F(grid.XMinMm, "0.#")}..{F(xMax, "0.#")} mm, y {F(grid.YMinMm, "0.#")}..{F(yMax, "0.#")} mm, <> = stage[/]\n");
        // Kept as narrow as the map's coordinates, so the panel does not squeeze the decisions beside it.
        text.Append(Markup.Escape($"ramp \"{ramp}\" low..high\nspread {map.Range}, ?? none"));
        if (map.Quantity is { } quantity) text.Append(Markup.Escape($"\nof the {Cut(quantity.Name, LegendWidth - 7)}"));
        return new Markup(text.ToString());
    }

    /// <summary>The legend's lines are cut to this, so that a long target name does not widen the panel over the decisions.</summary>
    private const int LegendWidth = 36;

    private static string Cut(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "~";

    // Low spread dark blue through green and yellow to red: hot where the model knows least.
    private static string Colour(double t)
    {
        t = Math.Clamp(t, 0, 1);
        (double r, double g, double b) = t < 0.5
            ? (0, 80 + 2 * t * 175, 200 - 2 * t * 150)
            : (2 * (t - 0.5) * 255, 255 - 2 * (t - 0.5) * 200, 50 - 2 * (t - 0.5) * 50);
        return string.Create(CultureInfo.InvariantCulture, $"rgb({(int)r},{(int)g},{(int)b})");
    }

    private static Panel FaultsPanel(ExperimentSnapshot s)
    {
        if (s.RecentFaults.Count == 0) return new Panel(new Markup("[green]none[/]")).Header("recent faults").Expand();
        var lines = s.RecentFaults.TakeLast(ShownFaults).Reverse().Select(f =>
            $"[red]{f.Time.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}[/] {Markup.Escape(f.Source)}: {Markup.Escape(f.Message)}");
        return new Panel(new Markup(string.Join("\n", lines))).Header("recent faults").Expand();
    }

    private static Panel MessagesPanel(DashboardModel model)
    {
        var lines = model.Messages.TakeLast(ShownMessages).Select(m =>
            $"{m.Time.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {(m.Ok ? "[green]ok[/]" : "[red]no[/]")} {Markup.Escape(m.Text)}").ToList();
        return new Panel(new Markup(lines.Count == 0 ? "[grey]type a command, or help[/]" : string.Join("\n", lines))).Header("console").Expand();
    }

    private static string F(double value, string format) =>
        double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a";
}

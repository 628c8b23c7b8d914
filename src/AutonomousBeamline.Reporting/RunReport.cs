using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Storage;

namespace AutonomousBeamline.Reporting;

/// <summary>What the report shows beside the recorded run: where the map is drawn and, in a dry run, the map error per strategy.</summary>
public sealed record ReportSettings(MapRegion Region, int Seed, string Title)
{
    public IReadOnlyList<MapErrorPoint> MapError { get; init; } = [];

    /// <summary>What the run mapped (config <c>learning.target</c>): which observations the map is drawn from, how it is fitted,
    /// and what its values are labelled; the FePO4 fraction of the diffraction frames when null (runs before targets).</summary>
    public ObservationTarget? Target { get; init; }
}

/// <summary>
/// The run's report: <c>report/index.html</c>, one self-contained page (the plots are embedded, and also written
/// beside it as PNG files) with the run's outcome, the cell against time with the frames marked, the learned map and
/// its uncertainty at several states of charge, the decisions with their reasons and C-rates, the XAS edge, a
/// diffraction waterfall and, in a dry run, the map error against frames per strategy.
/// </summary>
public static class RunReport
{
    public const string DirectoryName = "report";
    public const string PageName = "index.html";
    /// <summary>The dry run's map error per strategy, kept in the run folder so that a later report can draw it.</summary>
    public const string MapErrorFileName = "map_error.json";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <summary>Writes the report of <paramref name="run"/> into <paramref name="directory"/> (default: the run folder's <c>report/</c>); returns the page's path.</summary>
    public static string Write(RecordedRun run, ReportSettings settings, string? directory = null)
    {
        directory ??= Path.Combine(run.Directory, DirectoryName);
        Directory.CreateDirectory(directory);
        var figures = Figures(run, settings).ToList();
        foreach (var figure in figures) File.WriteAllBytes(Path.Combine(directory, figure.FileName), figure.Png);
        var page = Path.Combine(directory, PageName);
        File.WriteAllText(page, Page(run, settings, figures), new UTF8Encoding(false));
        return page;
    }

    public static void WriteMapError(string runDirectory, IReadOnlyList<MapErrorPoint> series) =>
        File.WriteAllText(Path.Combine(runDirectory, MapErrorFileName), JsonSerializer.Serialize(series, Json));

    /// <summary>The map error a dry run kept, or none (a live run, or a file that cannot be read).</summary>
    public static IReadOnlyList<MapErrorPoint> ReadMapError(string runDirectory)
    {
        var path = Path.Combine(runDirectory, MapErrorFileName);
        if (!File.Exists(path)) return [];
        try { return JsonSerializer.Deserialize<List<MapErrorPoint>>(File.ReadAllText(path), Json) ?? []; }
        catch (JsonException) { return []; }
    }

    private static IEnumerable<ReportFigure> Figures(RecordedRun run, ReportSettings settings)
    {
        yield return ReportPlots.CellAgainstTime(run);
        var target = settings.Target ?? ObservationTarget.Default;
        foreach (var map in ReportPlots.Maps(run, settings.Region, settings.Seed, target)) yield return map;
        yield return ReportPlots.Decisions(run);
        if (ReportPlots.Xas(run) is { } xas) yield return xas;
        if (ReportPlots.Waterfall(run) is { } waterfall) yield return waterfall;
        if (ReportPlots.MapErrorAgainstFrames(settings.MapError, target.QuantityOf(run.Observations)) is { } error) yield return error;
    }

    private static string Page(RecordedRun run, ReportSettings settings, IReadOnlyList<ReportFigure> figures)
    {
        var html = new StringBuilder();
        string E(string s) => WebUtility.HtmlEncode(s);
        string N(double v, string format = "0.###") => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "–";
        html.Append($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>{E(settings.Title)}</title>
            <style>
            body {"{"} font-family: sans-serif; margin: 1.5em; max-width: 1000px; color: #222; {"}"}
            figure {"{"} margin: 1em 0; {"}"} figure img {"{"} max-width: 100%; border: 1px solid #ddd; {"}"}
            .maps {"{"} display: grid; grid-template-columns: 1fr 1fr; gap: 0.5em; {"}"}
            table {"{"} border-collapse: collapse; font-size: 0.85em; {"}"} td, th {"{"} border: 1px solid #ccc; padding: 2px 6px; text-align: left; {"}"}
            </style></head><body>
            <h1>{E(settings.Title)}</h1>
            """);
        var end = run.End;
        html.Append("<table>");
        void Row(string name, string value) => html.Append($"<tr><th>{E(name)}</th><td>{E(value)}</td></tr>");
        Row("run", run.RunId);
        Row("experiment", run.Experiment);
        Row("strategy", run.Strategy.ToString().ToLowerInvariant());
        Row("outcome", end is null ? "incomplete: the journal has no run_end" : $"{end.ExitStatus.ToString().ToLowerInvariant()}: {end.Reason}");
        Row("from / to", $"{run.StartedAt:u} / {run.EndedAt:u} ({N(run.SecondsFromStart(run.EndedAt) / 3600, "0.00")} h)");
        var preflight = run.Frames.Where(f => f.Fate == Control.Journal.FrameFate.Preflight).ToList();
        Row("frames / observations / decisions", $"{run.Frames.Count - preflight.Count} / {run.Observations.Count} / {run.Decisions.Count}");
        // Preflight's frames are kept apart from the run's (frames.jsonl disposition "preflight"): the reference check's verdict on each.
        foreach (var f in preflight)
            Row($"preflight reference check ({f.Frame!.Header.Kind.Name()}, frame {f.Frame.Header.Frame})", f.Check is not { } check ? "no verdict was stored"
                : check.Explained ? $"explained: {check.Summary}"
                : $"{(check.Conclusive ? "not explained" : "not checked")}: {check.Summary}" + (check.LikelyCause is { } cause ? $"; likely cause: {cause}" : ""));
        Row("map calibration", Calibration(run));
        Row("protocol steps", string.Join(", ", run.Steps.Select(s => $"{s.Start.Step} ({(s.End is null ? "not ended" : s.End.Reason)})")));
        html.Append("</table>");

        var maps = figures.Where(f => f.FileName.StartsWith("map-soc", StringComparison.Ordinal) || f.FileName.StartsWith("uncertainty-soc", StringComparison.Ordinal)).ToList();
        foreach (var figure in figures.Except(maps).Take(1)) Figure(html, figure);
        if (maps.Count > 0)
        {
            html.Append("<h2>The learned map and its uncertainty</h2><div class=\"maps\">");
            foreach (var figure in maps) Figure(html, figure);
            html.Append("</div>");
        }
        foreach (var figure in figures.Except(maps).Skip(1)) Figure(html, figure);

        html.Append("<h2>Decisions</h2><table><tr><th>time (h)</th><th>kind</th><th>chosen</th><th>score</th><th>by</th><th>model</th><th>reason</th></tr>");
        foreach (var d in run.Decisions)
        {
            var values = string.Join(", ", d.Decision.Values.Select(kv => $"{kv.Key} {N(kv.Value)}"));
            html.Append($"<tr><td>{N(run.SecondsFromStart(d.Time) / 3600, "0.000")}</td><td>{E(d.Decision.Kind.Name())}</td><td>{E(values)}</td>" +
                        $"<td>{N(d.Decision.Score, "0.0000")}</td><td>{E(d.Decision.Strategy.Name())}</td><td>{d.Decision.ModelVersion}</td><td>{E(d.Decision.Reason)}</td></tr>");
        }
        html.Append("</table></body></html>\n");
        return html.ToString();
    }

    /// <summary>
    /// How the map's 90 % intervals held at each new frame before the map was fitted on it (the journal's
    /// map_interval_checked records): the run's whole share, and the newest 50 for a map that changed during the run.
    /// </summary>
    private static string Calibration(RecordedRun run)
    {
        var checks = run.Journal.Select(e => e.Record).OfType<MapIntervalChecked>().ToList();
        if (checks.Count == 0) return "no frame was checked against a map fitted before it";
        static double Held(IReadOnlyCollection<MapIntervalChecked> c) => (double)c.Count(x => x.Inside) / c.Count;
        var newest = checks.TakeLast(50).ToList();
        var text = FormattableString.Invariant($"90 % intervals held on {Held(checks):P0} of {checks.Count} frames checked before the map was fitted on them");
        if (newest.Count < checks.Count) text += FormattableString.Invariant($" ({Held(newest):P0} of the newest {newest.Count})");
        // Judged against what chance allows with this many checks: 2.5 binomial standard deviations either side of 90 %.
        var allowed = 2.5 * Math.Sqrt(0.9 * 0.1 / checks.Count);
        return text + (Held(checks) - 0.9) switch
        {
            var d when d < -allowed => "; the map is overconfident: its uncertainty is smaller than its errors",
            var d when d > allowed => "; the map is underconfident: its uncertainty is larger than its errors",
            _ => "",
        };
    }

    private static void Figure(StringBuilder html, ReportFigure figure) =>
        html.Append($"<figure><img alt=\"{WebUtility.HtmlEncode(figure.Caption)}\" src=\"data:image/png;base64,{Convert.ToBase64String(figure.Png)}\">" +
                    $"<figcaption>{WebUtility.HtmlEncode(figure.Caption)} (<a href=\"{figure.FileName}\">{figure.FileName}</a>)</figcaption></figure>\n");
}

using System.Diagnostics;
using AutonomousBeamline.Cli;
using SkiaSharp;

namespace AutonomousBeamline.EndToEnd.Tests;

/// <summary>
/// A dry run leaves its standard files and its report: run.nxs and documents.jsonl pass the h5py checks against the
/// journal, and the report, rendered by headless Chromium (Debian's, as .ci/run installs it), shows its plots.
/// </summary>
public sealed class ReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("report-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private Task<string> DryRunAsync(int frames) => ShortDryRunAsync(_dir, frames);

    /// <summary>A short dry run of the shipped config into <paramref name="dir"/>/runs; its run folder.</summary>
    internal static async Task<string> ShortDryRunAsync(string dir, int frames)
    {
        var _dir = dir;
        var yaml = File.ReadAllText(DryRunTests.RepoFile("configs/dry-run.yaml"))
            .Replace("frames: 80", $"frames: {frames}")
            .Replace("endpoint: tcp://127.0.0.1:5560", "endpoint: tcp://127.0.0.1:0");
        var config = Path.Combine(_dir, "short.yaml");
        File.WriteAllText(config, yaml);
        Assert.Equal(Commands.Success, await Commands.DryRunAsync(config, Path.Combine(_dir, "runs"), seed: 5, CancellationToken.None));
        return Assert.Single(Directory.GetDirectories(Path.Combine(_dir, "runs")));
    }

    [Fact]
    public async Task A_dry_run_writes_nexus_documents_and_a_report_whose_page_shows_its_plots()
    {
        var runDir = await DryRunAsync(frames: 15);
        Assert.Equal("ok", Python.Run("check_nexus.py", runDir).Trim());
        Assert.Equal("ok", Python.Run("check_documents.py", runDir).Trim());
        Assert.Equal("ok", Python.Run("check_bdf.py", runDir).Trim());
        Assert.Equal("""[["xrd", true], ["xas", true]]""", Python.Run("check_preflight.py", runDir).Trim());
        Assert.True(File.Exists(Path.Combine(runDir, "metadata.jsonld")));
        // What the program said is kept with the data, progress lines included.
        var log = File.ReadAllText(Path.Combine(runDir, "run.log"));
        Assert.Contains("15/15 frames", log);
        Assert.Contains("[INF] success", log);

        var page = Path.Combine(runDir, "report", "index.html");
        var html = File.ReadAllText(page);
        foreach (var plot in new[] { "cell.png", "decisions.png", "waterfall.png", "xas.png", "map-error.png" })
            Assert.Contains(plot, html);
        Assert.Contains("map-soc", html);
        Assert.Contains("uncertainty-soc", html);
        // The map's intervals, checked at each new frame before the map was fitted on it, summed up on the page.
        var checks = File.ReadLines(Path.Combine(runDir, "journal.jsonl")).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!)
            .Where(r => (string?)r["type"] == "map_interval_checked").ToList();
        Assert.NotEmpty(checks);
        Assert.All(checks, c => Assert.Equal(
            Math.Abs((double)c["value"]! - (double)c["mean"]!) <= 1.6448536269514722 * (double)c["spread"]!, (bool)c["inside"]!));
        Assert.Contains($"of {checks.Count} frames checked before the map was fitted on them", html);
        Assert.Contains("preflight reference check (xrd, frame 1)</th><td>explained: ", html);

        // The page as a browser draws it, against the same page without its images: the plots are what fills it.
        var withPlots = Screenshot(page);
        var textOnly = Path.Combine(_dir, "text-only.html");
        File.WriteAllText(textOnly, System.Text.RegularExpressions.Regex.Replace(html, "<img [^>]*>", ""));
        var withoutPlots = Screenshot(textOnly);
        var plotted = ColourfulBands(withPlots);
        Assert.True(plotted >= 12, $"only {plotted} bands of the rendered report hold a plot");
        Assert.True(ColourfulBands(withoutPlots) <= plotted / 4, "the page without its images looks as busy as with them");
    }

    [Fact]
    public async Task Beamline_report_writes_the_same_report_again_from_the_run_folder()
    {
        var runDir = await DryRunAsync(frames: 6);
        var nexus = Path.Combine(runDir, "run.nxs");
        File.Delete(nexus);
        Directory.Delete(Path.Combine(runDir, "report"), recursive: true);
        Assert.Equal(Commands.Success, Commands.Report(runDir));
        Assert.True(File.Exists(nexus));
        Assert.True(File.Exists(Path.Combine(runDir, "report", "index.html")));
        Assert.Equal("ok", Python.Run("check_nexus.py", runDir).Trim());
    }

    [Fact]
    public void Beamline_report_on_a_folder_that_is_no_run_says_so()
    {
        Assert.Equal(Commands.BadConfig, Commands.Report(_dir));
    }

    private string Screenshot(string page)
    {
        var png = Path.Combine(_dir, Path.GetFileNameWithoutExtension(page) + ".png");
        var start = new ProcessStartInfo("chromium") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", $"--screenshot={png}", "--window-size=1100,5000", new Uri(page).AbsoluteUri })
            start.ArgumentList.Add(a);
        using var chromium = Process.Start(start)!;
        _ = chromium.StandardOutput.ReadToEndAsync();
        var errors = chromium.StandardError.ReadToEndAsync();
        Assert.True(chromium.WaitForExit(TimeSpan.FromMinutes(2)), "chromium did not finish");
        Assert.True(File.Exists(png), $"chromium wrote no screenshot: {errors.Result}");
        return png;
    }

    /// <summary>Horizontal bands of 100 pixels that hold many distinct colours: a plot's colour maps and lines, not text on white.</summary>
    private static int ColourfulBands(string png)
    {
        using var bitmap = SKBitmap.Decode(png);
        var bands = 0;
        for (var top = 0; top + 100 <= bitmap.Height; top += 100)
        {
            var colours = new HashSet<uint>();
            for (var y = top; y < top + 100; y += 2)
            for (var x = 0; x < bitmap.Width; x += 2)
            {
                var c = bitmap.GetPixel(x, y);
                if (c.Red != c.Green || c.Green != c.Blue) colours.Add((uint)c >> 2 & 0x3F3F3F);
            }
            if (colours.Count >= 40) bands++;
        }
        return bands;
    }
}

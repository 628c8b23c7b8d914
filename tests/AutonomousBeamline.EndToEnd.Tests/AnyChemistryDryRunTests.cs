using System.Text.Json.Nodes;
using AutonomousBeamline.Cli;

namespace AutonomousBeamline.EndToEnd.Tests;

/// <summary>The shipped chemistries end to end, and a config whose X-ray energy is not the beamline's.</summary>
public sealed class AnyChemistryDryRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("chemistry-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>A shipped config, shortened, beside a copy of its reference files (relative paths resolve against the config's folder).</summary>
    private string Shipped(string name, int frames, params (string From, string To)[] edits)
    {
        var yaml = File.ReadAllText(DryRunTests.RepoFile($"configs/{name}"))
            .Replace("frames: 80", $"frames: {frames}")
            .Replace("endpoint: tcp://127.0.0.1:5560", "endpoint: tcp://127.0.0.1:0");
        foreach (var (from, to) in edits)
        {
            Assert.Contains(from, yaml);
            yaml = yaml.Replace(from, to);
        }
        var references = Path.Combine(_dir, "references");
        Directory.CreateDirectory(references);
        foreach (var file in Directory.GetFiles(DryRunTests.RepoFile("configs/references")))
            File.Copy(file, Path.Combine(references, Path.GetFileName(file)), overwrite: true);
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    private static List<JsonObject> Journal(string runDir) =>
        File.ReadLines(Path.Combine(runDir, "journal.jsonl")).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();

    [Fact]
    public async Task The_layered_oxide_rehearsal_maps_the_moving_peak_from_a_reference_of_another_beamtime()
    {
        var exit = await Commands.DryRunAsync(Shipped("dry-run-nmc.yaml", 12), Path.Combine(_dir, "runs"), seed: 5, CancellationToken.None);
        Assert.Equal(Commands.Success, exit);
        var runDir = Assert.Single(Directory.GetDirectories(Path.Combine(_dir, "runs")));
        var journal = Journal(runDir);
        var preflight = journal.Single(r => (string?)r["type"] == "preflight");
        Assert.Contains("references (xrd)", preflight.ToJsonString());
        Assert.Contains("references (xas)", preflight.ToJsonString());
        var observations = journal.Where(r => (string?)r["type"] == "observation").ToList();
        var patterns = observations.Where(o => (string?)o["kind"] == "xrd").ToList();
        Assert.NotEmpty(patterns);
        Assert.All(patterns, o =>
        {
            Assert.Equal("peak position of NMC811", (string?)o["target"]);
            // (003) of NMC811 at 0.5 Å: d = 4.73 Å, 2θ ≈ 6.06°, moving up as the lattice shrinks.
            Assert.InRange((double)o["phase_fraction"]!, 6.0, 6.2);
            Assert.Equal((double)o["phase_fraction"]!, (double)o["features"]!["peak_position:NMC811"]!, 9);
        });
        var spectra = observations.Where(o => (string?)o["kind"] == "xas").ToList();
        Assert.NotEmpty(spectra);
        Assert.All(spectra, o => Assert.InRange((double)o["edge_energy_ev"]!, 8340, 8352));
        Assert.DoesNotContain(journal, r => (string?)r["type"] == "frame_not_counted");
        var summary = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json")))!;
        Assert.True((double)summary["map_error"]!["learner_rmse"]! < 0.05, "the map of the (003) position is within 0.05°");

        // What the map's values are, in degrees (the detector's 2θ axis), wherever they are shown or stored; the spectra keep their share.
        Assert.All(patterns, o => Assert.Equal("degree", (string?)o["target_unit"]));
        Assert.All(spectra, o => Assert.Null(o["target_unit"]));
        Assert.Equal("""{"documents": {"xas": [""], "xrd": ["degree"]}, "journal": {"xas": [["", ""]], "xrd": [["peak position of NMC811", "degree"]]}, "nexus_column_unit": ""}""",
            Python.Run("check_target_units.py", runDir).Trim());
        var log = File.ReadAllText(Path.Combine(runDir, "run.log"));
        Assert.Matches(@"peak position of NMC811 6\.\d+ ± 0\.\d+ °", log);
        Assert.Matches(@"map error \(RMSE of the peak position of NMC811, same \d+ frames\): learner 0\.\d+ °", log);
        var report = System.Net.WebUtility.HtmlDecode(File.ReadAllText(Path.Combine(runDir, "report", "index.html")));
        Assert.Contains("The learned peak position of NMC811 (°) at state of charge", report);
        Assert.Contains("The learned spread of the map of the peak position of NMC811 (°)", report);
    }

    [Fact]
    public async Task A_config_at_the_wrong_X_ray_energy_stops_in_preflight_naming_the_energy_before_the_cell_is_touched()
    {
        // The beamline really runs at 0.5 Å; the config says 17 keV (0.7293 Å).
        var config = Shipped("dry-run-17kev.yaml", 12, ("physics: { intensity_jitter: 0.10,", "physics: { wavelength_angstrom: 0.5, intensity_jitter: 0.10,"));
        var exit = await Commands.DryRunAsync(config, Path.Combine(_dir, "runs"), seed: 5, CancellationToken.None);
        Assert.Equal(Commands.RunFailed, exit);
        var runDir = Assert.Single(Directory.GetDirectories(Path.Combine(_dir, "runs")));
        var journal = Journal(runDir);
        var end = journal.Single(r => (string?)r["type"] == "run_end");
        var reason = (string?)end["reason"] ?? "";
        Assert.Contains("likely cause: X-ray energy", reason);
        Assert.Matches(@"fits far better at 0\.(49|50)\d* Å", reason);
        Assert.DoesNotContain(journal, r => (string?)r["type"] == "observation");
        Assert.DoesNotContain(journal, r => (string?)r["type"] == "step_start");
        var summary = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json")))!;
        Assert.Equal(0, (int)summary["protocol_steps"]!);
        // The pattern that failed the check is on disk in every file, with the verdict that names the cause beside it.
        Assert.Equal("""[["xrd", false]]""", Python.Run("check_preflight.py", runDir).Trim());
        var check = journal.Single(r => (string?)r["type"] == "reference_check");
        Assert.StartsWith("X-ray energy", (string?)check["likely_cause"]);
        Assert.True((double)check["unexplained"]! > 0.35, "the residual of a pattern the references do not explain");
    }

    [Fact]
    public async Task The_rehearsal_at_17_keV_with_references_ten_percent_off_runs_through()
    {
        var exit = await Commands.DryRunAsync(Shipped("dry-run-17kev.yaml", 12), Path.Combine(_dir, "runs"), seed: 5, CancellationToken.None);
        Assert.Equal(Commands.Success, exit);
        var runDir = Assert.Single(Directory.GetDirectories(Path.Combine(_dir, "runs")));
        var observations = Journal(runDir).Where(r => (string?)r["type"] == "observation" && (string?)r["kind"] == "xrd").ToList();
        Assert.InRange(observations.Count, 8, 10);
        Assert.All(observations, o => Assert.InRange((double)o["phase_fraction"]!, 0, 1));
    }
}

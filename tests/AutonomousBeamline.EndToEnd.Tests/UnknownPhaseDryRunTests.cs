using System.Text.Json.Nodes;
using AutonomousBeamline.Cli;
using AutonomousBeamline.Core.Materials;

namespace AutonomousBeamline.EndToEnd.Tests;

/// <summary>
/// A phase nobody gave: the shipped olivine rehearsal, diffraction only, charged from 30 % at 2C, with a third, cubic phase
/// that only the simulator renders (<c>simulation.phases</c>) growing in once the local state of charge passes 0.45. The
/// references cannot explain those patterns; the reference-free decomposition finds the phase as one more component.
/// </summary>
public sealed class UnknownPhaseDryRunTests : IDisposable
{
    private const double A = 4.18;   // the unknown phase's cubic cell (Å); its strongest reflection is (2 0 0)
    private readonly string _dir = Directory.CreateTempSubdirectory("unknown-phase-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>Where the unknown phase's strongest reflection, (2 0 0), lies on the simulated detector's 2θ axis at 0.5 Å.</summary>
    private static double StrongestTwoTheta => Bragg.TwoThetaDeg(A / 2, BatteryMaterials.DefaultWavelengthAngstrom)!.Value;

    /// <summary>Where an olivine's (2 1 1) lies at 0.5 Å: the channel its component peaks at (the strongest of its
    /// overlapping reflections on this axis).</summary>
    private static double OlivineTwoTheta(OrthorhombicLattice lattice) =>
        Bragg.TwoThetaDeg(lattice.DSpacing(2, 1, 1), BatteryMaterials.DefaultWavelengthAngstrom)!.Value;

    /// <summary>
    /// A shipped rehearsal as the unknown-phase runs take it: <paramref name="frames"/> frames, diffraction only, charged at 2C
    /// from 30 %, the unusable-data suspender out of the way (the patterns the references cannot explain are the point here),
    /// and a cubic rock-salt phase that only the simulator renders growing in above a local state of charge of 0.45 as the
    /// rehearsal's first phase turns into its second.
    /// </summary>
    /// <param name="first">With <paramref name="second"/>: the reaction the simulator renders (the rehearsal's first phase turning
    /// into its second, the rock salt growing in); null where the rehearsal has a reaction of its own, which the caller extends.</param>
    private static string WithUnknownPhase(string shippedConfig, int frames, double a, string reflections, string? first, string? second, string initialSoc)
    {
        var reaction = first is null || second is null ? "" : $$"""

                  reaction:
                    - { phase: {{first}}, amount: [1, 0] }
                    - { phase: {{second}}, amount: [0, 1] }
                    - { phase: rock-salt, amount: [0, 1.5], appears_above: 0.45 }
                """;
        return File.ReadAllText(DryRunTests.RepoFile(shippedConfig))
            .Replace("frames: 80", $"frames: {frames}")
            .Replace("endpoint: tcp://127.0.0.1:5560", "endpoint: tcp://127.0.0.1:0")
            .Replace("kind: xrd+xas ", "kind: xrd ")
            .Replace("file: references/", $"file: {DryRunTests.RepoFile("configs/references")}/")
            .Replace("pattern: references/", $"pattern: {DryRunTests.RepoFile("configs/references")}/")
            .Replace($"initial_state_of_charge: {initialSoc}", "initial_state_of_charge: 0.3")
            .Replace("c_rate: 1.0                # + charges", "c_rate: 2.0")
            .Replace("c_rates: [0.5, 1.0, 2.0]", "c_rates: [2.0]")
            .Replace("  beam_settle_s: 60", "  beam_settle_s: 60\n  unusable_frames_in_a_row: 1000\n  unusable_rate_max: 1")
            .Replace("  axis_speed_mm_per_s: 2", $$"""
                  axis_speed_mm_per_s: 2
                  phases:
                    - name: rock-salt
                      lattice: { system: cubic, a: {{a}} }
                      reflections: {{reflections}}
                """ + reaction);
    }

    private string Config(int frames, string? target = null)
    {
        var yaml = WithUnknownPhase("configs/dry-run.yaml", frames, A, "[[1,1,1,35], [2,0,0,100], [2,2,0,55], [3,1,1,20]]", "LiFePO4", "FePO4", "0.45");
        if (target is not null) yaml = yaml.Replace("output:\n", $"learning:\n  target: {target}\n\noutput:\n");
        var path = Path.Combine(_dir, "unknown-phase.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private async Task<(List<JsonObject> Journal, List<JsonNode> Frames)> Run(string config, int expectedExit = Commands.Success)
    {
        var exit = await Commands.DryRunAsync(config, Path.Combine(_dir, "runs"), seed: 5, CancellationToken.None);
        Assert.Equal(expectedExit, exit);
        var runDir = Assert.Single(Directory.GetDirectories(Path.Combine(_dir, "runs")));
        var journal = File.ReadLines(Path.Combine(runDir, "journal.jsonl")).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();
        var frames = File.ReadLines(Path.Combine(runDir, "frames.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        return (journal, frames);
    }

    private async Task<(List<JsonObject> Before, List<JsonObject> After)> RunCutAndResume(long lastFrameBeforeCrash)
    {
        var (full, _) = await Run(Config(30));
        var runDir = Assert.Single(Directory.GetDirectories(Path.Combine(_dir, "runs")));
        CrashedRunFolder.CutAfterFrame(runDir, lastFrameBeforeCrash);
        var before = File.ReadLines(Path.Combine(runDir, "journal.jsonl")).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();
        Assert.Equal(Commands.Success, await Commands.DryRunAsync("unused", null, null, CancellationToken.None, resumeDir: runDir));
        var after = File.ReadLines(Path.Combine(runDir, "journal.jsonl")).Skip(before.Count).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();
        Assert.Contains(after, r => (string?)r["type"] == "run_resume");
        return (before, after);
    }

    [Fact]
    public async Task A_run_resumed_after_its_decomposition_began_goes_on_with_the_same_components_under_the_same_ids()
    {
        // Frame 20: the references stopped explaining the patterns at about frame 15 (docs/materials.md), so the stream has begun.
        var (before, after) = await RunCutAndResume(20);
        var last = Updates(before)[^1];
        var next = Updates(after)[0];
        Assert.Equal((int)last["version"]! + 1, (int)next["version"]!);
        Assert.Equal((string?)last["started_by"], (string?)next["started_by"]);
        Assert.Equal((int)last["seed_frames"]!, (int)next["seed_frames"]!);
        Assert.True((long)next["frames"]! > (long)last["frames"]!, $"the resumed stream counts {next["frames"]} frames, the one before the crash {last["frames"]}");
        // Each component journalled before the crash is there after it, under its id, peaking where it peaked.
        var afterById = next["components"]!.AsArray().ToDictionary(c => (int)c!["id"]!, c => (double)c!["peak_at"]!);
        foreach (var component in last["components"]!.AsArray())
        {
            var id = (int)component!["id"]!;
            Assert.True(afterById.TryGetValue(id, out var peak), $"component {id} (peak {component["peak_at"]}°) is gone after the resume: {next["components"]!.ToJsonString()}");
            Assert.Equal((double)component["peak_at"]!, peak, 0.05);
        }
    }

    [Fact]
    public async Task A_run_resumed_before_its_decomposition_began_seeds_it_with_the_explained_patterns_from_before_the_crash()
    {
        var (before, after) = await RunCutAndResume(10);
        Assert.Empty(Updates(before));
        var first = Updates(after)[0];
        Assert.Equal("reference_misfit", (string?)first["started_by"]);
        // Seeded with every explained pattern before the stream began, those before the crash included.
        var explained = before.Concat(after).Count(r => (string?)r["type"] == "observation" && (string?)r["kind"] == "xrd" && (long)r["frame"]! < (long)first["frame"]!);
        Assert.True(explained > 10, $"{explained} explained patterns");
        Assert.Equal(Math.Min(explained, 39), (int)first["seed_frames"]!);
    }

    /// <summary>
    /// Another chemistry: the spinel rehearsal (LiMn2O4 to λ-MnO2 at 24.8 keV, diffraction only), charged from 30 % at 2C, with
    /// a rock-salt phase growing in above a local state of charge of 0.45. λ-MnO2 is LiMn2O4 with a 2 % smaller cell, so its
    /// pattern lies largely within LiMn2O4's own peak shifts: a new component seeded from what the spinels leave took one of
    /// their shifted peaks for the new phase (a third component at LiMn2O4's (1 1 1), 6.01° against 6.02°).
    /// </summary>
    [Fact]
    public async Task An_unknown_phase_in_the_spinel_rehearsal_is_resolved_as_a_component_of_its_own()
    {
        const double rockSalt = 4.44;
        var yaml = WithUnknownPhase("configs/dry-run-lmo.yaml", 40, rockSalt, "[[1,1,1,60], [2,0,0,100], [2,2,0,55]]", "LiMn2O4", "lambda-MnO2", "0.05");
        var config = Path.Combine(_dir, "unknown-phase-lmo.yaml");
        File.WriteAllText(config, yaml);
        var (journal, _) = await Run(config);
        // Two spinels 2 % apart and a rock salt: phases, not pieces of one reflection.
        NoneSaidUnresolved(journal);

        var wavelength = XrayBeam.FromEnergyKev(24.8).WavelengthAngstrom;
        double TwoTheta(double d) => Bragg.TwoThetaDeg(d, wavelength)!.Value;
        var expected = new[] { TwoTheta(8.24 / Math.Sqrt(3)), TwoTheta(8.05 / Math.Sqrt(3)), TwoTheta(rockSalt / 2) };
        var updates = Updates(journal);
        var resolved = updates.FirstOrDefault(u => (int)u["rank"]! >= 3);
        Assert.NotNull(resolved);
        var peaks = resolved["components"]!.AsArray().Select(c => (double)c!["peak_at"]!).ToList();
        Assert.All(expected, e => Assert.True(peaks.Any(p => Math.Abs(p - e) < 0.05),
            $"components peak at {string.Join(", ", peaks.Select(p => p.ToString("0.000")))}°, the spinels' (1 1 1) and the rock salt's (2 0 0) at "
            + $"{string.Join(", ", expected.Select(x => x.ToString("0.000")))}°"));
        // Once found, the new phase keeps its component.
        var newcomer = resolved["components"]!.AsArray().Single(c => Math.Abs((double)c!["peak_at"]! - expected[2]) < 0.05)!;
        Assert.All(updates.SkipWhile(u => u != resolved), u => Assert.Contains(u["components"]!.AsArray(),
            c => (int)c!["id"]! == (int)newcomer["id"]! && Math.Abs((double)c["peak_at"]! - expected[2]) < 0.05));
    }

    /// <summary>
    /// A solid solution: the layered-oxide rehearsal (NMC811, whose (0 0 3) moves continuously as the cell charges) with the rock
    /// salt growing in. Decomposing the patterns themselves, the (0 0 3) moving by about its own width across the window took one
    /// component per position (6–8) and left the rock salt none; what the references leave (they follow the moving phase) holds
    /// the rock salt at one place, beside their small mismatch.
    /// </summary>
    [Fact]
    public async Task An_unknown_phase_beside_a_solid_solution_is_resolved_as_a_component_of_its_own()
    {
        var (journal, _) = await Run(SolidSolutionWithRockSalt());

        var strongest = NmcRockSaltTwoTheta;
        var updates = Updates(journal);
        Assert.NotEmpty(updates);
        var last = updates[^1];
        var peaks = last["components"]!.AsArray().Select(c => (double)c!["peak_at"]!).ToList();
        Assert.True(peaks.Any(p => Math.Abs(p - strongest) < 0.05),
            $"components peak at {string.Join(", ", peaks.Select(p => p.ToString("0.000")))}°, the rock salt's (2 0 0) at {strongest:0.000}°");
        Assert.InRange((int)last["rank"]!, 2, 3);
        // Its share is of the diffracted signal (the references' fitted peaks and the components), not of what they leave: the
        // rock salt has 1.5 times NMC811's amount in the simulator where it has grown in, so a sizeable share; the components
        // at NMC811's own peaks (the references' mismatch) take almost none.
        var rockSaltShare = last["components"]!.AsArray().Where(c => Math.Abs((double)c!["peak_at"]! - strongest) < 0.05).Max(c => (double)c!["fraction"]!);
        Assert.InRange(rockSaltShare, 0.2, 0.8);
        Assert.All(last["components"]!.AsArray().Where(c => Math.Abs((double)c!["peak_at"]! - strongest) >= 0.05), c => Assert.InRange((double)c!["fraction"]!, 0, 0.05));
        NoneSaidUnresolved(journal);
    }

    private const double NmcRockSalt = 4.18;

    /// <summary>Where the rock salt beside the layered oxide has its strongest reflection, (2 0 0), at 0.5 Å.</summary>
    private static double NmcRockSaltTwoTheta => Bragg.TwoThetaDeg(NmcRockSalt / 2, BatteryMaterials.DefaultWavelengthAngstrom)!.Value;

    /// <summary>The layered-oxide rehearsal with the rock salt growing in above a local state of charge of 0.45.</summary>
    private string SolidSolutionWithRockSalt()
    {
        var yaml = WithUnknownPhase("configs/dry-run-nmc.yaml", 40, NmcRockSalt, "[[1,1,1,60], [2,0,0,100], [2,2,0,55]]", null, null, "0.05")
            .Replace("strain: [0, -0.015] }", "strain: [0, -0.015] }\n    - { phase: rock-salt, amount: [0, 1.5], appears_above: 0.45 }\n   ");
        var config = Path.Combine(_dir, "unknown-phase-nmc.yaml");
        File.WriteAllText(config, yaml);
        return config;
    }

    /// <summary>
    /// The same rehearsal with materials that do not say NMC811's lattice moves (no <c>max_strain</c>): the references cannot
    /// follow it, the patterns themselves are decomposed, the moving (0 0 3) is cut into one component per position, and the
    /// run says so instead of publishing those pieces as phases without a word.
    /// </summary>
    [Fact]
    public async Task A_moving_phase_the_materials_do_not_say_moves_is_said_to_be_cut_into_pieces()
    {
        var config = SolidSolutionWithRockSalt();
        File.WriteAllText(config, string.Join('\n', File.ReadLines(config).Where(l => !l.Contains("max_strain:", StringComparison.Ordinal))));
        // The references cannot follow the moving phase, so nearly every pattern is unexplained, and the run stops once the
        // operator has not come (unusable data); the decomposition has spoken before that.
        var (journal, _) = await Run(config, Commands.RunFailed);
        Assert.Contains(journal, r => (string?)r["type"] == "suspend" && (string?)r["suspender"] == "unusable data");

        var unresolved = journal.Where(r => (string?)r["type"] == "decomposition_unresolved").ToList();
        Assert.NotEmpty(unresolved);
        var first = unresolved[0];
        Assert.Equal("one-moving-pattern", (string?)first["reason"]);
        var ids = first["components"]!.AsArray().Select(c => (int)c!).ToList();
        Assert.True(ids.Count >= 3, $"{ids.Count} components named");
        // The named components are the stream's, as published with the same frame, each peaking between the chain's ends.
        var published = Updates(journal).Last(u => (long)u["frame"]! == (long)first["frame"]!)["components"]!.AsArray()
            .ToDictionary(c => (int)c!["id"]!, c => (double)c!["peak_at"]!);
        var (from, to) = ((double)first["peaks_from"]!, (double)first["peaks_to"]!);
        Assert.All(ids, id => Assert.InRange(published[id], Math.Min(from, to) - 1e-9, Math.Max(from, to) + 1e-9));
        // One reflection: NMC811's (0 0 3), its lattice a per cent or so apart at most, nowhere near the rock salt's (2 0 0).
        Assert.InRange((double)first["strain_span"]!, 0, 0.02);
        Assert.True(Math.Abs(from - NmcRockSaltTwoTheta) > 1, $"the chain peaks at {from}–{to}°, the rock salt's (2 0 0) at {NmcRockSaltTwoTheta:0.00}°");
    }

    private static void NoneSaidUnresolved(List<JsonObject> journal) =>
        Assert.DoesNotContain(journal, r => (string?)r["type"] == "decomposition_unresolved");

    private static List<JsonObject> Updates(List<JsonObject> journal) =>
        journal.Where(r => (string?)r["type"] == "components_updated" && (string?)r["kind"] == "xrd").ToList();

    [Fact]
    public async Task The_patterns_the_references_cannot_explain_are_flagged_stored_and_decomposed_into_one_more_component_at_the_unknown_peak()
    {
        var (journal, frames) = await Run(Config(30));
        // Three distinct phases: nothing is said to be one moving reflection.
        NoneSaidUnresolved(journal);

        // The frames the olivines cannot explain: flagged, not counted, and on disk with their flag.
        var misfits = journal.Where(r => (string?)r["type"] == "frame_not_counted" && ((string?)r["reason"] ?? "").Contains("reference-misfit")).ToList();
        Assert.True(misfits.Count >= 5, $"{misfits.Count} patterns flagged reference-misfit");
        var stored = frames.Where(f => (string?)f["disposition"] == "flagged:reference-misfit").Select(f => (long)f["header"]!["frame"]!).ToHashSet();
        Assert.All(misfits, m => Assert.Contains((long)m["frame"]!, stored));
        // Before the phase grows in, the references explain the patterns.
        Assert.Contains(journal, r => (string?)r["type"] == "observation" && (string?)r["kind"] == "xrd");

        // The rank reaches three, one more than the phases the references know, and no more.
        var updates = Updates(journal);
        Assert.NotEmpty(updates);
        Assert.Equal(3, updates.Max(u => (int)u["rank"]!));
        var last = updates[^1];
        Assert.Equal(3, (int)last["rank"]!);
        // Each phase is a component of its own: one peaks at LiFePO4's (2 1 1), one at FePO4's, one at the unknown phase's
        // (2 0 0) — not mixtures, which the unexplained frames alone gave (all three phases rising together in them).
        var peaks = last["components"]!.AsArray().Select(c => (double)c!["peak_at"]!).ToList();
        var shares = last["components"]!.AsArray().Select(c => (double)c!["fraction"]!).ToList();
        var expected = new[] { OlivineTwoTheta(BatteryMaterials.LiFePO4Lattice), OlivineTwoTheta(BatteryMaterials.FePO4Lattice), StrongestTwoTheta };
        Assert.All(expected, e => Assert.True(peaks.Any(p => Math.Abs(p - e) < 0.05),
            $"components peak at {string.Join(", ", peaks.Select(p => p.ToString("0.000")))}° (shares {string.Join(", ", shares.Select(f => f.ToString("0.00")))}), "
            + $"the phases' peaks at {string.Join(", ", expected.Select(x => x.ToString("0.000")))}°"));
    }

    [Fact]
    public async Task A_component_score_target_counts_two_components_before_the_unknown_phase_and_three_after_and_maps_the_third()
    {
        var (journal, _) = await Run(Config(30, "{ kind: component_score, component: 3 }"));
        var updates = Updates(journal);
        var firstMisfit = journal.Where(r => (string?)r["type"] == "observation" && (string?)r["kind"] == "xrd"
                                            && (double?)r["features"]?["unexplained"] > 0.35).Select(r => (long)r["frame"]!).DefaultIfEmpty(long.MaxValue).Min();
        Assert.NotEqual(long.MaxValue, firstMisfit);
        // Every frame is decomposed: two components (the olivines) while the references explain the patterns, three after.
        Assert.Equal(2, updates.Where(u => (long)u["frame"]! < firstMisfit).Max(u => (int)u["rank"]!));
        Assert.Equal(3, updates.Max(u => (int)u["rank"]!));
        var third = updates.First(u => (int)u["rank"]! == 3);
        Assert.True((long)third["frame"]! >= firstMisfit - 3, $"the third component appeared at frame {third["frame"]}, the first unexplained pattern is {firstMisfit}");
        var newcomer = third["components"]!.AsArray().Single(c => (int)c!["id"]! == 3)!;
        Assert.True(Math.Abs((double)newcomer["peak_at"]! - StrongestTwoTheta) < 0.05, $"component 3 peaks at {newcomer["peak_at"]}°, the unknown phase's (2 0 0) at {StrongestTwoTheta:0.000}°");

        // The map is of component 3's share: 0 (σ 1) before it exists, its share after.
        var observations = journal.Where(r => (string?)r["type"] == "observation" && (string?)r["kind"] == "xrd").ToList();
        Assert.All(observations, o => Assert.Equal("share of component 3", (string?)o["target"]));
        Assert.Contains(observations, o => (double)o["phase_fraction"]! > 0.1);
    }
}

using System.Text.Json.Nodes;
using AutonomousBeamline.Cli;
using AutonomousBeamline.Cli.Composition;
using AutonomousBeamline.Configuration;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Core.Time;

namespace AutonomousBeamline.EndToEnd.Tests.Hostile;

/// <summary>
/// The detector behind a gateway that turns hostile mid-run, with the cell charging: multipart control replies and every
/// frame malformed from then on. The run must end by itself in bounded time, say why, and leave the cell safe.
/// </summary>
[Collection(HeavyRuns.Name)]
public sealed class HostileDetectorGatewayTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task A_detector_that_turns_hostile_mid_run_ends_the_run_with_the_output_off_and_the_reason_journalled()
    {
        var yaml = File.ReadAllText(DryRunTests.RepoFile("configs/dry-run.yaml"))
            .Replace("endpoint: tcp://127.0.0.1:5560", "endpoint: \"\"")
            // Lost replies and frames should cost little wall time.
            .Replace("    timeout_s: 5\n    retries: 3", "    timeout_s: 1\n    retries: 2");
        var path = Path.Combine(_dir, "hostile.yaml");
        File.WriteAllText(path, yaml);
        var config = ConfigLoader.Load(path, Simulators.Faults.FaultKinds.ByDevice);
        var clock = new VirtualTimeProvider(new DateTimeOffset(2026, 12, 2, 22, 0, 0, TimeSpan.Zero));
        await using var facility = SimulationComposition.StartFacility(config, clock);
        // Preflight's frame and three observations pass untouched; from then on nothing the detector sends is usable.
        using var gateway = new HostileDetectorGateway(facility.DetectorControlEndpoint, facility.DetectorDataEndpoint, faithfulFrames: 4);
        var endpoints = DeviceEndpoints.FromFacility(facility, config) with
        {
            DetectorControl = gateway.ControlEndpoint, DetectorData = gateway.DataEndpoint,
        };
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var wall = System.Diagnostics.Stopwatch.StartNew();

        var exit = await ExperimentRunner.RunAsync(config, path, endpoints, clock, RunMode.DryRun, Path.Combine(_dir, "runs"), facility, guard.Token);

        Assert.False(guard.IsCancellationRequested, $"the run did not end by itself within {wall.Elapsed}");
        Assert.Equal(Commands.RunFailed, exit);
        Assert.True(gateway.Hostile, "the gateway never turned hostile");
        Assert.True(gateway.FramesSpoiled >= 1 && gateway.MultipartReplies >= 1, $"{gateway.FramesSpoiled} frames spoiled, {gateway.MultipartReplies} multipart replies");
        var runDir = Assert.Single(Directory.GetDirectories(Path.Combine(_dir, "runs")));
        var journal = File.ReadLines(Path.Combine(runDir, "journal.jsonl")).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();
        List<JsonObject> Of(string type) => journal.Where(r => (string?)r["type"] == type).ToList();

        // The cell was charging when the gateway turned: the safe state is a real one.
        Assert.Contains(Of("cell"), c => (double)c["current_a"]! > 0);
        Assert.False(facility.Cell.OutputOn, "the cell's output is still on");
        Assert.False(facility.Stage.ShutterOpen, "the shutter is still open");
        Assert.NotEmpty(Of("safe_state"));
        // The peer's habits were met and named: frames refused for a payload shorter than their n, multipart replies discarded.
        var rejected = Of("frame_rejected").Select(r => (string)r["reason"]!).ToList();
        Assert.True(rejected.Any(r => r.Contains("bytes, but \"n\"")), "frames rejected: " + string.Join(" | ", rejected.Distinct()));
        var retries = Of("device_retry").Where(r => (string?)r["device"] == "detector").Select(r => (string)r["message"]!).ToList();
        Assert.True(retries.Any(m => m.Contains("discarded")), "detector retries: " + string.Join(" | ", retries.Distinct()));
        var end = Assert.Single(Of("run_end"));
        Assert.Contains("persistent device error", (string)end["reason"]!);
        // Nothing the hostile gateway sent became an observation: only the faithful frames (preflight's is not one).
        Assert.InRange(Of("observation").Count, 1, 3);
    }
}

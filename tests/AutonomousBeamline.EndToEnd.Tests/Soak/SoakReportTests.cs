using System.Text.Json.Nodes;
using AutonomousBeamline.Cli.Soak;

namespace AutonomousBeamline.EndToEnd.Tests.Soak;

/// <summary>soak.json from hand-made run folders: every rule of <see cref="SoakReport"/> on a case small enough to count by eye.</summary>
public sealed class SoakReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("soak-report-").FullName;
    private readonly List<string> _journal = [];
    private readonly List<string> _frames = [];
    private int _seq;

    public void Dispose() => Directory.Delete(_dir, true);

    private static readonly DateTimeOffset Start = new(2026, 11, 26, 22, 0, 0, TimeSpan.Zero);

    private void Record(double atS, string type, object? payload = null, int? seq = null)
    {
        var record = new JsonObject { ["seq"] = seq ?? ++_seq, ["t"] = Start.AddSeconds(atS).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"), ["type"] = type };
        if (payload is not null)
            foreach (var (key, value) in (JsonObject)JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(payload))!)
                record[key] = value?.DeepClone();
        _journal.Add(record.ToJsonString());
    }

    private void Observation(double atS, int sequence, int frame) =>
        Record(atS, "observation", new { sequence, frame, time = Start.AddSeconds(atS - 10).ToString("o"), kind = "xrd" });

    private void Frame(int frame, double startS, string disposition = "observation") =>
        _frames.Add(new JsonObject
        {
            ["disposition"] = disposition,
            ["header"] = new JsonObject { ["frame"] = frame, ["t_start"] = Start.AddSeconds(startS).ToString("o") },
        }.ToJsonString());

    private string Write(int safetyViolations = 0, string exitStatus = "success", string tail = "")
    {
        File.WriteAllLines(Path.Combine(_dir, "journal.jsonl"), _journal);
        File.AppendAllText(Path.Combine(_dir, "journal.jsonl"), tail);
        File.WriteAllLines(Path.Combine(_dir, "frames.jsonl"), _frames);
        File.WriteAllText(Path.Combine(_dir, "summary.json"),
            new JsonObject { ["exit_status"] = exitStatus, ["safety_violations"] = safetyViolations }.ToJsonString());
        return _dir;
    }

    private static readonly SoakMeasurements Measured = new() { Hours = 1, PeakRssMb = 120, WallS = 30, FaultsScheduled = 0 };

    [Fact]
    public void A_clean_run_passes_with_every_frame_observed_once()
    {
        Record(0, "run_start");
        for (var i = 1; i <= 3; i++)
        {
            Frame(i, i * 30);
            Observation(i * 30 + 20, i, i);
        }
        Frame(4, 120, "no_beam"); // not an observation: not expected
        Record(200, "run_end", new { exit_status = "success" });

        var report = SoakReport.FromRun(Write(), Measured);

        Assert.Equal(3, report.ObservationsExpected);
        Assert.Equal(3, report.ObservationsStored);
        Assert.Equal(0, report.Duplicates);
        Assert.Equal(200, report.VirtualS);
        Assert.True(report.Passed, string.Join("; ", report.Failures));
    }

    [Fact]
    public void A_repeated_sequence_and_a_frame_journalled_twice_are_duplicates_and_a_lost_one_is_missing()
    {
        for (var i = 1; i <= 4; i++) Frame(i, i * 30);
        Observation(50, 1, 1);
        Observation(80, 2, 2);
        Observation(80, 2, 2);   // the same record written again after a resume
        Observation(80, 3, 2);   // the same frame under a new sequence number
        Observation(140, 4, 4);  // frame 3 was kept but never journalled

        var report = SoakReport.FromRun(Write(), Measured);

        Assert.Equal(4, report.ObservationsExpected);
        Assert.Equal(3, report.ObservationsStored);
        Assert.Equal(2, report.Duplicates);
        Assert.False(report.Passed);
        Assert.Contains(report.Failures, f => f.Contains("3 observations journalled, 4 frames kept", StringComparison.Ordinal));
        Assert.Contains(report.Failures, f => f.Contains("2 duplicated", StringComparison.Ordinal));
    }

    [Fact]
    public void A_frame_stored_twice_counts_as_a_duplicate()
    {
        Frame(1, 30);
        Frame(1, 30);
        Observation(50, 1, 1);

        var report = SoakReport.FromRun(Write(), Measured);

        Assert.Equal(1, report.ObservationsExpected);
        Assert.Equal(1, report.Duplicates);
    }

    [Fact]
    public void Each_handling_record_closes_the_latest_open_fault_it_can_handle_and_the_rest_are_listed_as_unhandled()
    {
        Record(10, "device_retry", new { device = "potentiostat" });          // before any fault: handles nothing
        Record(100, "fault_injected", new { device = "potentiostat", kind = "garbage_reply", at_s = 100 });
        Record(101, "device_retry", new { device = "potentiostat" });
        Record(200, "fault_injected", new { device = "detector", kind = "truncated_frame", at_s = 200 });
        Record(205, "frame_rejected", new { frame = 7 });
        Record(300, "fault_injected", new { device = "motion", kind = "fault", at_s = 300 });
        Record(310, "fault", new { source = "motion" });
        Record(315, "recovered", new { device = "motion" });
        Record(400, "fault_injected", new { device = "motion", kind = "slow_reply", at_s = 400 });  // came in time: nothing to handle
        Record(500, "fault_injected", new { device = "motion", kind = "drop_reply", at_s = 500 });
        Record(600, "fault_injected", new { device = "detector", kind = "fault", at_s = 600 });
        Record(610, "device_retry", new { device = "detector" });              // a retry is not a recovery from a fault state
        Record(700, "fault_injected", new { device = "potentiostat", kind = "scpi_error", at_s = 700 });
        Record(710, "device_retry", new { device = "motion" });                // another device's retry: the motion drop_reply's
        Record(800, "fault_injected", new { device = "detector", kind = "drop_frame", at_s = 800 });
        Record(850, "fault_injected", new { device = "detector", kind = "wrong_n", at_s = 850 });
        Record(860, "frame_rejected", new { frame = 31 });                     // the wrong_n frame; a dropped frame is never rejected

        var report = SoakReport.FromRun(Write(), Measured with { FaultsScheduled = 9 });

        Assert.Equal(9, report.FaultsInjected);
        Assert.Equal(6, report.FaultsHandled);
        Assert.Equal(1, report.FaultsAbsorbed);
        Assert.Equal(
            [new UnhandledFault("detector", "fault", 600), new UnhandledFault("potentiostat", "scpi_error", 700), new UnhandledFault("detector", "drop_frame", 800)],
            report.UnhandledFaults);
        Assert.Contains(report.Failures, f => f.StartsWith("3 of 9 injected fault(s)", StringComparison.Ordinal));
    }

    [Fact]
    public void A_recovery_goes_to_the_open_fault_state_and_a_retry_to_the_open_lost_reply()
    {
        Record(100, "fault_injected", new { device = "detector", kind = "fault", at_s = 100 });
        Record(105, "fault_injected", new { device = "detector", kind = "drop_reply", at_s = 105 });
        Record(110, "recovered", new { device = "detector" });
        Record(200, "fault_injected", new { device = "potentiostat", kind = "scpi_error", at_s = 200 });
        Record(205, "fault_injected", new { device = "potentiostat", kind = "disconnect", at_s = 205 });
        Record(210, "device_retry", new { device = "potentiostat" });

        var report = SoakReport.FromRun(Write(), Measured);

        Assert.Equal([new UnhandledFault("detector", "drop_reply", 105), new UnhandledFault("potentiostat", "disconnect", 205)], report.UnhandledFaults);
    }

    [Fact]
    public void Time_in_state_runs_from_transition_to_transition_and_a_killed_process_stops_at_its_last_record()
    {
        Record(0, "run_start");
        Record(0, "transition", new { from = "Idle", to = "Deciding" });
        Record(5, "transition", new { from = "Deciding", to = "Acquiring" });
        Record(65, "transition", new { from = "Acquiring", to = "Suspended" });
        Record(100, "cell");                                                   // killed here, 35 s into the suspension
        _seq = 0;                                                              // the resumed process numbers afresh
        Record(400, "resumed");
        Record(401, "transition", new { from = "Idle", to = "Acquiring" });
        Record(461, "transition", new { from = "Acquiring", to = "Done" });
        Record(461, "run_end", new { exit_status = "success" });

        var report = SoakReport.FromRun(Write(), Measured);

        Assert.Equal(new Dictionary<string, double> { ["Acquiring"] = 120, ["Deciding"] = 5, ["Suspended"] = 35 }, report.TimeInStateS);
    }

    [Fact]
    public void A_line_cut_by_the_kill_is_skipped_and_counted_and_the_rest_still_read()
    {
        Frame(1, 30);
        Observation(50, 1, 1);

        var report = SoakReport.FromRun(Write(tail: "{\"seq\":99,\"t\":\"2026-11-26T22:0"), Measured);

        Assert.Equal(1, report.UnreadableLines);
        Assert.Equal(1, report.ObservationsStored);
        Assert.True(report.Passed, string.Join("; ", report.Failures));
    }

    [Fact]
    public void Safety_violations_a_slow_resume_and_too_much_memory_fail_the_soak()
    {
        Record(0, "run_start");

        var report = SoakReport.FromRun(Write(safetyViolations: 2),
            Measured with { KillPlanned = true, KilledAtVirtualS = 1800, MaxResumeS = 7.5, PeakRssMb = 320 });

        Assert.Equal(2, report.SafetyViolations);
        Assert.Contains("2 safety violation(s)", report.Failures);
        Assert.Contains(report.Failures, f => f.StartsWith("resume took 7.50 s", StringComparison.Ordinal));
        Assert.Contains(report.Failures, f => f.StartsWith("peak RSS 320 MB", StringComparison.Ordinal));
    }

    [Fact]
    public void A_kill_that_never_came_or_a_resume_that_never_said_so_fails_the_soak()
    {
        Record(0, "run_start");
        var dir = Write();

        Assert.Contains("the run ended before the kill", SoakReport.FromRun(dir, Measured with { KillPlanned = true }).Failures);
        Assert.Contains("the resumed run never journalled 'resumed'",
            SoakReport.FromRun(dir, Measured with { KillPlanned = true, KilledAtVirtualS = 900 }).Failures);
    }

    [Fact]
    public void The_report_is_written_with_the_names_the_issue_asks_for()
    {
        Record(0, "run_start");
        var path = Path.Combine(_dir, "soak.json");

        SoakReport.FromRun(Write(), Measured).WriteTo(path);

        var json = (JsonObject)JsonNode.Parse(File.ReadAllText(path))!;
        foreach (var name in new[] { "observations_expected", "observations_stored", "duplicates", "faults_injected", "faults_handled",
                     "safety_violations", "max_resume_s", "peak_rss_mb", "wall_s", "time_in_state_s", "passed", "failures" })
            Assert.True(json.ContainsKey(name), name);
        Assert.Equal(120, (double)json["peak_rss_mb"]!);
    }
}

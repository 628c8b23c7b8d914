using System.Text.Json.Nodes;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Decomposition;

namespace AutonomousBeamline.Storage.Tests;

/// <summary>
/// The lines journals hold today (written by the old RunJournal from the controller's own fields) are the lines the
/// typed records write, and read back into those records. Field order is not part of a JSON line's meaning, so the
/// lines are compared as JSON.
/// </summary>
public sealed class JournalGoldenLineTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public static TheoryData<JournalRecord, string> TodaysLines() => new()
    {
        {
            new ObservationMade(SampleRecords.Xrd),
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"observation","sequence":7,"frame":12,"time":"2026-11-24T21:00:05\u002B00:00","kind":"xrd","x_mm":1.5,"y_mm":2,"state_of_charge":0.3,"c_rate":1,"phase_fraction":0.31,"phase_fraction_sigma":0.001,"beam_current_ma":199.5,"source":"learner","exposure_s":20}"""
        },
        {
            new DecisionMade(SampleRecords.Roi),
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"decision","kind":"roi","values":{"x_mm":1.5,"y_mm":2},"score":0.42,"alternatives":[{"values":{"x_mm":3,"y_mm":4},"score":0.4}],"reason":"largest spread","model_version":3,"strategy":"learner"}"""
        },
        {
            new StateTransition(RunState.Deciding, RunState.Moving, RunTrigger.Decided),
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"transition","from":"Deciding","to":"Moving","trigger":"Decided"}"""
        },
        {
            new CellSample(3.41, 0.0012, 0.35, "charge", null, 1),
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"cell","voltage_v":3.41,"current_a":0.0012,"state_of_charge":0.35,"step":"charge","cycle":1}"""
        },
        {
            new CellSample(3.41, 0.0012, 0.35, "charge", null, 1, 24.5),
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"cell","voltage_v":3.41,"current_a":0.0012,"state_of_charge":0.35,"step":"charge","cycle":1,"temperature_c":24.5}"""
        },
        {
            new StepEnded("charge", "cycle1/charge", 1, "cc", "voltage reached 3.6 V", "condition", 3600.5, 0.0021, 3.6, 0.98),
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"step_end","step":"charge","path":"cycle1/charge","cycle":1,"kind":"cc","reason":"voltage reached 3.6 V","ended_by":"condition","duration_s":3600.5,"charge_ah":0.0021,"voltage_v":3.6,"state_of_charge":0.98}"""
        },
        {
            new OperatorOverride("ann@console-1", OverrideKind.Roi, SampleRecords.Roi, XMm: 3, YMm: 4),
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"override","by":"ann@console-1","what":"roi","x_mm":3,"y_mm":4,"replaced":{"kind":"roi","values":{"x_mm":1.5,"y_mm":2},"score":0.42,"alternatives":[{"values":{"x_mm":3,"y_mm":4},"score":0.4}],"reason":"largest spread","model_version":3,"strategy":"learner"}}"""
        },
        {
            new OperatorOverride("ann@console-1", OverrideKind.Veto, SampleRecords.Roi with { Score = double.NaN }),
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"override","by":"ann@console-1","what":"veto","replaced":{"kind":"roi","values":{"x_mm":1.5,"y_mm":2},"score":"NaN","alternatives":[{"values":{"x_mm":3,"y_mm":4},"score":0.4}],"reason":"largest spread","model_version":3,"strategy":"learner"}}"""
        },
        {
            new RunEnded(ExitStatus.Success, "frame budget spent", 80, 82),
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"run_end","exit_status":"success","reason":"frame budget spent","observations":80,"frames":82}"""
        },
        {
            new FaultRecorded("motion", "timed out", RunState.Moving),
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"fault","source":"motion","message":"timed out","state":"Moving"}"""
        },
    };

    [Theory]
    [MemberData(nameof(TodaysLines))]
    public async Task A_record_writes_the_line_journals_hold_today(JournalRecord record, string today)
    {
        var written = Assert.Single(await JournalFiles.WriteAsync(_folder, record));
        AssertSameJson(today, written, record.GetType().Name);
    }

    [Theory]
    [MemberData(nameof(TodaysLines))]
    public void A_line_journals_hold_today_reads_back_as_its_record(JournalRecord record, string today)
    {
        var journal = JournalFiles.Read(_folder, today);
        Assert.Empty(journal.Warnings);
        var entry = Assert.Single(journal.Entries);
        Assert.Equal((1L, TestClock.Start), (entry.Sequence, entry.Time));
        Assert.IsType(record.GetType(), entry.Record);
        Assert.Equivalent(record, entry.Record, strict: true);
    }

    [Fact]
    public async Task An_observation_line_is_byte_for_byte_todays_escaping_and_field_order_included()
    {
        var written = Assert.Single(await JournalFiles.WriteAsync(_folder, new ObservationMade(SampleRecords.Xrd)));
        Assert.Equal(
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"observation","sequence":7,"frame":12,"time":"2026-11-24T21:00:05\u002B00:00","kind":"xrd","x_mm":1.5,"y_mm":2,"state_of_charge":0.3,"c_rate":1,"phase_fraction":0.31,"phase_fraction_sigma":0.001,"beam_current_ma":199.5,"source":"learner","exposure_s":20}""",
            written);
    }

    [Fact]
    public async Task An_operator_commands_args_now_hold_the_commands_own_fields_and_name()
    {
        var record = new OperatorCommandReceived("ann@console-1", "ann", "console-1", "GotoRoi",
            new GotoRoiCommand(3, 4) { By = SampleRecords.Ann }, true, "measuring (3, 4) mm next");

        var written = Assert.Single(await JournalFiles.WriteAsync(_folder, record));

        // Today's args held only the operator ({"by":{...}}): the spot the command asked for was lost.
        AssertSameJson(
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"operator_command","by":"ann@console-1","user":"ann","host":"console-1","command":"GotoRoi","args":{"command":"GotoRoi","x_mm":3,"y_mm":4,"by":{"user":"ann","host":"console-1"}},"accepted":true,"message":"measuring (3, 4) mm next"}""",
            written, "operator_command");
    }

    [Fact]
    public void An_operator_command_journalled_today_reads_back_when_its_args_held_all_it_had()
    {
        var journal = JournalFiles.Read(_folder,
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"operator_command","by":"ann@console-1","user":"ann","host":"console-1","command":"Pause","args":{"by":{"user":"ann","host":"console-1"}},"accepted":false,"message":"already paused"}""",
            """{"seq":2,"t":"2026-11-24T21:00:00.000Z","type":"operator_command","by":"ann@console-1","user":"ann","host":"console-1","command":"GotoRoi","args":{"by":{"user":"ann","host":"console-1"}},"accepted":true,"message":"measuring (3, 4) mm next"}""");

        var pause = Assert.IsType<OperatorCommandReceived>(Assert.Single(journal.Entries).Record);
        Assert.Equal(new PauseCommand { By = SampleRecords.Ann }, pause.Args);
        // Today's goto kept no spot: that line cannot become a GotoRoiCommand, and says so.
        var warning = Assert.Single(journal.Warnings);
        Assert.Equal(2, warning.Line);
        Assert.Contains("x_mm", warning.Reason);
    }

    [Fact]
    public async Task A_suspension_now_names_its_suspender_and_an_older_line_without_one_still_reads()
    {
        var written = Assert.Single(await JournalFiles.WriteAsync(_folder, new Suspended("beam below threshold", "beam", 12.5, 50)));
        AssertSameJson(
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"suspend","reason":"beam below threshold","suspender":"beam","beam_current_ma":12.5,"threshold_ma":50}""",
            written, "suspend");

        var today = JournalFiles.Read(_folder,
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"suspend","reason":"beam below threshold","beam_current_ma":12.5,"threshold_ma":50}""");
        Assert.Empty(today.Warnings);
        var older = Assert.IsType<Suspended>(Assert.Single(today.Entries).Record);
        Assert.Equal(("beam below threshold", null, 12.5), (older.Reason, older.Suspender, older.BeamCurrentMa!.Value));
    }

    [Fact]
    public async Task Decomposition_unresolved_names_the_components_and_where_their_peaks_lie()
    {
        var lines = await JournalFiles.WriteAsync(_folder,
            new DecompositionUnresolved(FrameKind.Xrd, 30, DecompositionUnresolved.OneMovingPattern, [5, 8, 2], 6.06, 6.075, 0.0025));
        AssertSameJson(
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"decomposition_unresolved","kind":"xrd","frame":30,"reason":"one-moving-pattern","components":[5,8,2],"peaks_from":6.06,"peaks_to":6.075,"strain_span":0.0025}""",
            lines[0], "decomposition_unresolved");
    }

    [Fact]
    public async Task Components_updated_says_what_started_the_decomposition_and_an_older_line_without_it_still_reads()
    {
        var record = new ComponentsUpdated(FrameKind.Xrd, 1, 3, 14, 15, [new ComponentSummary(1, 9.54, 0.42, 2), new ComponentSummary(4, 13.74, 0.06, 14)],
            DecompositionStart.ReferenceMisfit, 13);
        var lines = await JournalFiles.WriteAsync(_folder, record, record with { StartedBy = DecompositionStart.ComponentScoreTarget, SeedFrames = 0 });
        var (written, scored) = (lines[0], lines[1]);
        AssertSameJson(
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"components_updated","kind":"xrd","version":1,"rank":3,"frames":14,"frame":15,"components":[{"id":1,"peak_at":9.54,"fraction":0.42,"first_seen_frame":2},{"id":4,"peak_at":13.74,"fraction":0.06,"first_seen_frame":14}],"started_by":"reference_misfit","seed_frames":13}""",
            written, "components_updated");
        Assert.Equal("component_score_target", (string?)JsonNode.Parse(scored)!["started_by"]);

        var older = JournalFiles.Read(_folder,
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"components_updated","kind":"xrd","version":1,"rank":3,"frames":14,"frame":15,"components":[{"id":1,"peak_at":9.54,"fraction":0.42,"first_seen_frame":2}]}""");
        Assert.Empty(older.Warnings);
        var read = Assert.IsType<ComponentsUpdated>(Assert.Single(older.Entries).Record);
        Assert.Equal(((DecompositionStart?)null, 0, 14L), (read.StartedBy, read.SeedFrames, read.Frames));
    }

    private static void AssertSameJson(string expected, string actual, string what) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"{what}:\nexpected {expected}\nwritten  {actual}");
}

using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Resume;

namespace AutonomousBeamline.Control.Tests.Resume;

public sealed class JournalReplayTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replay-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private void Journal(params string[] lines) => File.WriteAllText(Path.Combine(_dir, "journal.jsonl"), string.Join("\n", lines));

    private static string Observation(int seq, int sequence, long frame, double x) =>
        $$"""{"seq":{{seq}},"t":"2026-11-24T21:00:{{seq:00}}.000Z","type":"observation","sequence":{{sequence}},"frame":{{frame}},"time":"2026-11-24T21:00:00Z","kind":"xrd","x_mm":{{x}},"y_mm":2,"state_of_charge":0.3,"c_rate":1,"phase_fraction":0.31,"phase_fraction_sigma":0.001,"beam_current_ma":199,"source":"learner","exposure_s":20}""";

    [Fact]
    public void The_state_of_a_crashed_run_is_rebuilt_from_its_journal_and_frames()
    {
        Journal(
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"run_start"}""",
            """{"seq":2,"t":"2026-11-24T21:00:01.000Z","type":"decision","kind":"roi"}""",
            Observation(3, 1, 1, 1.5),
            """{"seq":4,"t":"2026-11-24T21:00:04.000Z","type":"step_end","step":"charge"}""",
            """{"seq":5,"t":"2026-11-24T21:00:05.000Z","type":"c_rate_requested","c_rate":2}""",
            """{"seq":6,"t":"2026-11-24T21:00:06.000Z","type":"decision","kind":"c_rate"}""",
            Observation(7, 2, 2, 4.5),
            """{"seq":8,"t":"2026-11-24T21:00:08.000Z","type":"suspend"}""",
            """{"seq":9,"t":"2026-11-24T21:00:09.000Z","type":"cell","state_of_charge":0.42}""",
            """{"seq":10,"t":"2026-11-24T21:00:10.000Z","type":"fault","source":"motion"}""",
            """{"seq":11,"t":"2026-11-24T21:00:1""");   // torn by the kill
        File.WriteAllText(Path.Combine(_dir, "frames.jsonl"),
            """{"disposition":"observation","header":{"frame":1,"exposure_s":20}}""" + "\n" +
            """{"disposition":"observation","header":{"frame":2,"exposure_s":20}}""" + "\n" +
            """{"disposition":"no_beam","header":{"frame":3,"exposure_s":20}}""" + "\n" + """{"dispos""");

        var state = JournalReplay.Read(_dir, initialStateOfCharge: 0.05);

        Assert.Equal([1L, 2L], state.Observations.Select(o => o.Frame));
        Assert.Equal(4.5, state.Observations[1].XMm);
        Assert.Equal(3, state.FramesAcquired);
        Assert.Equal(60, state.BeamTimeUsedS);
        Assert.Equal(1, state.Decisions[DecisionKind.Roi]);
        Assert.Equal(1, state.Decisions[DecisionKind.CRate]);
        Assert.Equal(1, state.StepsCompleted);
        Assert.Equal(2, state.RequestedCRate);
        Assert.Equal(0.42, state.StateOfCharge);
        Assert.Equal(1, state.Faults);
        Assert.Equal(1, state.Suspensions);
        Assert.Equal(10, state.LastSequence);
        Assert.False(state.Ended);
        Assert.Equal((4.5, 2.0), state.LastPosition);
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 21, 0, 10, TimeSpan.Zero), state.LastRecordTime);
    }

    [Fact]
    public void A_frame_stored_before_the_crash_but_never_journalled_is_found_again()
    {
        Journal("""{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"run_start"}""", Observation(2, 1, 1, 1.5));
        using (var store = new FrameStore(Path.Combine(_dir, "frames.jsonl")))
        {
            Core.Devices.Frame Frame(long n) => new(new Core.Devices.FrameHeader
            {
                Frame = n, RequestId = "r" + n, Kind = FrameKind.Xrd, N = 3, XMode = "uniform", XStart = 5, XStep = 0.005,
                TStart = DateTimeOffset.UnixEpoch, BeamCurrentMa = 200,
            }, [1f, 2.5f, 3f], null);
            store.Store(Frame(1), "observation", 1);
            store.Store(Frame(2), "flagged:flat");
            store.Store(Frame(3), "observation", 2); // the kill came before its journal record
        }

        var state = JournalReplay.Read(_dir, 0.05);

        var (sequence, frame) = Assert.Single(state.UnjournalledFrames);
        Assert.Equal(2, sequence);
        Assert.Equal(3, frame.Header.Frame);
        Assert.Equal([1f, 2.5f, 3f], frame.Intensities);
        Assert.Equal(3, state.FramesAcquired);
    }

    [Fact]
    public void A_finished_run_says_so_and_a_folder_without_a_journal_is_named()
    {
        Journal("""{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"run_start"}""", """{"seq":2,"t":"2026-11-24T21:00:01.000Z","type":"run_end"}""");
        Assert.True(JournalReplay.Read(_dir, 0).Ended);
        var empty = Directory.CreateTempSubdirectory("no-journal-").FullName;
        try { Assert.Contains("no journal.jsonl", Assert.Throws<FileNotFoundException>(() => JournalReplay.Read(empty, 0)).Message); }
        finally { Directory.Delete(empty); }
    }

    [Fact]
    public void A_journal_reopened_after_a_crash_closes_the_torn_line_and_numbers_on()
    {
        Journal("""{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"run_start"}""", """{"seq":2,"t":"2026-11-24T21:00:01.000Z","type":"cell"}""", """{"seq":3,"t":"2026""");
        var path = Path.Combine(_dir, "journal.jsonl");
        using (var journal = new RunJournal(path, TimeProvider.System)) journal.Write("run_resume");
        var records = RunJournal.Read(path).ToList();
        Assert.Equal([1L, 2L, 3L], records.Select(r => (long)r["seq"]!));
        Assert.Equal("run_resume", (string?)records[^1]["type"]);
    }
}

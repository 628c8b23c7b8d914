namespace AutonomousBeamline.Storage.Tests;

public sealed class JournalFileTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Every_line_that_cannot_be_read_is_passed_over_with_a_warning_naming_it()
    {
        var journal = JournalFiles.Read(_folder,
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"cycler_error","message":"output stuck"}""",
            """this is not JSON""",
            """{"seq":3,"t":"2026-11-24T21:00:01.000Z","type":"teleport","to":"the moon"}""",
            """{"seq":4,"t":"2026-11-24T21:00:02.000Z","type":"cell","voltage_v":"high","current_a":0,"state_of_charge":0.3,"step":"charge","cycle":1}""",
            """{"seq":5,"t":"2026-11-24T21:00:03.000Z","type":"run_end","reason":"frame budget spent","observations":1,"frames":1}""",
            "",
            """["seq",7]""",
            """{"t":"2026-11-24T21:00:04.000Z","type":"cycler_error","message":"no seq"}""",
            """{"seq":9,"t":"2026-11-24T21:00:05.000Z","type":"cycler_error","message":"fine"}""",
            """{"seq":10,"t":"2026-11-24T21:0""");

        Assert.Equal([1L, 9L], journal.Entries.Select(e => e.Sequence));
        Assert.Equal([2L, 3L, 4L, 5L, 6L, 7L, 8L, 10L], journal.Warnings.Select(w => w.Line));
        Assert.All(journal.Warnings, w => Assert.Equal(_folder.Journal, w.Path));
        var reasons = journal.Warnings.Select(w => w.Reason).ToList();
        Assert.StartsWith("not JSON", reasons[0]);
        Assert.Equal("unknown record type 'teleport'", reasons[1]);
        Assert.Contains("a cell record whose fields do not fit", reasons[2]);
        Assert.Contains("voltage_v", reasons[2]);
        Assert.Contains("exit_status", reasons[3]);
        Assert.Equal("an empty line", reasons[4]);
        Assert.Equal("not a JSON object", reasons[5]);
        Assert.Equal("no seq", reasons[6]);
        Assert.StartsWith("not JSON (a line torn by a crash?)", reasons[7]);
        // Numbering goes on after the highest seq there is, readable record or not.
        Assert.Equal(9, journal.LastSequence);
    }

    [Fact]
    public void An_unreadable_line_with_the_highest_seq_still_counts_for_the_numbering()
    {
        var journal = JournalFiles.Read(_folder,
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"cycler_error","message":"output stuck"}""",
            """{"seq":2,"t":"2026-11-24T21:00:01.000Z","type":"a_record_of_a_newer_version"}""");

        Assert.Single(journal.Entries);
        Assert.Equal(2, journal.LastSequence);
    }
}

using AutonomousBeamline.Control.Journal;

namespace AutonomousBeamline.Storage.Tests;

public sealed class JsonLinesJournalTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private RunFolder Open(RunFolderOptions? options = null) => RunFolder.Open(_folder.Path, TestClock.Create(), hdf5BlockFrames: 100, options);

    private RunFolderOptions JournalOn(Stream journal) => new()
    {
        OpenFile = path => path == _folder.Journal ? journal : new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite),
    };

    [Fact]
    public async Task Recorded_is_raised_for_each_record_in_order_before_Write_returns_even_while_the_disk_stalls()
    {
        var disk = new StalledStream();
        await using var run = Open(JournalOn(disk));
        var seen = new List<JournalEntry>();
        run.Journal.Recorded += seen.Add;

        for (var i = 1; i <= 3; i++)
        {
            var entry = run.Journal.Write(new CyclerError($"error {i}"));
            Assert.Equal(i, entry.Sequence);
            Assert.Same(entry, seen[^1]);
        }

        Assert.Equal(0, disk.Lines);
        disk.Open();
        await run.Journal.FlushAsync();
        Assert.Equal(3, disk.Lines);
    }

    [Fact]
    public async Task Watchers_see_records_in_the_journals_order_whichever_thread_wrote_them()
    {
        await using var run = Open();
        var seen = new List<long>();
        run.Journal.Recorded += e => seen.Add(e.Sequence);

        var writers = Enumerable.Range(0, 2).Select(w => Task.Factory.StartNew(() =>
        {
            for (var i = 0; i < 300; i++) run.Journal.Write(new CyclerError($"writer {w}, record {i}"));
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(writers);
        await run.Journal.FlushAsync();

        Assert.Equal(Enumerable.Range(1, 600).Select(i => (long)i), seen);
        Assert.Equal(seen, JournalFile.Read(_folder.Journal).Entries.Select(e => e.Sequence));
    }

    [Fact]
    public async Task A_writer_waits_for_room_when_the_disk_is_slow_instead_of_queueing_without_bound()
    {
        var disk = new StalledStream();
        await using var run = Open(JournalOn(disk) with { QueueCapacity = 2 });
        run.Journal.Write(new CyclerError("taken by the writer thread, which now waits on the disk"));
        disk.Waiting.Wait();
        run.Journal.Write(new CyclerError("queued"));
        run.Journal.Write(new CyclerError("queued, filling the queue"));

        var fourth = Task.Factory.StartNew(() => run.Journal.Write(new CyclerError("no room")), TaskCreationOptions.LongRunning);

        // Had the fourth been queued regardless, it would have returned at once; it returns only once the disk moves.
        // (The pause cannot fail a right writer: one that blocks never returns in it.)
        await Task.WhenAny(fourth, Task.Delay(TimeSpan.FromMilliseconds(200)));
        Assert.False(fourth.IsCompleted);
        disk.Open();
        Assert.Equal(4, (await fourth).Sequence);
        await run.Journal.FlushAsync();
        Assert.Equal(4, disk.Lines);
    }

    [Fact]
    public async Task A_reopened_journal_closes_a_torn_last_line_and_numbers_on_after_the_highest_seq()
    {
        File.WriteAllText(_folder.Journal,
            """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"run_start","experiment":"lfp","strategy":"learner","run_id":"r"}""" + "\n" +
            """{"seq":2,"t":"2026-11-24T21:00:01.000Z","type":"a_record_of_a_newer_version"}""" + "\n" +
            """{"seq":3,"t":"2026""");

        await using (var run = Open())
        {
            Assert.Equal(3, run.Journal.Write(new CyclerError("after the crash")).Sequence);
            Assert.Equal([2L, 3L], run.Warnings.Select(w => w.Line));
        }

        var journal = JournalFile.Read(_folder.Journal);
        Assert.Equal([1L, 3L], journal.Entries.Select(e => e.Sequence));
        Assert.Equal(new CyclerError("after the crash"), journal.Entries[^1].Record);
        Assert.Equal([2L, 3L], journal.Warnings.Select(w => w.Line));
        Assert.EndsWith("}\n", File.ReadAllText(_folder.Journal));
    }

    [Fact]
    public async Task A_closed_journal_refuses_records_and_TryWrite_says_so_with_null()
    {
        var run = Open();
        Assert.NotNull(run.Journal.TryWrite(new CyclerError("while open")));
        await run.DisposeAsync();

        Assert.Throws<ObjectDisposedException>(() => run.Journal.Write(new CyclerError("after")));
        Assert.Null(run.Journal.TryWrite(new CyclerError("after")));
        Assert.Throws<ObjectDisposedException>(() => run.Frames.Store(TestFrames.Xrd(1), FrameFate.NoBeam));
        await run.Journal.FlushAsync();
        Assert.Single(JournalFile.Read(_folder.Journal).Entries);
    }
}

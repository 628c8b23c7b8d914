using System.Text.Json.Nodes;
using AutonomousBeamline.Control.Journal;

namespace AutonomousBeamline.Storage.Tests;

public sealed class RunFolderWriterTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private RunFolder Open(Func<string, Stream> open) =>
        RunFolder.Open(_folder.Path, TestClock.Create(), hdf5BlockFrames: 100, new RunFolderOptions { OpenFile = open });

    private static Stream RealFile(string path) => new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite);

    // Linux's /dev/full: every write fails with ENOSPC, as on a full disk. Buffered, as a FileStream is by default, so its
    // close fails too, which must not bring the writer thread (and the process) down.
    private static Stream FullDisk() => new FileStream("/dev/full", FileMode.Open, FileAccess.Write);

    [Fact]
    public async Task A_frame_line_reaches_the_disk_before_the_observation_record_that_follows_it_with_two_threads_writing()
    {
        var log = new List<(string File, string Text)>();
        await using (var run = Open(path => new LoggedStream(path, log)))
        {
            var loop = Task.Factory.StartNew(() =>
            {
                for (var i = 1; i <= 200; i++)
                {
                    run.Frames.Store(TestFrames.Xrd(i), FrameFate.Observation, observationSequence: i);
                    run.Journal.Write(new ObservationMade(SampleRecords.Xrd with { Sequence = i, Frame = i }));
                }
            }, TaskCreationOptions.LongRunning);
            var cycler = Task.Factory.StartNew(() =>
            {
                for (var i = 1; i <= 200; i++)
                {
                    run.Journal.Write(new CellSample(3.4, 0.001, 0.3, "charge", null, 1));
                    run.Frames.Store(TestFrames.Xrd(1000 + i), FrameFate.NoBeam);
                }
            }, TaskCreationOptions.LongRunning);
            await Task.WhenAll(loop, cycler);
            await run.Journal.FlushAsync();
        }

        var framesOnDisk = new HashSet<long>();
        var observations = 0;
        foreach (var (file, text) in log.Where(l => l.Text.Length > 1))
        {
            var line = JsonNode.Parse(text)!;
            if (file == RunFolder.FramesFileName && (long?)line["observation_sequence"] is { } stored) framesOnDisk.Add(stored);
            if (file == RunFolder.JournalFileName && (string?)line["type"] == "observation")
            {
                Assert.Contains((long)line["sequence"]!, framesOnDisk);
                observations++;
            }
        }
        Assert.Equal(200, observations);
        var warnings = new List<FileWarning>();
        Assert.Equal(400, FrameFile.Scan(_folder.Frames, warnings.Add, decode: _ => false).Count());
        Assert.Equal(400, JournalFile.Read(_folder.Journal).Entries.Count);
        Assert.Empty(warnings);
    }

    [Fact]
    public async Task A_full_disk_fails_the_run_folder_and_every_later_write_names_the_file_and_the_cause()
    {
        await using var run = Open(path => path == _folder.Journal ? FullDisk() : RealFile(path));
        var failed = new TaskCompletionSource<JournalFailedException>();
        run.Journal.Failed += e => failed.TrySetResult(e);

        // Accepted: the disk is the writer thread's business.
        Assert.Equal(1, run.Journal.Write(new CyclerError("lost to the full disk")).Sequence);

        var flush = await Assert.ThrowsAsync<JournalFailedException>(run.Journal.FlushAsync);
        var reported = await failed.Task;
        Assert.Same(reported, run.Journal.Failure);
        foreach (var message in new[] { flush.Message, reported.Message })
        {
            Assert.Contains(_folder.Journal, message);
            Assert.Contains("record 1 (cycler_error)", message);
            Assert.Contains("No space left on device", message);
        }
        var write = Assert.Throws<JournalFailedException>(() => run.Journal.Write(new CyclerError("after")));
        Assert.Equal(reported.Message, write.Message);
        Assert.Null(run.Journal.TryWrite(new CyclerError("after")));
        // One writer for both files: frames go no further once the journal has failed.
        Assert.Throws<JournalFailedException>(() => run.Frames.Store(TestFrames.Xrd(1), FrameFate.NoBeam));
    }

    [Fact]
    public async Task A_frame_file_on_a_full_disk_fails_the_journal_too()
    {
        await using var run = Open(path => path == _folder.Frames ? FullDisk() : RealFile(path));

        run.Frames.Store(TestFrames.Xrd(7), FrameFate.NoBeam);

        var failure = await Assert.ThrowsAsync<JournalFailedException>(run.Journal.FlushAsync);
        Assert.Contains(_folder.Frames, failure.Message);
        Assert.Contains("frame 7", failure.Message);
        Assert.Throws<JournalFailedException>(() => run.Journal.Write(new CyclerError("after")));
        Assert.Null(run.Journal.TryWrite(new CyclerError("after")));
    }

    [Fact]
    public async Task A_line_that_fills_the_disk_half_way_is_cut_off_leaving_only_whole_lines()
    {
        await using (var run = Open(path => path == _folder.Journal ? new FillingUpStream(path, capacity: 120) : RealFile(path)))
        {
            run.Journal.Write(new CyclerError("fits"));
            run.Journal.Write(new CyclerError(new string('x', 100)));
            await Assert.ThrowsAsync<JournalFailedException>(run.Journal.FlushAsync);
            Assert.Null(run.Journal.TryWrite(new CyclerError("after")));
        }

        var text = File.ReadAllText(_folder.Journal);
        Assert.EndsWith("\n", text);
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var journal = JournalFile.Read(_folder.Journal);
        Assert.Empty(journal.Warnings);
        Assert.Equal(new CyclerError("fits"), Assert.Single(journal.Entries).Record);
    }

    [Fact]
    public async Task A_writer_waiting_for_room_when_the_disk_fails_hears_of_the_failure()
    {
        var disk = new StalledStream();
        await using var run = RunFolder.Open(_folder.Path, TestClock.Create(), hdf5BlockFrames: 100, new RunFolderOptions
        {
            OpenFile = path => path == _folder.Journal ? disk : RealFile(path),
            QueueCapacity = 1,
        });
        run.Frames.Store(TestFrames.Xrd(1), FrameFate.NoBeam);
        run.Journal.Write(new CyclerError("taken by the writer thread, which waits on the stalled disk"));
        disk.Waiting.Wait();
        run.Journal.Write(new CyclerError("fills the queue"));
        var waiting = Task.Factory.StartNew(() => run.Journal.Write(new CyclerError("waits for room")), TaskCreationOptions.LongRunning);

        disk.Fail();

        var failure = await Assert.ThrowsAsync<JournalFailedException>(() => waiting);
        Assert.Contains("Input/output error", failure.Message);
    }
}

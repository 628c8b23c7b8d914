using AutonomousBeamline.Control.Journal;
using PureHDF;
using PureHDF.VOL.Native;

namespace AutonomousBeamline.Storage.Tests;

public sealed class Hdf5BlockExporterTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private RunFolder Open(int blockFrames) => RunFolder.Open(_folder.Path, TestClock.Create(), blockFrames);

    private string Block(int number) => Path.Combine(_folder.Blocks, $"block-{number:0000}.h5");

    private static T Read<T>(string path, Func<NativeFile, T> read)
    {
        using var file = H5File.OpenRead(path);
        return read(file);
    }

    [Fact]
    public async Task Complete_blocks_are_written_as_they_fill_and_the_rest_at_the_end_readable_back()
    {
        await using (var run = Open(blockFrames: 3))
        {
            run.Frames.Store(TestFrames.Xrd(1, 10), FrameFate.Observation, observationSequence: 1);
            run.Frames.Store(TestFrames.Xrd(2, 20), FrameFate.Flagged, "flat");
            run.Frames.Store(TestFrames.Xas(3), FrameFate.Observation, observationSequence: 2);
            run.Frames.Store(TestFrames.Xrd(4, 40), FrameFate.Observation, observationSequence: 3);
            await run.Journal.FlushAsync();
            await run.Blocks.FlushAsync();
            // The fourth frame waits for its block.
            Assert.Equal(1, run.Blocks.BlocksWritten);
            Assert.False(File.Exists(Block(2)));
        }

        using (var first = H5File.OpenRead(Block(1)))
        {
            Assert.Equal(3L, first.Attribute("frames").Read<long>());
            Assert.Equal(1L, first.Attribute("first_frame_line").Read<long>());
            var xrd = first.Group("xrd");
            var intensities = xrd.Dataset("intensities").Read<float[,]>();
            Assert.Equal(2, intensities.GetLength(0));
            Assert.Equal(23f, intensities[1, 3]);
            Assert.Equal(0.005, xrd.Dataset("intensities").Attribute("x_step").Read<double>());
            Assert.Equal("two_theta", xrd.Dataset("intensities").Attribute("x_name").Read<string>());
            Assert.Equal([1L, 2L], xrd.Dataset("frame").Read<long[]>());
            Assert.Equal([1.0, 2.0], xrd.Dataset("position_sample_x").Read<double[]>());
            Assert.Equal(["observation", "flagged:flat"], xrd.Dataset("disposition").Read<string[]>());
            Assert.Equal([1L, -1L], xrd.Dataset("observation_sequence").Read<long[]>());
            Assert.Equal([7110f, 7122f, 7130f], first.Group("xas").Group("scan_0000").Dataset("x").Read<float[]>());
        }
        Assert.Equal(4L, Read(Block(2), f => f.Attribute("first_frame_line").Read<long>()));
        Assert.Equal(1L, Read(Block(2), f => f.Attribute("frames").Read<long>()));
    }

    [Fact]
    public async Task A_block_holds_what_frames_jsonl_holds()
    {
        await using (var run = Open(blockFrames: 5))
            for (var i = 1; i <= 5; i++)
                run.Frames.Store(TestFrames.Xrd(i, i * 10), i % 2 == 0 ? FrameFate.NoBeam : FrameFate.Observation, observationSequence: i % 2 == 0 ? null : i);

        var frames = FrameFile.Scan(_folder.Frames, w => Assert.Fail(w.ToString())).ToList();
        using var block = H5File.OpenRead(Block(1));
        var xrd = block.Group("xrd");
        var intensities = xrd.Dataset("intensities").Read<float[,]>();
        Assert.Equal(frames.Count, intensities.GetLength(0));
        for (var i = 0; i < frames.Count; i++)
            Assert.Equal(frames[i].Frame!.Intensities, Enumerable.Range(0, intensities.GetLength(1)).Select(j => intensities[i, j]));
        Assert.Equal(frames.Select(f => f.Frame!.Header.Frame), xrd.Dataset("frame").Read<long[]>());
        Assert.Equal(frames.Select(f => f.ObservationSequence ?? -1), xrd.Dataset("observation_sequence").Read<long[]>());
        Assert.Equal(frames.Select(f => f.Fate == FrameFate.Observation ? "observation" : "no_beam"), xrd.Dataset("disposition").Read<string[]>());
        Assert.Equal(frames.Select(f => f.Frame!.Header.BeamCurrentMa), xrd.Dataset("beam_current_ma").Read<double[]>());
        Assert.Equal(frames.Select(f => f.Frame!.Header.TStart.ToUnixTimeMilliseconds() / 1000.0), xrd.Dataset("t_start_unix_s").Read<double[]>());
    }

    [Fact]
    public async Task Blocks_are_written_off_the_thread_that_stores_the_frames()
    {
        await using var run = Open(blockFrames: 2);
        var writers = new List<int>();
        run.Blocks.BlockWritten += _ => writers.Add(Environment.CurrentManagedThreadId);
        var stored = new ManualResetEventSlim();
        var release = new ManualResetEventSlim();
        // The storing thread stays alive, blocked, while the blocks are written: no block can be written on it.
        var loop = new Thread(() =>
        {
            for (var i = 1; i <= 4; i++) run.Frames.Store(TestFrames.Xrd(i), FrameFate.NoBeam);
            stored.Set();
            release.Wait();
        });
        loop.Start();
        stored.Wait();

        await run.Journal.FlushAsync();
        await run.Blocks.FlushAsync();
        release.Set();
        loop.Join();

        Assert.Equal(2, writers.Count);
        Assert.DoesNotContain(loop.ManagedThreadId, writers);
    }

    [Fact]
    public async Task A_resumed_run_numbers_on_after_the_blocks_already_written()
    {
        await using (var run = Open(blockFrames: 3))
            for (var i = 1; i <= 4; i++) run.Frames.Store(TestFrames.Xrd(i), FrameFate.NoBeam);

        await using (var run = Open(blockFrames: 3))
        {
            Assert.Equal((2, 4), (run.Blocks.BlocksWritten, run.Blocks.FramesExported));
            for (var i = 5; i <= 7; i++) run.Frames.Store(TestFrames.Xrd(i), FrameFate.NoBeam);
            await run.Journal.FlushAsync();
            await run.Blocks.FlushAsync();
            Assert.Equal((3, 7), (run.Blocks.BlocksWritten, run.Blocks.FramesExported));
        }

        Assert.Equal(5L, Read(Block(3), f => f.Attribute("first_frame_line").Read<long>()));
        Assert.Equal([5L, 6L, 7L], Read(Block(3), f => f.Group("xrd").Dataset("frame").Read<long[]>()));
        Assert.False(File.Exists(Block(4)));
    }

    [Fact]
    public async Task Frames_a_crash_kept_out_of_a_block_go_into_the_resumed_runs_next_block()
    {
        await using (var run = Open(blockFrames: 3))
            for (var i = 1; i <= 4; i++) run.Frames.Store(TestFrames.Xrd(i), FrameFate.NoBeam);
        // The crash came before the end of the run: no last, partial block.
        File.Delete(Block(2));

        await using (var run = Open(blockFrames: 3))
        {
            Assert.Equal(4, run.Frames.Count);
            run.Frames.Store(TestFrames.Xrd(5), FrameFate.NoBeam);
            run.Frames.Store(TestFrames.Xrd(6), FrameFate.NoBeam);
        }

        Assert.Equal([4L, 5L, 6L], Read(Block(2), f => f.Group("xrd").Dataset("frame").Read<long[]>()));
        Assert.Equal(4L, Read(Block(2), f => f.Attribute("first_frame_line").Read<long>()));
    }

    [Fact]
    public async Task Every_block_file_opened_is_closed_again()
    {
        await using (var run = Open(blockFrames: 2))
            for (var i = 1; i <= 3; i++) run.Frames.Store(TestFrames.Xrd(i), FrameFate.NoBeam);
        // Reopening reads the blocks already written.
        await using (var run = Open(blockFrames: 2))
            Assert.Equal(2, run.Blocks.BlocksWritten);

        Assert.Empty(OpenFilesUnder(_folder.Blocks));
        foreach (var block in Directory.GetFiles(_folder.Blocks)) File.Delete(block);
        Assert.Empty(Directory.GetFiles(_folder.Blocks));
    }

    [Fact]
    public async Task A_block_that_cannot_be_written_is_reported_and_the_run_goes_on()
    {
        // A file where the blocks' folder should be.
        File.WriteAllText(_folder.Blocks, "");
        await using var run = Open(blockFrames: 1);
        var failed = new TaskCompletionSource<BlockFailure>();
        run.Blocks.Failed += f => failed.TrySetResult(f);

        run.Frames.Store(TestFrames.Xrd(1), FrameFate.NoBeam);
        run.Journal.Write(new CyclerError("after the frame"));
        await run.Journal.FlushAsync();

        var failure = await failed.Task;
        Assert.Equal(Path.Combine(_folder.Blocks, "block-0001.h5"), failure.Path);
        Assert.Contains("1 frames from frame 1", failure.Reason);
        Assert.Equal(failure, Assert.Single(run.Blocks.Failures));
        run.Frames.Store(TestFrames.Xrd(2), FrameFate.NoBeam);
        await run.Journal.FlushAsync();
        Assert.Equal(2, FrameFile.Scan(_folder.Frames, w => Assert.Fail(w.ToString())).Count());
        Assert.Null(run.Journal.Failure);
    }

    /// <summary>The files under <paramref name="directory"/> this process holds open (Linux: /proc/self/fd).</summary>
    private static IEnumerable<string> OpenFilesUnder(string directory) =>
        new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos()
            .Select(fd => { try { return fd.LinkTarget; } catch (IOException) { return null; } })
            .Where(target => target is not null && target.StartsWith(directory, StringComparison.Ordinal))
            .Cast<string>();
}

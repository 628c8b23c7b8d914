using System.Text.Json.Nodes;
using AutonomousBeamline.Control.Journal;
using PureHDF;

namespace AutonomousBeamline.Storage.Tests;

/// <summary>
/// Frame numbers go on across a resume in every file: a new detector process numbers its frames from 1 again, so the
/// run keeps its own number (run_frame) in frames.jsonl and in the HDF5 blocks.
/// </summary>
public sealed class RunFrameNumberTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_resumed_run_numbers_its_frames_on_in_frames_jsonl_and_the_hdf5_blocks()
    {
        await using (var run = RunFolder.Open(_folder.Path, TestClock.Create(), hdf5BlockFrames: 2))
            for (var n = 1; n <= 3; n++) run.Frames.Store(TestFrames.Xrd(n), FrameFate.Observation, observationSequence: n);
        // The crash cut the last line in half.
        File.AppendAllText(_folder.Frames, """{"disposition":"observation","run_frame":4,"head""");
        // After the resume the detector (a new process) numbers from 1 again.
        await using (var resumed = RunFolder.Open(_folder.Path, TestClock.Create(), hdf5BlockFrames: 2))
        {
            Assert.Contains(resumed.Warnings, w => w.Reason.StartsWith("not JSON", StringComparison.Ordinal));
            for (var n = 1; n <= 3; n++) resumed.Frames.Store(TestFrames.Xrd(n), FrameFate.Observation, observationSequence: 3 + n);
        }

        var lines = File.ReadLines(_folder.Frames).Select(l => { try { return JsonNode.Parse(l) as JsonObject; } catch (System.Text.Json.JsonException) { return null; } })
            .OfType<JsonObject>().ToList();
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L], lines.Select(l => (long)l["run_frame"]!));
        Assert.Equal([1L, 2L, 3L, 1L, 2L, 3L], lines.Select(l => (long)l["header"]!["frame"]!));

        var runFrames = Directory.GetFiles(_folder.Blocks, "block-*.h5").Order(StringComparer.Ordinal).SelectMany(path =>
        {
            using var file = H5File.OpenRead(path);
            return file.Group("xrd").Dataset("run_frame").Read<long[]>();
        }).ToList();
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L], runFrames);
    }
}

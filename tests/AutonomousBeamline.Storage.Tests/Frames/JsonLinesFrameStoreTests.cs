using AutonomousBeamline.Control.Journal;

namespace AutonomousBeamline.Storage.Tests;

public sealed class JsonLinesFrameStoreTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private RunFolder Open() => RunFolder.Open(_folder.Path, TestClock.Create(), hdf5BlockFrames: 100);

    [Fact]
    public async Task A_reopened_frame_file_closes_a_torn_last_line_and_counts_on()
    {
        await using (var run = Open())
        {
            run.Frames.Store(TestFrames.Xrd(1), FrameFate.Observation, observationSequence: 1);
            run.Frames.Store(TestFrames.Xrd(2), FrameFate.NoBeam);
        }
        File.AppendAllText(_folder.Frames, """{"disposition":"observation","header":{"fra""");

        await using (var run = Open())
        {
            Assert.Equal(2, run.Frames.Count);
            Assert.Equal(3, Assert.Single(run.Warnings).Line);
            run.Frames.Store(TestFrames.Xas(3), FrameFate.Flagged, "misfit");
            Assert.Equal(3, run.Frames.Count);
        }

        var warnings = new List<FileWarning>();
        var frames = FrameFile.Scan(_folder.Frames, warnings.Add).ToList();
        Assert.Equal([1L, 2, 3], frames.Select(f => f.Frame!.Header.Frame));
        Assert.Equal("misfit", frames[^1].Flag);
        Assert.Equal(3, Assert.Single(warnings).Line);
    }

    [Fact]
    public async Task A_flag_goes_with_a_flagged_frame_and_only_with_one()
    {
        await using var run = Open();

        Assert.Throws<ArgumentException>(() => run.Frames.Store(TestFrames.Xrd(1), FrameFate.Flagged));
        Assert.Throws<ArgumentException>(() => run.Frames.Store(TestFrames.Xrd(1), FrameFate.Observation, "flat", 1));
        Assert.Equal(0, run.Frames.Count);
    }
}

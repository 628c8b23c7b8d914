using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Learning.Features;

namespace AutonomousBeamline.Storage.Tests;

/// <summary>
/// The frames preflight's reference check takes are measured beam time: kept in every file of the run, marked as preflight's
/// (never an observation, never among the experiment's frames), with the check's verdict beside them — after a check that
/// failed as after one that passed — and once only, however often the run is resumed.
/// </summary>
public sealed class PreflightFramesTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private RecordedRun Export()
    {
        var run = RecordedRun.Read(_folder.Path);
        var result = RunExports.Write(run, SampleRun.Description);
        Assert.Empty(result.Failures);
        return run;
    }

    [Fact]
    public async Task A_passing_preflights_pattern_and_spectrum_are_in_every_file_with_their_verdicts_and_apart_from_the_experiments_frames()
    {
        await SampleRun.WriteAsync(_folder.Path, preflight: true);
        var run = Export();

        Assert.Equal("""[["xrd", true], ["xas", true]]""", Python.Run("check_preflight.py", _folder.Path).Trim());
        // The experiment's own files read as they did: entry/data, the XAS entries and the observations' events leave preflight's frames out.
        Assert.Equal("ok", Python.Run("check_nexus.py", _folder.Path).Trim());
        Assert.Equal("ok", Python.Run("check_documents.py", _folder.Path).Trim());
        var kept = run.Frames.Where(f => f.Fate == FrameFate.Preflight).ToList();
        Assert.Equal([1L, 2], kept.Select(f => f.RunFrame!.Value));
        Assert.Equal(SampleRun.ExplainedPattern, kept[0].Check);
        Assert.Equal(SampleRun.ExplainedSpectrum, kept[1].Check);
    }

    [Fact]
    public async Task A_failed_preflight_leaves_its_frame_and_the_likely_cause_on_disk()
    {
        await SampleRun.WriteFailedPreflightAsync(_folder.Path);
        var run = Export();

        Assert.Equal("""[["xrd", false]]""", Python.Run("check_preflight.py", _folder.Path).Trim());
        var frame = Assert.Single(run.Frames);
        Assert.Equal(FrameFate.Preflight, frame.Fate);
        Assert.Null(frame.ObservationSequence);
        Assert.StartsWith("X-ray energy", frame.Check!.LikelyCause);
        Assert.Equal(0.71, frame.Check.Unexplained);
        Assert.Equal(SampleRun.XrdPoints, frame.Frame!.Intensities.Length);
    }

    [Fact]
    public async Task A_resumed_run_keeps_each_preflight_frame_once()
    {
        await SampleRun.WriteAsync(_folder.Path, end: false, preflight: true);
        // As a resume opens the folder: the blocks it wrote and the frames after them go on, nothing is written twice.
        await using (var resumed = RunFolder.Open(_folder.Path, TestClock.Create(), hdf5BlockFrames: 2))
        {
            Assert.Empty(resumed.Warnings);
            resumed.Frames.Store(SampleRun.Xrd(7, TestClock.Start.AddMinutes(5)), FrameFate.NoBeam);
        }
        Export();

        Assert.Equal("""[["xrd", true], ["xas", true]]""", Python.Run("check_preflight.py", _folder.Path).Trim());
        Assert.Equal("ok", Python.Run("check_nexus.py", _folder.Path).Trim());
    }

    [Fact]
    public async Task A_preflight_frame_is_stored_only_with_its_verdict()
    {
        await using var run = RunFolder.Open(_folder.Path, TestClock.Create(), hdf5BlockFrames: 100);

        Assert.Throws<ArgumentException>(() => run.Frames.Store(TestFrames.Xrd(1), FrameFate.Preflight));
        Assert.Throws<ArgumentNullException>(() => run.Frames.StorePreflight(TestFrames.Xrd(1), null!));
        Assert.Equal(0, run.Frames.Count);
    }

    [Fact]
    public async Task The_verdict_reads_back_from_the_frame_file_without_the_payload()
    {
        var verdict = new ReferenceVerdict(false, "the first pattern is flat", "no signal: the first pattern is flat", Conclusive: false);
        await using (var run = RunFolder.Open(_folder.Path, TestClock.Create(), hdf5BlockFrames: 100))
        {
            run.Frames.Store(TestFrames.Xrd(1), FrameFate.NoBeam);
            run.Frames.StorePreflight(TestFrames.Xrd(2), verdict);
        }

        var frames = FrameFile.Scan(_folder.Frames, w => Assert.Fail(w.ToString()), decode: _ => false).ToList();
        Assert.Equal([FrameFate.NoBeam, FrameFate.Preflight], frames.Select(f => f.Fate));
        Assert.Equal([1L, 2], frames.Select(f => f.RunFrame!.Value));
        Assert.Null(frames[0].Check);
        Assert.Equal(verdict, frames[1].Check);
        Assert.Contains("\"disposition\":\"preflight\"", File.ReadLines(_folder.Frames).Last());
    }
}

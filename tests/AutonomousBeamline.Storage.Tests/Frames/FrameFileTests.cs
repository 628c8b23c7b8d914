using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Storage.Tests;

public sealed class FrameFileTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();
    private readonly List<FileWarning> _warnings = [];

    public void Dispose() => _folder.Dispose();

    private static readonly Frame FlatPattern = new(new FrameHeader
    {
        Frame = 3, RequestId = "r3", Kind = FrameKind.Xrd, N = 2, XMode = "uniform", XName = "two_theta", XUnit = "deg", XStart = 5, XStep = 0.005,
        ExposureS = 20, TStart = TestClock.Start, Positions = new Dictionary<string, double> { ["sample_x"] = 1.5 }, BeamCurrentMa = 200,
    }, [1f, 2.5f], null);

    private static readonly Frame Spectrum = new(new FrameHeader
    {
        Frame = 4, RequestId = "r4", Kind = FrameKind.Xas, N = 2, XMode = "explicit", TStart = TestClock.Start, BeamCurrentMa = 200,
    }, [0.5f, 1f], [7110f, 7112.5f]);

    private async Task StoreAsync(params (Frame Frame, FrameFate Fate, string? Flag, long? Sequence)[] frames)
    {
        await using var run = RunFolder.Open(_folder.Path, TestClock.Create(), hdf5BlockFrames: 100);
        foreach (var (frame, fate, flag, sequence) in frames) run.Frames.Store(frame, fate, flag, sequence);
    }

    private void Lines(params string[] lines) => File.WriteAllText(_folder.Frames, string.Join("\n", lines));

    [Fact]
    public async Task A_frame_line_is_byte_for_byte_the_line_frame_files_hold_today()
    {
        await StoreAsync((FlatPattern, FrameFate.Flagged, "flat", 4), (Spectrum, FrameFate.Observation, null, 5));

        Assert.Equal(
        [
            """{"disposition":"flagged:flat","run_frame":1,"observation_sequence":4,"header":{"frame":3,"request_id":"r3","kind":"xrd","n":2,"x_mode":"uniform","x_name":"two_theta","x_unit":"deg","x_start":5,"x_step":0.005,"exposure_s":20,"t_start":"2026-11-24T21:00:00+00:00","positions":{"sample_x":1.5},"beam_current_ma":200},"intensities_f32le":"AACAPwAAIEA="}""",
            """{"disposition":"observation","run_frame":2,"observation_sequence":5,"header":{"frame":4,"request_id":"r4","kind":"xas","n":2,"x_mode":"explicit","t_start":"2026-11-24T21:00:00+00:00","positions":{},"beam_current_ma":200},"intensities_f32le":"AAAAPwAAgD8=","x_f32le":"ADDeRQBE3kU="}""",
        ], File.ReadAllLines(_folder.Frames));
    }

    [Fact]
    public async Task Stored_frames_read_back_whole_with_what_became_of_them()
    {
        await StoreAsync((FlatPattern, FrameFate.Flagged, "flat", null), (Spectrum, FrameFate.Observation, null, 5), (TestFrames.Xrd(6), FrameFate.NoBeam, null, null));

        var frames = FrameFile.Scan(_folder.Frames, _warnings.Add).ToList();

        Assert.Empty(_warnings);
        Assert.Equal([FrameFate.Flagged, FrameFate.Observation, FrameFate.NoBeam], frames.Select(f => f.Fate));
        Assert.Equal(["flat", null, null], frames.Select(f => f.Flag));
        Assert.Equal([null, 5L, null], frames.Select(f => f.ObservationSequence));
        Assert.Equal([20.0, 0, 20], frames.Select(f => f.ExposureS));
        Assert.Equivalent(new[] { FlatPattern, Spectrum, TestFrames.Xrd(6) }, frames.Select(f => f.Frame), strict: true);
    }

    [Fact]
    public async Task Only_the_frames_asked_for_are_decoded_and_skipped_ones_are_not_returned()
    {
        await StoreAsync((TestFrames.Xrd(1), FrameFate.Observation, null, 1), (TestFrames.Xrd(2), FrameFate.Flagged, "flat", null),
            (TestFrames.Xrd(3), FrameFate.Observation, null, 2), (TestFrames.Xrd(4), FrameFate.NoBeam, null, null));

        var frames = FrameFile.Scan(_folder.Frames, _warnings.Add, decode: f => f.Fate == FrameFate.Observation, skip: 1).ToList();

        Assert.Equal([FrameFate.Flagged, FrameFate.Observation, FrameFate.NoBeam], frames.Select(f => f.Fate));
        Assert.Equal([false, true, false], frames.Select(f => f.Frame is not null));
        Assert.Equal(3, frames[1].Frame!.Header.Frame);
        Assert.All(frames, f => Assert.Equal(20, f.ExposureS));
    }

    [Fact]
    public void Every_line_that_cannot_be_read_is_passed_over_with_a_warning_naming_it()
    {
        Lines(
            """{"disposition":"observation","observation_sequence":1,"header":{"frame":1,"exposure_s":20}}""",
            """not JSON""",
            """{"disposition":"lost in the post","header":{"frame":2}}""",
            """{"disposition":"no_beam","observation_sequence":"two","header":{"frame":3}}""",
            """{"disposition":"no_beam"}""",
            """{"disposition":"no_beam","header":{"frame":5,"exposure_s":"long"}}""",
            """{"disposition":"no_beam","header":{"frame":6,"request_id":"r6","kind":"xrd","n":1,"x_mode":"uniform","t_start":"2026-11-24T21:00:00+00:00","beam_current_ma":200},"intensities_f32le":"AAA="}""",
            """{"disposition":"no_beam","header":{"frame":7,"request_id":"r7","kind":"neutrons","n":1,"x_mode":"uniform","t_start":"2026-11-24T21:00:00+00:00","beam_current_ma":200},"intensities_f32le":"AACAPw=="}""",
            """{"disposition":"flagged:flat","header":{"frame":8,"exposure_s":20}}""",
            """{"disposit""");

        var frames = FrameFile.Scan(_folder.Frames, _warnings.Add, decode: f => f.Fate == FrameFate.NoBeam).ToList();

        Assert.Equal([FrameFate.Observation, FrameFate.Flagged], frames.Select(f => f.Fate));
        Assert.Equal([2L, 3, 4, 5, 6, 7, 8, 10], _warnings.Select(w => w.Line));
        var reasons = _warnings.Select(w => w.Reason).ToList();
        Assert.StartsWith("not JSON", reasons[0]);
        Assert.Contains("no disposition", reasons[1]);
        Assert.Contains("observation_sequence", reasons[2]);
        Assert.Equal("no header", reasons[3]);
        Assert.Contains("exposure_s", reasons[4]);
        Assert.Contains("whole float32", reasons[5]);
        Assert.Contains("fields do not fit", reasons[6]);
        Assert.StartsWith("not JSON (a line torn by a crash?)", reasons[7]);
    }

    [Fact]
    public void A_run_without_a_frame_file_has_no_frames()
    {
        Assert.Empty(FrameFile.Scan(_folder.Frames, _warnings.Add));
        Assert.Empty(_warnings);
    }

    // From Control's JournalReplayTests: what a resume reads from frames.jsonl.

    [Fact]
    public void A_resume_counts_every_frame_and_its_beam_time_past_a_torn_last_line()
    {
        Lines(
            """{"disposition":"observation","header":{"frame":1,"exposure_s":20}}""",
            """{"disposition":"observation","header":{"frame":2,"exposure_s":20}}""",
            """{"disposition":"no_beam","header":{"frame":3,"exposure_s":20}}""",
            """{"dispos""");

        var frames = FrameFile.Scan(_folder.Frames, _warnings.Add, decode: _ => false).ToList();

        Assert.Equal(3, frames.Count);
        Assert.Equal(60, frames.Sum(f => f.ExposureS));
        Assert.Equal(4, Assert.Single(_warnings).Line);
    }

    [Fact]
    public async Task A_frame_stored_before_the_crash_but_never_journalled_is_found_again()
    {
        Frame Pattern(long n) => new(new FrameHeader
        {
            Frame = n, RequestId = "r" + n, Kind = FrameKind.Xrd, N = 3, XMode = "uniform", XStart = 5, XStep = 0.005, TStart = DateTimeOffset.UnixEpoch, BeamCurrentMa = 200,
        }, [1f, 2.5f, 3f], null);
        // The kill came after the third frame was stored, before its observation record.
        await StoreAsync((Pattern(1), FrameFate.Observation, null, 1), (Pattern(2), FrameFate.Flagged, "flat", null), (Pattern(3), FrameFate.Observation, null, 2));
        var journalled = new HashSet<long> { 1 };

        var frames = FrameFile.Scan(_folder.Frames, _warnings.Add,
            decode: f => f.Fate == FrameFate.Observation && f.ObservationSequence is { } q && !journalled.Contains(q)).ToList();

        var lost = Assert.Single(frames, f => f.Frame is not null);
        Assert.Equal(2, lost.ObservationSequence);
        Assert.Equal(3, lost.Frame!.Header.Frame);
        Assert.Equal([1f, 2.5f, 3f], lost.Frame.Intensities);
        Assert.Equal(3, frames.Count);
    }
}

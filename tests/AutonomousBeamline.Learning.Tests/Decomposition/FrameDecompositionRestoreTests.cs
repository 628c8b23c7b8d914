using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Decomposition;
using MathNet.Numerics.Distributions;

namespace AutonomousBeamline.Learning.Tests.Decomposition;

/// <summary>
/// A stream brought back after a crash from the frames it had been fed and what the journal says it published: the ids
/// it gave are recognised by where the components peak, the version and the frame count go on, and the next frame is
/// resolved as the uninterrupted stream resolves it. Synthetic patterns made here (Gaussian peaks, Poisson counts).
/// </summary>
public sealed class FrameDecompositionRestoreTests
{
    private const int Channels = 300;
    private const double Start = 5, Step = 0.01;

    private static double[] Peaks(params (double Centre, double Width, double Height)[] peaks) => SyntheticPatterns.Peaks(Channels, peaks);

    private static readonly double[][] Truth =
    [
        Peaks((60, 4, 1), (210, 5, 0.8)),
        Peaks((150, 4, 1), (250, 6, 0.5)),
    ];

    /// <summary>Two phases, A turning into B, as counts on a 2θ axis.</summary>
    private static List<Frame> Charge(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            var b = (double)i / (count - 1);
            var counts = Enumerable.Range(0, Channels).Select(j =>
                (float)Poisson.Sample(rng, Math.Max(1e-9, 60_000 * ((1 - b) * Truth[0][j] + b * Truth[1][j])))).ToArray();
            return new Frame(new FrameHeader
            {
                Frame = i + 1, RequestId = "r" + i, Kind = FrameKind.Xrd, N = Channels, XMode = "uniform", XName = "two_theta", XUnit = "deg",
                XStart = Start, XStep = Step, TStart = DateTimeOffset.UnixEpoch, BeamCurrentMa = 200,
            }, counts, null);
        }).ToList();
    }

    private static (FrameComponents Last, PublishedComponents Published) Feed(FrameDecomposition decomposition, IEnumerable<Frame> frames)
    {
        FrameComponents? last = null, published = null;
        var lastId = 0;
        foreach (var frame in frames)
        {
            last = decomposition.Decompose(frame)!;
            if (!last.Update.Changed) continue;
            published = last;
            lastId = Math.Max(lastId, last.Summaries.Select(s => s.Id).DefaultIfEmpty(0).Max());
        }
        return (last!, new PublishedComponents(published!.Update.Version, lastId, published.Summaries));
    }

    [Fact]
    public void A_restored_stream_keeps_the_ids_the_version_line_and_the_frame_count_of_the_one_that_crashed()
    {
        var frames = Charge(61, seed: 3);
        var uninterrupted = new FrameDecomposition();
        var (_, published) = Feed(uninterrupted, frames.Take(60));
        Assert.Equal(2, published.Components.Count);
        var next = uninterrupted.Decompose(frames[60])!;

        var restored = new FrameDecomposition();
        restored.Restore(frames[0], frames.Take(60), published);
        var after = restored.Decompose(frames[60])!;

        Assert.True(after.Update.Changed);
        Assert.Equal(published.Version + 1, after.Update.Version);
        Assert.Equal(61, after.Update.FrameCount);
        // Each component keeps its id: the same phase under the same number, with the same share of the frame.
        foreach (var component in next.Summaries)
        {
            var same = Assert.Single(after.Summaries, s => s.Id == component.Id);
            Assert.Equal(component.PeakAt, same.PeakAt, 3 * Step);
            Assert.Equal(component.Fraction, same.Fraction, 0.02);
            Assert.Equal(component.FirstSeenFrame, same.FirstSeenFrame);
        }
    }

    [Fact]
    public void Ids_follow_where_the_components_peak_and_a_component_the_journal_did_not_know_gets_a_new_one()
    {
        var frames = Charge(40, seed: 4);
        var (_, published) = Feed(new FrameDecomposition(), frames);
        var a = published.Components.MinBy(c => c.PeakAt)!;
        var b = published.Components.MaxBy(c => c.PeakAt)!;
        // The journal says: A was component 7, and the other one it knew peaked far from B (a shape B no longer has).
        var journal = new PublishedComponents(12, 9, [a with { Id = 7, FirstSeenFrame = 2 }, b with { Id = 9, PeakAt = b.PeakAt + 0.5 }]);

        var restored = new FrameDecomposition();
        restored.Restore(frames[0], frames, journal);
        var after = restored.Decompose(Charge(41, seed: 5)[40])!;

        Assert.Equal(13, after.Update.Version);
        Assert.Equal(7, after.Summaries.MinBy(s => s.PeakAt)!.Id);
        Assert.Equal(2, after.Summaries.MinBy(s => s.PeakAt)!.FirstSeenFrame);
        Assert.Equal(10, after.Summaries.MaxBy(s => s.PeakAt)!.Id);
    }

    /// <summary>The same charge on an explicit axis: fine (0.001° a channel) over the first 200 channels, coarse (0.1°) beyond.</summary>
    private static Frame OnUnevenAxis(Frame frame)
    {
        var x = Enumerable.Range(0, Channels).Select(j => (float)(j < 200 ? Start + 0.001 * j : Start + 0.2 + 0.1 * (j - 200))).ToArray();
        return new Frame(frame.Header with { XMode = "explicit", XStart = null, XStep = null }, frame.Intensities, x);
    }

    [Fact]
    public void Ids_are_recognised_within_the_axis_own_step_where_a_component_peaks()
    {
        var frames = Charge(40, seed: 7).Select(OnUnevenAxis).ToList();
        var (_, published) = Feed(new FrameDecomposition(), frames);
        var a = published.Components.MinBy(c => c.PeakAt)!;
        var b = published.Components.MaxBy(c => c.PeakAt)!;
        // B's record peaks 0.02° from where B peaks: within three of the coarse channels' mean step (0.07°), but twenty of the fine
        // channels' where B peaks; so it is another component, and B gets a new id.
        var journal = new PublishedComponents(3, 4, [a with { Id = 2 }, b with { Id = 4, PeakAt = b.PeakAt + 0.02 }]);
        Assert.True(b.PeakAt < Start + 0.2, "B should peak on the fine part of the axis");

        var restored = new FrameDecomposition();
        restored.Restore(frames[0], frames, journal);
        var after = restored.Decompose(OnUnevenAxis(Charge(41, seed: 8)[40]))!;

        Assert.Equal(2, after.Summaries.MinBy(s => s.PeakAt)!.Id);
        Assert.Equal(5, after.Summaries.MaxBy(s => s.PeakAt)!.Id);
    }

    [Fact]
    public void A_starter_without_a_usable_axis_took_no_seeds_then_and_takes_none_now()
    {
        var frames = Charge(12, seed: 9);
        var unusable = new Frame(frames[5].Header, frames[5].Intensities.Select(_ => float.NaN).ToArray(), null);
        var fed = frames.Take(5).Append(unusable).Concat(frames.Skip(6).Take(5)).ToList();

        var restored = new FrameDecomposition();
        restored.Restore(unusable, fed, null);
        var after = restored.Decompose(frames[11])!;

        // The five frames after the starter, and this one; not the five seeds before it.
        Assert.Equal(6, after.Update.FrameCount);
    }

    [Fact]
    public void Only_a_stream_that_has_taken_no_frame_is_restored()
    {
        var frames = Charge(5, seed: 6);
        var decomposition = new FrameDecomposition();
        decomposition.Decompose(frames[0]);
        Assert.Throws<InvalidOperationException>(() => decomposition.Restore(frames[0], frames, null));

        var stream = new IncrementalDecomposition(new DecompositionOptions(NoiseModel.Poisson));
        stream.Add(frames[0].Intensities.Select(v => (double)v).ToArray());
        Assert.Throws<InvalidOperationException>(() => stream.Restore([], 1, 0, 1, c => c.Select(_ => ((int, long)?)null).ToList()));
    }
}

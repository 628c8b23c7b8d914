using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Steps;
using AutonomousBeamline.Control.Tests.Support;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Decomposition;
using AutonomousBeamline.Learning.Features;

namespace AutonomousBeamline.Control.Tests.Steps;

/// <summary>
/// Which frames the decomposition is fed: with a reference-based target nothing until the references leave a frame of the
/// kind unexplained, then that kind's stream is seeded with the latest explained frames (a bounded ring) and takes every
/// sound frame of the kind from there on.
/// </summary>
public sealed class DecompositionFeedTests
{
    /// <summary>Records what it is given; seeds all it is offered, or only those <see cref="Joins"/> accepts.</summary>
    private sealed class RecordingDecomposition : IFrameDecomposition
    {
        public List<long> Decomposed { get; } = [];
        public List<(long First, List<long> Earlier)> Seeded { get; } = [];
        public Func<Frame, bool> Joins { get; init; } = _ => true;

        public FrameComponents? Decompose(Frame frame)
        {
            Decomposed.Add(frame.Header.Frame);
            var update = new DecompositionUpdate(Decomposed.Count, 1, true, new RankEstimate(1, [], 0, 0), [], [], 0);
            return new FrameComponents(frame.Header.Kind, update, []);
        }

        public int Seed(Frame first, IReadOnlyList<Frame> earlier)
        {
            Seeded.Add((first.Header.Frame, earlier.Select(f => f.Header.Frame).ToList()));
            return earlier.Count(Joins);
        }

        public List<(long Starter, List<long> Fed, PublishedComponents? Published)> Restored { get; } = [];

        public void Restore(Frame starter, IEnumerable<Frame> fed, PublishedComponents? published) =>
            Restored.Add((starter.Header.Frame, fed.Select(f => f.Header.Frame).ToList(), published));
    }

    private static readonly Dictionary<FrameKind, PublishedComponents> NothingPublished = [];
    private static readonly Dictionary<FrameKind, DecompositionStream> NothingBegan = [];

    [Fact]
    public void A_resumed_feed_keeps_the_explained_frames_of_a_kind_whose_stream_had_not_started()
    {
        var decomposition = new RecordingDecomposition();
        var feed = new DecompositionFeed(decomposition, ObservationTarget.Default);
        for (var n = 1; n <= 45; n++) feed.Recall(FrameOf(n), n % 10 == 0 ? XrdPhaseAnalyzer.FlagFlat : null);
        feed.EndRecall(NothingPublished, NothingBegan);
        Assert.Empty(decomposition.Restored);
        Assert.Equal(DecompositionFeed.SeedCapacity, feed.Kept(FrameKind.Xrd));

        // The first unexplained frame after the resume seeds the stream with the frames from before it, as if there had been no crash.
        var (_, stream) = feed.Offer(FrameOf(46), XrdPhaseAnalyzer.FlagMisfit);
        var seeded = Assert.Single(decomposition.Seeded);
        Assert.Equal(Enumerable.Range(1, 45).Where(n => n % 10 != 0).TakeLast(39).Select(n => (long)n), seeded.Earlier);
        Assert.Equal(new DecompositionStream(DecompositionStart.ReferenceMisfit, 39), stream);
    }

    [Fact]
    public void A_resumed_feed_restores_a_started_stream_with_every_frame_it_was_fed_and_then_decomposes_each_new_frame()
    {
        var decomposition = new RecordingDecomposition();
        var feed = new DecompositionFeed(decomposition, ObservationTarget.Default);
        for (var n = 1; n <= 5; n++) feed.Recall(FrameOf(n), null);
        feed.Recall(FrameOf(6), XrdPhaseAnalyzer.FlagMisfit);
        feed.Recall(FrameOf(7), XrdPhaseAnalyzer.FlagSaturated);
        feed.Recall(FrameOf(8), null);
        feed.Recall(FrameOf(9, FrameKind.Xas), null);
        var published = new PublishedComponents(4, 3, [new ComponentSummary(3, 9.5, 0.4, 6)]);
        var began = new DecompositionStream(DecompositionStart.ReferenceMisfit, 5);
        feed.EndRecall(new Dictionary<FrameKind, PublishedComponents> { [FrameKind.Xrd] = published },
            new Dictionary<FrameKind, DecompositionStream> { [FrameKind.Xrd] = began });

        var restored = Assert.Single(decomposition.Restored);
        Assert.Equal(6, restored.Starter);
        Assert.Equal([1L, 2, 3, 4, 5, 6, 8], restored.Fed);
        Assert.Same(published, restored.Published);
        Assert.Empty(decomposition.Seeded);
        Assert.Equal(1, feed.Kept(FrameKind.Xas));

        var (components, stream) = feed.Offer(FrameOf(10), null);
        Assert.NotNull(components);
        Assert.Equal([10L], decomposition.Decomposed);
        Assert.Equal(began, stream);
    }

    [Fact]
    public void A_resumed_component_score_target_restores_its_stream_from_the_first_sound_frame()
    {
        var decomposition = new RecordingDecomposition();
        var target = ObservationTarget.Parse("component_score", null, null, component: 1);
        var feed = new DecompositionFeed(decomposition, target);
        feed.Recall(FrameOf(1), XrdPhaseAnalyzer.FlagFlat);
        feed.Recall(FrameOf(2), null);
        feed.Recall(FrameOf(3), XrdPhaseAnalyzer.FlagMisfit);
        feed.EndRecall(NothingPublished, NothingBegan);

        var restored = Assert.Single(decomposition.Restored);
        Assert.Equal(2, restored.Starter);
        Assert.Equal([2L, 3], restored.Fed);
        Assert.Null(restored.Published);
        Assert.Equal(new DecompositionStream(DecompositionStart.ComponentScoreTarget, 0), feed.Offer(FrameOf(4), null).Stream);
    }

    [Fact]
    public void Frames_are_recalled_only_before_the_resumed_run_offers_any()
    {
        var feed = new DecompositionFeed(new RecordingDecomposition(), ObservationTarget.Default);
        feed.Offer(FrameOf(1), XrdPhaseAnalyzer.FlagMisfit);
        Assert.Throws<InvalidOperationException>(() => feed.Recall(FrameOf(2), null));
    }

    private static Frame FrameOf(long number, FrameKind kind = FrameKind.Xrd) => new(new FrameHeader
    {
        Frame = number, RequestId = "r" + number, Kind = kind, N = 3, XMode = "uniform", XStart = 5, XStep = 0.01, TStart = EngineRig.Start, BeamCurrentMa = 200,
    }, [1f, 2f, 3f], null);

    private static string Misfit(FrameKind kind) => kind == FrameKind.Xas ? XasEdgeAnalyzer.FlagReferenceMisfit : XrdPhaseAnalyzer.FlagMisfit;

    [Fact]
    public void Nothing_is_decomposed_while_the_references_explain_the_frames()
    {
        var decomposition = new RecordingDecomposition();
        var feed = new DecompositionFeed(decomposition, ObservationTarget.Default);
        for (var n = 1; n <= 5; n++) Assert.Equal((null, null), feed.Offer(FrameOf(n), null));
        Assert.Empty(decomposition.Decomposed);
        Assert.Empty(decomposition.Seeded);
        Assert.Equal(5, feed.Kept(FrameKind.Xrd));
    }

    [Fact]
    public void The_first_unexplained_frame_seeds_the_stream_with_the_latest_explained_frames_the_ring_can_hold()
    {
        var decomposition = new RecordingDecomposition();
        var feed = new DecompositionFeed(decomposition, ObservationTarget.Default);
        for (var n = 1; n <= 50; n++) feed.Offer(FrameOf(n), null);
        Assert.Equal(DecompositionFeed.SeedCapacity, feed.Kept(FrameKind.Xrd));

        var (components, stream) = feed.Offer(FrameOf(51), XrdPhaseAnalyzer.FlagMisfit);

        var seeded = Assert.Single(decomposition.Seeded);
        Assert.Equal(51, seeded.First);
        // The 39 newest, oldest first, so the window holds them in the order they were taken.
        Assert.Equal(Enumerable.Range(12, 39).Select(n => (long)n), seeded.Earlier);
        Assert.Equal([51L], decomposition.Decomposed);
        Assert.NotNull(components);
        Assert.Equal(new DecompositionStream(DecompositionStart.ReferenceMisfit, 39), stream);
    }

    [Fact]
    public void Only_sound_explained_frames_of_the_unexplained_frames_kind_are_seeds()
    {
        var decomposition = new RecordingDecomposition();
        var feed = new DecompositionFeed(decomposition, ObservationTarget.Default);
        feed.Offer(FrameOf(1), null);
        feed.Offer(FrameOf(2, FrameKind.Xas), null);
        feed.Offer(FrameOf(3), "saturated");
        feed.Offer(FrameOf(4), FrameAnalysis.FlagOutsideRoi);
        feed.Offer(FrameOf(5, FrameKind.Xas), XasEdgeAnalyzer.FlagIncomplete);
        feed.Offer(FrameOf(6), null);

        feed.Offer(FrameOf(7), XrdPhaseAnalyzer.FlagMisfit);

        Assert.Equal([1L, 6L], Assert.Single(decomposition.Seeded).Earlier);
        // The other kind's stream has not started: its explained frame is still kept, nothing of it decomposed.
        Assert.Equal(1, feed.Kept(FrameKind.Xas));
        Assert.Equal([7L], decomposition.Decomposed);
    }

    [Fact]
    public void Once_started_every_sound_frame_of_the_kind_is_decomposed_and_the_stream_is_seeded_only_once()
    {
        var decomposition = new RecordingDecomposition();
        var feed = new DecompositionFeed(decomposition, ObservationTarget.Default);
        feed.Offer(FrameOf(1), null);
        var (_, first) = feed.Offer(FrameOf(2), XrdPhaseAnalyzer.FlagMisfit);

        var explained = feed.Offer(FrameOf(3), null);
        var unexplained = feed.Offer(FrameOf(4), XrdPhaseAnalyzer.FlagMisfit);
        var bad = feed.Offer(FrameOf(5), "saturated");

        Assert.Single(decomposition.Seeded);
        Assert.Equal([2L, 3L, 4L], decomposition.Decomposed);
        Assert.Equal(0, feed.Kept(FrameKind.Xrd));
        Assert.Equal((first, first), (explained.Stream, unexplained.Stream));
        Assert.NotNull(explained.Components);
        Assert.Equal((null, null), bad);
    }

    [Fact]
    public void A_stream_counts_only_the_seeds_that_joined_it()
    {
        // A seed on another axis than the unexplained frame's (a sparse absorption scan) cannot join the window.
        var decomposition = new RecordingDecomposition { Joins = f => f.Header.Frame != 2 };
        var feed = new DecompositionFeed(decomposition, ObservationTarget.Default);
        foreach (var n in new long[] { 1, 2, 3 }) feed.Offer(FrameOf(n, FrameKind.Xas), null);
        var (_, stream) = feed.Offer(FrameOf(4, FrameKind.Xas), Misfit(FrameKind.Xas));
        Assert.Equal(new DecompositionStream(DecompositionStart.ReferenceMisfit, 2), stream);
    }

    [Fact]
    public void A_component_score_targets_kind_keeps_no_ring_and_decomposes_every_sound_frame_from_the_first()
    {
        var decomposition = new RecordingDecomposition();
        var feed = new DecompositionFeed(decomposition, ObservationTarget.Parse("component_score", null, null, component: 2));
        var (_, stream) = feed.Offer(FrameOf(1), null);
        feed.Offer(FrameOf(2), XrdPhaseAnalyzer.FlagMisfit);
        feed.Offer(FrameOf(3), null);

        Assert.Equal(new DecompositionStream(DecompositionStart.ComponentScoreTarget, 0), stream);
        Assert.Equal([1L, 2L, 3L], decomposition.Decomposed);
        Assert.Empty(decomposition.Seeded);
        Assert.Equal(0, feed.Kept(FrameKind.Xrd));
        // The other kind is not the target's: it waits for its references to fail like any reference-based one.
        feed.Offer(FrameOf(4, FrameKind.Xas), null);
        Assert.Equal(1, feed.Kept(FrameKind.Xas));
    }

    [Fact]
    public void With_a_ring_of_no_frames_the_first_unexplained_frame_starts_the_stream_unseeded()
    {
        var decomposition = new RecordingDecomposition();
        var feed = new DecompositionFeed(decomposition, ObservationTarget.Default, seedCapacity: 0);
        feed.Offer(FrameOf(1), null);
        Assert.Equal(0, feed.Kept(FrameKind.Xrd));
        var (_, stream) = feed.Offer(FrameOf(2), XrdPhaseAnalyzer.FlagMisfit);
        Assert.Equal(new DecompositionStream(DecompositionStart.ReferenceMisfit, 0), stream);
        Assert.Empty(Assert.Single(decomposition.Seeded).Earlier);
    }
}

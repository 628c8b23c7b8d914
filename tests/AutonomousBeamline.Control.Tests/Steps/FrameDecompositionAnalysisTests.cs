using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Control.Steps;
using AutonomousBeamline.Control.Tests.Support;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Decomposition;
using AutonomousBeamline.Learning.Features;
using MathNet.Numerics.Distributions;

namespace AutonomousBeamline.Control.Tests.Steps;

/// <summary>Frames the references cannot explain go to the reference-free decomposition; a component-score target is read from it.</summary>
public sealed class FrameDecompositionAnalysisTests
{
    private const int Channels = 200;
    private static readonly AxisRoles Axes = new("sample_x", "sample_y");

    private static double[] Peak(double centre) =>
        Enumerable.Range(0, Channels).Select(j => Math.Exp(-0.5 * Math.Pow((j - centre) / 4, 2)) / (4 * Math.Sqrt(2 * Math.PI))).ToArray();

    private static readonly double[][] Patterns = [Peak(60), Peak(130)];

    /// <summary>A pattern of counts with the second pattern's share <paramref name="share"/>, on a 2θ axis from 5° in 0.01° steps.</summary>
    private static Frame Mixture(long number, double share, Random rng) => new(new FrameHeader
    {
        Frame = number, RequestId = "r", Kind = FrameKind.Xrd, N = Channels, XMode = "uniform", XName = "two_theta", XUnit = "deg",
        XStart = 5, XStep = 0.01, ExposureS = 1, TStart = EngineRig.Start, BeamCurrentMa = 200,
    }, Enumerable.Range(0, Channels).Select(j => (float)Poisson.Sample(rng, 20 + 40_000 * ((1 - share) * Patterns[0][j] + share * Patterns[1][j]))).ToArray(), null);

    private static FrameContext Context(long sequence) => new(sequence, new SpotMm(1, 1), 0.5, _ => 0.5, DecisionSource.Learner);

    [Fact]
    public void A_component_score_target_makes_observations_of_frames_no_reference_explains()
    {
        var target = ObservationTarget.Parse("component_score", null, null, component: 2);
        var analysis = new FrameAnalysis(new FakeAnalyzer { FlagEverything = XrdPhaseAnalyzer.FlagMisfit }, null, Axes, target, decomposition: new FrameDecomposition());
        var rng = new Random(4);
        AnalysisResult? last = null;
        double share = 0;
        for (var i = 0; i < 20; i++)
        {
            share = i / 19.0;
            last = analysis.Analyze(Mixture(i, share, rng), Context(i));
            Assert.NotNull(last.Observation);
        }
        Assert.Equal("share of component 2", last!.Observation!.Target);
        Assert.Equal(2, last.Components!.Update.Components.Count);
        // Component 1 is the pattern of the first frames; 2 the one that grew in (with the flat background shared out by ALS).
        Assert.InRange(last.Observation.PhaseFraction, share - 0.1, share + 0.02);
        Assert.True(last.Observation.PhaseFractionSigma is > 0 and < 0.05);
        Assert.Equal(130 * 0.01 + 5, last.Components.Summaries[1].PeakAt, 2);
    }

    [Fact]
    public void A_frame_the_references_leave_unexplained_is_decomposed_but_no_fraction_is_made_of_it()
    {
        var analysis = new FrameAnalysis(new FakeAnalyzer { FlagEverything = XrdPhaseAnalyzer.FlagMisfit }, null, Axes, decomposition: new FrameDecomposition());
        var result = analysis.Analyze(Mixture(1, 0.3, new Random(1)), Context(1));
        Assert.Null(result.Observation);
        Assert.Equal(XrdPhaseAnalyzer.FlagMisfit, result.Flag);
        Assert.True(result.Components!.Update.Changed);
    }

    [Fact]
    public void The_first_unexplained_frame_is_decomposed_with_the_explained_frames_before_it_and_explained_frames_after_it_too()
    {
        var analyzer = new FakeAnalyzer();
        var analysis = new FrameAnalysis(analyzer, null, Axes, decomposition: new FrameDecomposition());
        var rng = new Random(6);
        for (var i = 0; i < 12; i++)
        {
            var explained = analysis.Analyze(Mixture(i, i / 14.0, rng), Context(i));
            Assert.Equal(((FrameComponents?)null, (DecompositionStream?)null), (explained.Components, explained.Stream));
        }

        analyzer.FlagEverything = XrdPhaseAnalyzer.FlagMisfit;
        var first = analysis.Analyze(Mixture(12, 12 / 14.0, rng), Context(12));

        Assert.Equal(new DecompositionStream(DecompositionStart.ReferenceMisfit, 12), first.Stream);
        Assert.Equal(13, first.Components!.Update.FrameCount);
        Assert.True(first.Components.Update.Changed);
        // The seeds' variation resolves both patterns in the first published model.
        Assert.Equal([60 * 0.01 + 5, 130 * 0.01 + 5], first.Components.Summaries.Select(c => Math.Round(c.PeakAt, 2)).Order());

        analyzer.FlagEverything = null;
        var after = analysis.Analyze(Mixture(13, 1, rng), Context(13));
        Assert.NotNull(after.Observation);
        Assert.Equal(14, after.Components!.Update.FrameCount);
        Assert.Equal(first.Stream, after.Stream);
    }

    [Fact]
    public void A_frame_no_reference_explains_whose_header_puts_it_outside_the_roi_is_no_component_score_observation()
    {
        var target = ObservationTarget.Parse("component_score", null, null, component: 1);
        var roi = new RoiPlan(0, 10, 0, 10, 0.5);
        var analysis = new FrameAnalysis(new FakeAnalyzer { FlagEverything = XrdPhaseAnalyzer.FlagMisfit }, null, Axes, target, roi, new FrameDecomposition());
        var frame = Mixture(1, 0.3, new Random(1));
        var outside = frame with { Header = frame.Header with { Positions = new Dictionary<string, double> { ["sample_x"] = 99, ["sample_y"] = -99 } } };
        var result = analysis.Analyze(outside, Context(1));
        Assert.Null(result.Observation);
        Assert.Equal(FrameAnalysis.FlagOutsideRoi, result.Flag);
        Assert.Null(result.Components);
    }

    [Fact]
    public void A_frame_flagged_for_itself_is_not_decomposed_and_no_score_is_made_of_it()
    {
        var target = ObservationTarget.Parse("component_score", null, null, component: 1);
        var analysis = new FrameAnalysis(new FakeAnalyzer { FlagEverything = "saturated" }, null, Axes, target, decomposition: new FrameDecomposition());
        var result = analysis.Analyze(Mixture(1, 0.3, new Random(1)), Context(1));
        Assert.Equal(("saturated", (FrameComponents?)null), (result.Flag, result.Components));
        Assert.Null(result.Observation);
    }

    [Fact]
    public void A_component_score_frame_on_another_axis_is_flagged_not_decomposed()
    {
        var target = ObservationTarget.Parse("component_score", null, null, component: 1);
        var analysis = new FrameAnalysis(new FakeAnalyzer(), null, Axes, target, decomposition: new FrameDecomposition());
        var rng = new Random(2);
        Assert.NotNull(analysis.Analyze(Mixture(1, 0.3, rng), Context(1)).Observation);
        var shifted = Mixture(2, 0.3, rng);
        shifted = shifted with { Header = shifted.Header with { XStart = 6 } };
        Assert.Equal(FrameAnalysis.FlagNotDecomposed, analysis.Analyze(shifted, Context(2)).Flag);
    }

    /// <summary>
    /// References that follow a moving phase: the known phase's peak moves by a channel a frame (40 channels over the run, ten
    /// times its width), and the fake's fit follows it exactly, as the reference fit of a solid solution does; a new phase
    /// grows in from frame 10, which the references leave unexplained.
    /// </summary>
    private sealed class MovingPhaseAnalyzer : Learning.IXrdAnalyzer
    {
        public static double Centre(long frame) => 40 + frame;

        public static double[] Known(long frame) => Peak(Centre(frame)).Select(v => 40_000 * v).ToArray();

        public Learning.XrdFeatures Analyze(Frame frame) => new(0.5, 0.01, frame.Header.Frame >= 10 ? XrdPhaseAnalyzer.FlagMisfit : null);

        public bool FollowsMovingPhases => true;

        public Learning.ReferenceExplanation? Explain(Frame frame)
        {
            var phases = Known(frame.Header.Frame);
            return new Learning.ReferenceExplanation(phases.Select(v => v + 20).ToArray(), phases);
        }
    }

    /// <summary>The moving phase with the new one (its peak at channel 130, 40,000 × <paramref name="share"/> counts) and 20 counts of background.</summary>
    private static Frame MovingWithNew(long number, double share, Random rng)
    {
        var known = MovingPhaseAnalyzer.Known(number);
        var counts = Enumerable.Range(0, Channels).Select(j => (float)Poisson.Sample(rng, 20 + known[j] + 40_000 * share * Patterns[1][j])).ToArray();
        return Mixture(number, 0, rng) with { Intensities = counts };
    }

    [Fact]
    public void Beside_a_moving_phase_the_references_follow_what_they_leave_is_decomposed_and_the_new_phase_has_its_share_of_the_signal()
    {
        var decomposition = new FrameDecomposition(noise: new Dictionary<FrameKind, NoiseModel> { [FrameKind.Xrd] = NoiseModel.Gaussian });
        var analysis = new FrameAnalysis(new MovingPhaseAnalyzer(), null, Axes, decomposition: decomposition);
        var rng = new Random(8);
        AnalysisResult? last = null;
        var share = 0.0;
        for (var i = 0; i < 30; i++)
        {
            share = i < 10 ? 0 : (i - 9) / 20.0;
            last = analysis.Analyze(MovingWithNew(i, share, rng), Context(i));
        }
        // One component: the new phase at its own peak. The moving phase, which the fit took away, is no component at all.
        var components = last!.Components!;
        var newcomer = Assert.Single(components.Summaries, c => Math.Abs(c.PeakAt - (130 * 0.01 + 5)) < 0.02);
        Assert.DoesNotContain(components.Summaries, c => c.PeakAt < 5 + 0.01 * (MovingPhaseAnalyzer.Centre(29) + 10) && c.Fraction > 0.05);
        // Its share of the diffracted signal (the references' peaks and the components), not of what the references leave (1).
        var truth = share / (1 + share);
        Assert.InRange(newcomer.Fraction, truth - 0.05, truth + 0.05);
        Assert.Equal(newcomer.Fraction, components.Update.ScoreOf(newcomer.Id)!.Fraction, 12);
        Assert.True(components.Update.ScoreOf(newcomer.Id)!.FractionSigma is > 0 and < 0.05);
    }

    [Fact]
    public void Beside_a_moving_phase_a_resumed_analysis_recalls_what_the_references_left_and_goes_on_with_the_same_component()
    {
        FrameDecomposition Residuals() => new(noise: new Dictionary<FrameKind, NoiseModel> { [FrameKind.Xrd] = NoiseModel.Gaussian });
        var rng = new Random(9);
        var frames = Enumerable.Range(0, 26).Select(i => MovingWithNew(i, i < 10 ? 0 : (i - 9) / 20.0, rng)).ToList();
        var analyzer = new MovingPhaseAnalyzer();

        var before = new FrameAnalysis(analyzer, null, Axes, decomposition: Residuals());
        var results = frames.Take(25).Select((f, i) => before.Analyze(f, Context(i))).ToList();
        var published = results.Last(r => r.Components is { Update.Changed: true }).Components!;
        var uninterrupted = before.Analyze(frames[25], Context(25)).Components!;

        // After a crash: the same frames recalled with the flags they were stored with, then what the journal says was published.
        var after = new FrameAnalysis(analyzer, null, Axes, decomposition: Residuals());
        for (var i = 0; i < 25; i++) after.Recall(frames[i], results[i].Flag, []);
        after.EndRecall(
            new Dictionary<FrameKind, PublishedComponents> { [FrameKind.Xrd] = new(published.Update.Version, published.Update.Components.Max(c => c.Id), published.Summaries) },
            new Dictionary<FrameKind, DecompositionStream> { [FrameKind.Xrd] = results.First(r => r.Stream is not null).Stream! });
        var resumed = after.Analyze(frames[25], Context(25)).Components!;

        var newcomer = uninterrupted.Summaries.Single(c => Math.Abs(c.PeakAt - (130 * 0.01 + 5)) < 0.02);
        var again = resumed.Summaries.Single(c => c.Id == newcomer.Id);
        Assert.Equal(newcomer.PeakAt, again.PeakAt, 2);
        Assert.Equal(newcomer.Fraction, again.Fraction, 0.02);
    }

    [Fact]
    public void Beside_a_moving_phase_the_patterns_themselves_do_not_give_the_new_phase_its_share()
    {
        // The same frames decomposed as counts: the moving peak's positions and the new phase mix (here the new phase's
        // component takes the whole last frame, share 1 against 0.5), so the test above shows the residual's doing, not the
        // synthetic's ease.
        var analysis = new FrameAnalysis(new FakeAnalyzer { FlagEverything = XrdPhaseAnalyzer.FlagMisfit }, null, Axes, decomposition: new FrameDecomposition());
        var rng = new Random(8);
        AnalysisResult? last = null;
        for (var i = 0; i < 30; i++) last = analysis.Analyze(MovingWithNew(i, i < 10 ? 0 : (i - 9) / 20.0, rng), Context(i));
        var newcomer = last!.Components!.Summaries.Where(c => Math.Abs(c.PeakAt - (130 * 0.01 + 5)) < 0.02).ToList();
        Assert.True(newcomer.Count == 0 || newcomer.All(c => Math.Abs(c.Fraction - 0.5) > 0.2),
            string.Join(" ", last.Components.Summaries.Select(c => $"{c.Id}@{c.PeakAt:F3}:{c.Fraction:F3}")));
    }

    [Fact]
    public void A_component_score_target_needs_a_component_id()
    {
        Assert.Contains("learning.target.component", Assert.Throws<ArgumentException>(() => ObservationTarget.Parse("component_score", null, null)).Message);
    }
}

using System.Collections.Immutable;
using AutonomousBeamline.Control.Engine;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Control.Suspenders;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Features;

namespace AutonomousBeamline.Control.Steps;

/// <summary>
/// Keeps what frames say: each analysed frame is stored (whatever became of it), a usable one becomes an observation
/// in the journal, the run's data and the trainer; an unusable one is counted with its reason, and a spot that keeps giving
/// them is left (<see cref="UnusableSpots"/>). Only the loop calls it;
/// the lists it hands out are immutable, so the cycler's C-rate planner reads them without a lock.
/// </summary>
public sealed class ObservationKeeper(FrameAnalysis analysis, IFrameStore frames, RunRecorder recorder, UnusableDataSuspender unusable,
    UnusableSpots spots, DoseLedger dose, Func<Observation, Learning.Surrogate.IntervalCheck?> trainer, IEnumerable<Observation> earlier)
{
    private ImmutableList<Observation> _observations = Seeded(earlier, dose);
    private ImmutableList<XasFeatures> _scans = [];
    // The dense (full-window) absorption scans with their spectra: what a sparse scan's σ learns the references' mismatch from.
    private ImmutableList<DenseXasScan> _denseScans = [];

    /// <summary>Diffraction against absorption where both measured a spot; journalled, never pooled into the map.</summary>
    public ModalityComparison Modalities { get; init; } = new();

    public IReadOnlyList<Observation> Observations => Volatile.Read(ref _observations);

    /// <summary>Frames in the store (a resumed run's earlier ones included), observations or not.</summary>
    public int FramesStored => frames.Count;

    /// <summary>What the map is of: the target's name and unit, as its newest observation carries them (the unit of a peak
    /// position is the detector axis').</summary>
    public MapQuantity Quantity => analysis.Target.QuantityOf(Observations);

    /// <summary>Every absorption scan's features so far, for the energy planner.</summary>
    public IReadOnlyList<XasFeatures> Scans => _scans;

    /// <summary>
    /// A resumed run's memory of its earlier frames, brought back before it takes or recovers any: every absorption scan
    /// (the energy planner's) and the dense ones (what sparse scans' σ and edge correction learn from), and what the
    /// reference-free decomposition held. Without it a resumed run would plan its scans and seed its decomposition as if
    /// nothing had been measured. Nothing is written: these frames have their records already.
    /// </summary>
    /// <param name="earlier">The run's stored frames before the crash, in order (those whose records the crash cut off excluded:
    /// they are kept again).</param>
    public void Restore(IEnumerable<StoredFrame> earlier, IReadOnlyDictionary<FrameKind, Learning.Decomposition.PublishedComponents> published,
        IReadOnlyDictionary<FrameKind, DecompositionStream> began)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        foreach (var stored in earlier)
        {
            // Frames without beam and preflight's were never analysed as the run's.
            if (stored.Frame is not { } frame || stored.Fate is not (FrameFate.Observation or FrameFate.Flagged)) continue;
            if (analysis.Recall(frame, stored.Fate == FrameFate.Observation ? null : stored.Flag, _denseScans) is not { } spectrum) continue;
            _scans = _scans.Add(spectrum);
            if (DenseXasScan.From(frame, spectrum) is { } dense) _denseScans = _denseScans.Add(dense);
        }
        analysis.EndRecall(published, began);
    }

    /// <summary>A frame whose own header shows the beam below <paramref name="thresholdMa"/>: stored, never an observation.</summary>
    public void KeepWithoutBeam(Frame frame, double thresholdMa, SpotMm at)
    {
        Dose(frame, at);
        recorder.Counts(c => c with { FramesRejected = c.FramesRejected + 1 });
        frames.Store(frame, FrameFate.NoBeam);
        recorder.Write(new FrameNotCounted(frame.Header.Frame, null,
            FormattableString.Invariant($"beam {frame.Header.BeamCurrentMa:0.0} mA below threshold {thresholdMa} mA during the exposure")));
    }

    /// <summary>A resumed run's dose so far, from its observations (the frames it kept).</summary>
    private static ImmutableList<Observation> Seeded(IEnumerable<Observation> earlier, DoseLedger dose)
    {
        var list = earlier.ToImmutableList();
        foreach (var o in list) dose.Record(new SpotMm(o.XMm, o.YMm), o.ExposureS ?? 0);
        return list;
    }

    /// <summary>Every frame taken with the shutter open is dose, whatever the analysis makes of it.</summary>
    private void Dose(Frame frame, SpotMm at)
    {
        if (dose.Record(at, frame.Header.ExposureS ?? 0) is not { } region || dose.BudgetS is not { } b) return;
        Exclude(region);
        recorder.Write(new DoseSpent(at.X, at.Y, dose.DoseAt(at), b, region.XMinMm, region.XMaxMm, region.YMinMm, region.YMaxMm));
        recorder.Report(FormattableString.Invariant($"the spot ({at.X:0.###}, {at.Y:0.###}) mm has had its dose budget of {b} s of beam; no frame is taken there again"));
    }

    /// <summary>Excluded before its record is written, so that whoever reacts to the record finds the region excluded.</summary>
    private void Exclude(Learning.Acquisition.RoiRectangle region) =>
        recorder.Status.Update(s => s with { Knobs = s.Knobs with { Exclusions = s.Knobs.Exclusions.Add(region) } });

    /// <summary>The spot gave nothing but unusable frames: excluded like an operator's region, so no planner sends the sample back.</summary>
    private void Leave(SpotMm spot, Learning.Acquisition.RoiRectangle region, string flag)
    {
        Exclude(region);
        recorder.Write(new SpotLeft(spot.X, spot.Y, spots.PerSpot, flag, region.XMinMm, region.XMaxMm, region.YMinMm, region.YMaxMm));
        recorder.Report(FormattableString.Invariant($"left the spot ({spot.X:0.###}, {spot.Y:0.###}) mm: its frames keep flagging '{flag}'"));
    }

    // Per kind, the components already said to be pieces of one moving reflection: a chain is said again only when it holds
    // one not said before (ALS re-cuts the pieces from frame to frame; the news is a reflection cut further, not the re-cut).
    private readonly Dictionary<FrameKind, HashSet<int>> _movingSaid = [];

    /// <summary>Says so, loudly, when the decomposition has cut one moving reflection into components: they are not phases.</summary>
    private void Unresolved(Learning.Decomposition.FrameComponents components, long frame)
    {
        if (!_movingSaid.TryGetValue(components.Kind, out var said)) _movingSaid[components.Kind] = said = [];
        foreach (var moving in components.Moving)
        {
            if (moving.Ids.All(said.Contains)) continue;
            said.UnionWith(moving.Ids);
            recorder.Write(DecompositionUnresolved.From(components.Kind, frame, moving));
            recorder.Report(FormattableString.Invariant(
                $"the {components.Kind.Name()} decomposition cut one reflection into components {string.Join(", ", moving.Ids)} (their strongest peaks overlap from {moving.PeaksFrom:0.###} to {moving.PeaksTo:0.###}, {moving.StrainSpan:P1} in d): a phase whose peaks move (a solid solution) is not resolved this way, their shares are no phase amounts, and a phase the references do not know may get no component of its own; give a reference phase whose lattice changes its max_strain (materials), and the decomposition is given what the references leave"));
        }
    }

    /// <param name="why">The reason of the decision the frame carried out, for the progress line.</param>
    /// <param name="recovered">A frame stored before a crash whose observation record was lost: already in the frame file.</param>
    public void Keep(Frame frame, FrameContext context, string why, bool recovered = false)
    {
        Dose(frame, context.Position);
        var result = analysis.Analyze(frame, context, _denseScans);
        if (result.Components is { Update.Changed: true } components)
        {
            recorder.Write(ComponentsUpdated.From(components, result.Stream, frame.Header.Frame));
            Unresolved(components, frame.Header.Frame);
        }
        if (result.Xas is { } spectrum)
        {
            _scans = _scans.Add(spectrum);
            if (DenseXasScan.From(frame, spectrum) is { } dense) _denseScans = _denseScans.Add(dense);
        }
        unusable.Record(frame.Header.Kind, result.Flag);
        var left = spots.Record(context.Position, result.Flag);
        if (result.Observation is not { } o)
        {
            recorder.Counts(c => c with { FramesRejected = c.FramesRejected + 1 });
            frames.Store(frame, FrameFate.Flagged, result.Flag);
            recorder.Write(new FrameNotCounted(frame.Header.Frame, frame.Header.Kind, result.Flag!));
            if (left is { } region) Leave(context.Position, region, result.Flag!);
            return;
        }
        // The frame reaches the store before its observation record, so a crash between the two loses nothing (a resume analyses it again).
        if (!recovered) frames.Store(frame, FrameFate.Observation, observationSequence: o.Sequence);
        recorder.Write(new ObservationMade(o));
        if (recovered) recorder.Write(new ObservationRecovered(o.Sequence, o.Frame, "stored before the crash, journalled after it"));
        Volatile.Write(ref _observations, _observations.Add(o));
        recorder.Counts(c => c with { Observations = c.Observations + 1 });
        if (trainer(o) is { } check)
            recorder.Write(new MapIntervalChecked(o.Sequence, check.ModelVersion, check.Value, check.Mean, check.Spread, check.Inside));
        foreach (var compared in Modalities.Compare(o))
        {
            recorder.Write(compared);
            if (ModalityComparison.Disagreement(compared) is { } warning) recorder.Report(warning);
        }
        // In the target's unit, to the σ's precision: a lattice parameter's 0.0004 Å is not rounded away.
        var quantity = o.Target is { } name ? new MapQuantity(name, o.TargetUnit ?? "") : new MapQuantity("reported fraction", "");
        var target = $"{quantity.Name} {quantity.Format(o.PhaseFraction, o.PhaseFractionSigma)}";
        var what = o.Kind == FrameKind.Xas ? FormattableString.Invariant($"XAS E0 {o.EdgeEnergyEv:0.00} eV, {target}") : target;
        var status = recorder.Status.Current;
        recorder.Report(FormattableString.Invariant(
            $"frame {status.Counts.FramesAcquired}/{status.Knobs.Budget.Frames} at ({o.XMm:0.0}, {o.YMm:0.0}) mm, SOC {o.StateOfCharge:0.000}, {what}; {why}"));
    }
}

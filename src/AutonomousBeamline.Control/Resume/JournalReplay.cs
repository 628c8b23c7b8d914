using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Decomposition;

namespace AutonomousBeamline.Control.Resume;

/// <summary>What a run had done when it stopped, rebuilt from its journal and its frame file.</summary>
public sealed record ResumeState
{
    public required IReadOnlyList<Observation> Observations { get; init; }
    /// <summary>Frames received, beam time used, decisions, faults and suspensions, as the run had counted them.</summary>
    public required RunCounts Counts { get; init; }
    /// <summary>The operator's settings as the run last had them: budget, approval window, held knobs, excluded regions.</summary>
    public required OperatorKnobs Knobs { get; init; }
    /// <summary>Protocol steps that ended; the next one (the interrupted one) starts again.</summary>
    public required int StepsCompleted { get; init; }
    public required double StateOfCharge { get; init; }
    public double? RequestedCRate { get; init; }
    /// <summary>The newest model version a decision used: the model's version line goes on after it.</summary>
    public required int LastModelVersion { get; init; }
    public required DateTimeOffset LastRecordTime { get; init; }
    public required DateTimeOffset FirstRecordTime { get; init; }
    public required long LastSequence { get; init; }
    /// <summary>Whether the journal already says the run ended (nothing to resume).</summary>
    public required bool Ended { get; init; }
    /// <summary>The kinds of frame preflight's reference check explained when the run began: a resume does not take them again.</summary>
    public IReadOnlySet<FrameKind> ReferencesChecked { get; init; } = new HashSet<FrameKind>();
    /// <summary>Frames stored as observations whose observation record the crash cut off: to be analysed again.</summary>
    public IReadOnlyList<(long Sequence, Frame Frame)> UnjournalledFrames { get; init; } = [];
    /// <summary>Reads the frame file again, in order, decoding the run's frames before the crash (the unjournalled ones left
    /// out): what the analysis remembers of them is rebuilt from these (<see cref="Steps.ObservationKeeper.Restore"/>).</summary>
    public Func<IEnumerable<StoredFrame>> EarlierFrames { get; init; } = () => [];
    /// <summary>Per kind of frame, what its reference-free decomposition last published, as the journal recorded it.</summary>
    public IReadOnlyDictionary<FrameKind, PublishedComponents> Components { get; init; } = new Dictionary<FrameKind, PublishedComponents>();
    /// <summary>Per kind of frame, how its decomposition stream began, where the journal recorded it.</summary>
    public IReadOnlyDictionary<FrameKind, DecompositionStream> DecompositionsBegan { get; init; } = new Dictionary<FrameKind, DecompositionStream>();
}

/// <summary>
/// Rebuilds a run's state from its journal (the source of truth) after a crash or a kill: the observations, the
/// counts, the protocol position, the charge count, the operator's settings and the model's version line. Frames are
/// counted from the frame file, which is written before the journal's observation record, so a frame stored as an
/// observation but never journalled is handed back to be analysed again rather than silently lost.
/// </summary>
public static class JournalReplay
{
    /// <param name="journal">The journal's readable records, in order.</param>
    /// <param name="scanFrames">Reads the frame file once, decoding the payloads only of the records its argument selects.</param>
    /// <param name="plan">The run's plan: the budget and approval window it started with, and the cell's first state of charge.</param>
    public static ResumeState Rebuild(IEnumerable<JournalEntry> journal, Func<Func<FrameFate, long?, bool>, IEnumerable<StoredFrame>> scanFrames, RunPlan plan)
    {
        var observations = new List<Observation>();
        var seen = new HashSet<(long Frame, long Sequence)>();
        var counts = new RunCounts();
        var knobs = new OperatorKnobs { Budget = plan.Budget, ApprovalWindowS = plan.ApprovalWindowS };
        int stepsCompleted = 0, modelVersion = 0;
        var soc = plan.Cell.InitialStateOfCharge;
        double? cRate = null;
        DateTimeOffset? first = null;
        var last = DateTimeOffset.MinValue;
        long lastSequence = 0;
        var ended = false;
        var referencesChecked = new HashSet<FrameKind>();
        var components = new Dictionary<FrameKind, PublishedComponents>();
        var began = new Dictionary<FrameKind, DecompositionStream>();

        foreach (var entry in journal)
        {
            lastSequence = Math.Max(lastSequence, entry.Sequence);
            first ??= entry.Time;
            if (entry.Time > last) last = entry.Time;
            switch (entry.Record)
            {
                // A record written twice (a resume that re-analysed a frame) counts once.
                case ObservationMade { Observation: var o } when seen.Add((o.Frame, o.Sequence)):
                    observations.Add(o);
                    break;
                case DecisionMade { Decision: var d }:
                    counts = counts.WithDecision(d.Kind);
                    modelVersion = Math.Max(modelVersion, d.ModelVersion);
                    break;
                case FaultRecorded: counts = counts with { Faults = counts.Faults + 1 }; break;
                case Suspended: counts = counts with { Suspensions = counts.Suspensions + 1 }; break;
                case StepEnded: stepsCompleted++; break;
                case ProtocolResumed p: stepsCompleted = p.StepsCompleted; break;
                case CellSample c: soc = c.StateOfCharge; break;
                case CRateRequested r: cRate = r.CRate; break;
                case BudgetChanged or ApprovalWindowChanged or KnobLockChanged or IExcludesRegion: knobs = KnobChange.Replay(entry.Record, knobs); break;
                case ReferenceChecked { Conclusive: true, Explained: true } r: referencesChecked.Add(r.Kind); break;
                case ComponentsUpdated c:
                    var lastId = Math.Max(components.GetValueOrDefault(c.Kind)?.LastId ?? 0, c.Components.Select(x => x.Id).DefaultIfEmpty(0).Max());
                    components[c.Kind] = new PublishedComponents(c.Version, lastId, c.Components);
                    if (c.StartedBy is { } startedBy) began[c.Kind] = new DecompositionStream(startedBy, c.SeedFrames);
                    break;
                case RunEnded: ended = true; break;
                case RunResumeStarted: ended = false; break;
            }
        }

        // One pass over the frame file: every record of the run's own frames counts (frames, beam time; preflight's frames
        // were never counted against the budget); only frames stored as observations whose record the crash cut off are
        // decoded, to be analysed again.
        var journalled = observations.Select(o => o.Sequence).ToHashSet();
        bool Unjournalled(FrameFate fate, long? sequence) => fate == FrameFate.Observation && sequence is { } q && !journalled.Contains(q);
        var stored = scanFrames(Unjournalled)
            .Where(f => f.Fate != FrameFate.Preflight).ToList();
        var rejected = stored.Count(f => f.Fate != FrameFate.Observation);
        return new ResumeState
        {
            Observations = observations,
            Counts = counts with
            {
                FramesAcquired = stored.Count,
                FramesRejected = rejected,
                BeamTimeUsedS = stored.Sum(f => f.ExposureS),
                Observations = observations.Count,
            },
            Knobs = knobs,
            StepsCompleted = stepsCompleted,
            StateOfCharge = soc,
            RequestedCRate = cRate,
            LastModelVersion = modelVersion,
            LastRecordTime = last,
            FirstRecordTime = first ?? last,
            LastSequence = lastSequence,
            Ended = ended,
            ReferencesChecked = referencesChecked,
            UnjournalledFrames = stored.Where(f => f.Frame is not null).Select(f => (f.ObservationSequence!.Value, f.Frame!)).ToList(),
            // Frames the analysis took: observations (those whose record the crash cut off are kept again, so left out) and flagged ones.
            EarlierFrames = () => scanFrames((fate, sequence) => fate is FrameFate.Observation or FrameFate.Flagged && !Unjournalled(fate, sequence))
                .Where(f => !Unjournalled(f.Fate, f.ObservationSequence)),
            Components = components,
            DecompositionsBegan = began,
        };
    }
}

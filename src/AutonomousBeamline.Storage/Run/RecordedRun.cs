using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Storage;

/// <summary>A decision as the journal timed it.</summary>
public sealed record TimedDecision(DateTimeOffset Time, Decision Decision);

/// <summary>A cell sample as the journal timed it.</summary>
public sealed record TimedCellSample(DateTimeOffset Time, CellSample Sample);

/// <summary>A protocol step from its start to its end (null while the run stopped inside it).</summary>
public sealed record RecordedStep(int Index, DateTimeOffset Started, StepStarted Start, DateTimeOffset? Ended, StepEnded? End);

/// <summary>
/// One run read back from its folder (journal.jsonl and frames.jsonl, the record of the run), in the shapes the exports
/// and the report need: every cell sample, observation, decision and protocol step with its journal time, and every
/// frame with its payload. Lines that could not be read are passed over and listed in <see cref="Warnings"/>.
/// </summary>
public sealed record RecordedRun
{
    private RecordedRun() { }

    public required string Directory { get; init; }
    public required string RunId { get; init; }
    public required string Experiment { get; init; }
    public required RoiStrategy Strategy { get; init; }
    /// <summary>The first journal record's time.</summary>
    public required DateTimeOffset StartedAt { get; init; }
    /// <summary>The last journal record's time.</summary>
    public required DateTimeOffset EndedAt { get; init; }
    /// <summary>Null when the journal has no run_end (a crashed run not resumed yet).</summary>
    public required RunEnded? End { get; init; }
    public required IReadOnlyList<TimedCellSample> CellSamples { get; init; }
    public required IReadOnlyList<Observation> Observations { get; init; }
    public required IReadOnlyList<TimedDecision> Decisions { get; init; }
    public required IReadOnlyList<RecordedStep> Steps { get; init; }
    /// <summary>Every frame of frames.jsonl that could be read, in file order, with its payload.</summary>
    public required IReadOnlyList<StoredFrame> Frames { get; init; }
    public required IReadOnlyList<JournalEntry> Journal { get; init; }
    public required IReadOnlyList<FileWarning> Warnings { get; init; }

    /// <summary>Seconds from the start of the run.</summary>
    public double SecondsFromStart(DateTimeOffset time) => (time - StartedAt).TotalSeconds;

    /// <summary>Reads the run folder <paramref name="directory"/>; throws <see cref="IOException"/> when it has no journal.</summary>
    public static RecordedRun Read(string directory)
    {
        var journalPath = Path.Combine(directory, RunFolder.JournalFileName);
        if (!File.Exists(journalPath))
            throw new IOException($"{directory} is not a run folder: it has no {RunFolder.JournalFileName}");
        var journal = JournalFile.Read(journalPath);
        var warnings = journal.Warnings.ToList();
        var frames = FrameFile.Scan(Path.Combine(directory, RunFolder.FramesFileName), warnings.Add)
            .Where(f => f.Frame is not null).ToList();
        if (journal.Entries.Count == 0)
            throw new IOException($"{journalPath} holds no readable record");

        RunStarted? start = null;
        RunEnded? end = null;
        var samples = new List<TimedCellSample>();
        var observations = new List<Observation>();
        var decisions = new List<TimedDecision>();
        var steps = new List<RecordedStep>();
        foreach (var entry in journal.Entries)
        {
            switch (entry.Record)
            {
                case RunStarted s: start ??= s; break;
                case RunEnded e: end = e; break;
                case CellSample c: samples.Add(new TimedCellSample(entry.Time, c)); break;
                case ObservationMade o: observations.Add(o.Observation); break;
                case DecisionMade d: decisions.Add(new TimedDecision(entry.Time, d.Decision)); break;
                case StepStarted s: steps.Add(new RecordedStep(steps.Count + 1, entry.Time, s, null, null)); break;
                case StepEnded e:
                    var open = steps.FindLastIndex(s => s.End is null && s.Start.Path == e.Path);
                    if (open >= 0) steps[open] = steps[open] with { Ended = entry.Time, End = e };
                    break;
            }
        }
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(directory));
        return new RecordedRun
        {
            Directory = directory,
            RunId = start?.RunId ?? name,
            Experiment = start?.Experiment ?? name,
            Strategy = start?.Strategy ?? RoiStrategy.Learner,
            StartedAt = journal.Entries[0].Time,
            EndedAt = journal.Entries[^1].Time,
            End = end,
            CellSamples = samples,
            Observations = observations,
            Decisions = decisions,
            Steps = steps,
            Frames = frames,
            Journal = journal.Entries,
            Warnings = warnings,
        };
    }
}

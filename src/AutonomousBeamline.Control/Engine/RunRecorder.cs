using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Control.Engine;

/// <summary>
/// Writes what happened twice, in one place: the record to the journal (the source of truth) and the change to the
/// status the dashboard reads, so the two never disagree. Thread-safe: the loop and the cycler both record.
/// </summary>
public sealed class RunRecorder(IRunJournal journal, StatusBoard status, TimeProvider time, Func<double> stateOfCharge)
{
    public IRunJournal Journal => journal;

    public StatusBoard Status => status;

    /// <summary>A line for whoever watches (the terminal, a test).</summary>
    public event Action<RunProgress>? Progress;

    public JournalEntry Write(JournalRecord record) => journal.Write(record);

    public void Decision(Decision decision)
    {
        status.Update(s => s.WithDecision(new TimedDecision(time.GetUtcNow(), decision)));
        journal.Write(new DecisionMade(decision));
    }

    public void Fault(string source, string message)
    {
        var state = status.Update(s => s.WithFault(new FaultNote(time.GetUtcNow(), source, message))).State;
        // After the run the journal is closed; a late fault (a failing device client's last gasp) is only shown.
        journal.TryWrite(new FaultRecorded(source, message, state));
    }

    /// <summary>The beam as the last status read showed it.</summary>
    public void Observe(Core.Devices.MotionStatus motion) => status.Update(s => s with { BeamCurrentMa = motion.BeamCurrentMa });

    public void Counts(Func<RunCounts, RunCounts> change) => status.Update(s => s with { Counts = change(s.Counts) });

    public void Report(string message)
    {
        var counts = status.Current.Counts;
        Progress?.Invoke(new RunProgress(message, counts.FramesAcquired, counts.Observations, stateOfCharge()));
    }
}

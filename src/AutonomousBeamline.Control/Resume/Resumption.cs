using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Control.Engine;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Steps;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Control.Resume;

/// <summary>
/// A crashed run coming back: the cell is checked before anything else, the analysis' memory of the earlier frames is
/// rebuilt (the absorption scans, the decomposition), a frame stored but never journalled is analysed again (nothing
/// measured is lost), and after preflight the protocol goes on from the interrupted step. No decision
/// from before the crash is replayed: the loop decides afresh from the present state.
/// </summary>
public sealed class Resumption(ResumeState resume, RunRecorder recorder, TimeProvider time)
{
    public async Task CheckCellAsync(Preflight preflight, ObservationKeeper kept, Func<DecisionSource, long, FrameContext> context, CancellationToken ct)
    {
        await preflight.CheckCellAfterCrashAsync(resume.LastRecordTime, resume.Observations.Count, ct).ConfigureAwait(false);
        kept.Restore(resume.EarlierFrames(), resume.Components, resume.DecompositionsBegan);
        foreach (var (sequence, frame) in resume.UnjournalledFrames.OrderBy(f => f.Sequence))
            kept.Keep(frame, context(DecisionSource.Recovered, sequence), "recovered", recovered: true);
    }

    public void Continue(Cycler cycler, int observations)
    {
        cycler.ResumeAt(resume.StepsCompleted, resume.StateOfCharge, resume.RequestedCRate);
        var frames = recorder.Status.Current.Counts.FramesAcquired;
        recorder.Write(new RunResumed(observations, frames, resume.StepsCompleted, resume.StateOfCharge, (time.GetUtcNow() - resume.LastRecordTime).TotalSeconds));
        recorder.Report($"resumed with {observations} observations and {frames} frames; the protocol goes on from step {resume.StepsCompleted + 1}; " +
                        "re-deciding from the present state");
    }
}

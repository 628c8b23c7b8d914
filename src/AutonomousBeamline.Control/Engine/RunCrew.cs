using System.Threading.Channels;
using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.Resume;
using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Control.Steps;
using AutonomousBeamline.Control.Suspenders;

namespace AutonomousBeamline.Control.Engine;

/// <summary>
/// The engine's collaborators, wired once: who records, who keeps the cell safe, who meets the operators, who checks the
/// equipment, who carries out steps, who watches the conditions, who keeps the observations, and (after a crash) who
/// brings the run back.
/// </summary>
public sealed record RunCrew(RunDevices Devices, RunRecorder Recorder, CellSafety Cell, OperatorDesk Desk, ChannelReader<OperatorCommand> Inbox, Preflight Preflight,
    BeamlineRecovery Recovery, StepRunner Steps, SuspenderSet Suspenders, ObservationKeeper Kept, Resumption? Resumption)
{
    public static RunCrew Assemble(RunPlan plan, RunDevices devices, RunLearning learning, IRunJournal journal, IFrameStore frames,
        TimeProvider time, string runId, ResumeState? resume, Cycler cycler)
    {
        var status = new StatusBoard(new RunStatus
        {
            Knobs = resume?.Knobs ?? new OperatorKnobs { Budget = plan.Budget, ApprovalWindowS = plan.ApprovalWindowS },
            Counts = resume?.Counts ?? new RunCounts(),
        });
        var recorder = new RunRecorder(journal, status, time, () => cycler.Latest.StateOfCharge);
        var cell = new CellSafety(devices, recorder, plan.SafeState);
        var inbox = Channel.CreateUnbounded<OperatorCommand>();
        var suspenders = new SuspenderSet(plan, devices, cycler, () => cell.CellFault, recorder.Observe, recorder, time);
        var kept = new ObservationKeeper(new FrameAnalysis(learning.Analyzer, learning.XasAnalyzer, plan.Axes, learning.Target, plan.Roi, learning.Decomposition), frames, recorder, suspenders.Unusable,
            new UnusableSpots(plan.Acquisition.UnusableData.PerSpot, plan.Roi.StepMm),
            new DoseLedger(plan.Acquisition.DoseBudgetS, plan.Acquisition.ExposureS, plan.Roi.StepMm), learning.ObservationAdded, resume?.Observations ?? []);
        var referencePreflight = learning.ReferenceCheck is { } check ? new ReferenceFramePreflight(plan, devices, check, frames, journal, resume?.ReferencesChecked) : null;
        return new RunCrew(devices, recorder, cell, new OperatorDesk(plan, runId, recorder, cycler, time, inbox.Writer, cell.Halt, learning.CurrentMap, () => kept.Quantity, learning.Calibration),
            inbox.Reader, new Preflight(plan, devices, journal, recorder.Report, referencePreflight), new BeamlineRecovery(devices, journal, time, recorder.Observe,
                () => recorder.Status.Current.Counts.FramesAcquired),
            new StepRunner(time, journal), suspenders, kept, resume is null ? null : new Resumption(resume, recorder, time));
    }
}

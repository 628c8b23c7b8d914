using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Decomposition;

namespace AutonomousBeamline.Control.Journal;

/// <summary>
/// One event of a run, as the journal keeps it. Every record type below is one kind of event; the storage adapter
/// gives each its name in the file (<c>"type"</c>) and writes its properties as snake_case fields, so the C# names
/// here are the field names a reader of journal.jsonl sees.
/// </summary>
public abstract record JournalRecord;

/// <summary>A record as written: its place in the journal and when (on the run's clock) it was written.</summary>
public sealed record JournalEntry(long Sequence, DateTimeOffset Time, JournalRecord Record);

// ---- the run as a whole ------------------------------------------------------------------------------------------

public sealed record RunStarted(string Experiment, RoiStrategy Strategy, string RunId) : JournalRecord;

/// <summary>A crashed run started again on the same run folder.</summary>
public sealed record RunResumeStarted(string Experiment, RoiStrategy Strategy, string RunId) : JournalRecord;

public sealed record StateTransition(RunState From, RunState To, RunTrigger Trigger) : JournalRecord;

public sealed record PreflightCheck(string Item, string Result);

public sealed record PreflightCompleted(IReadOnlyList<PreflightCheck> Checks) : JournalRecord;

/// <summary>
/// Preflight's reference check of one first frame (the frame itself is in the frame store, kept as a preflight frame):
/// whether the configured references explain it, the residual, and the likely cause when they do not. Written whichever
/// the verdict, before a failed check stops the run.
/// </summary>
/// <param name="Frame">The detector's number of the frame checked.</param>
/// <param name="Unexplained">The share of the pattern the references leave unexplained; null for a spectrum, or where no fit was made.</param>
public sealed record ReferenceChecked(FrameKind Kind, long Frame, bool Explained, bool Conclusive, string Summary, double? Unexplained = null,
    string? LikelyCause = null) : JournalRecord;

/// <summary>After a crash, before anything else: what the cell was doing when the controller came back.</summary>
public sealed record ResumeCheck(bool OutputOn, double VoltageV, DateTimeOffset JournalEndedAt, int Observations) : JournalRecord;

/// <summary>The resumed run goes on from here.</summary>
public sealed record RunResumed(int Observations, int Frames, int StepsCompleted, double StateOfCharge, double OfflineS) : JournalRecord;

public sealed record RunEnded(ExitStatus ExitStatus, string Reason, int Observations, int Frames) : JournalRecord;

/// <summary>Output off (or open circuit) and shutter closed; <see cref="Shutter"/> says if closing it failed.</summary>
public sealed record SafeStateEntered(string Why, string Output, string Shutter) : JournalRecord;

// ---- deciding, measuring, learning --------------------------------------------------------------------------------

/// <summary>A decision with its score, alternatives, reason and model version (written flat: the decision's own fields).</summary>
public sealed record DecisionMade(Decision Decision) : JournalRecord;

/// <summary>A usable frame became an observation (written flat: the observation's own fields).</summary>
public sealed record ObservationMade(Observation Observation) : JournalRecord;

/// <summary>What started a kind's reference-free decomposition (journalled as <c>components_updated.started_by</c>).</summary>
public enum DecompositionStart
{
    /// <summary>The map's target is a component's share: every sound frame of the target's kind is decomposed from the first.</summary>
    ComponentScoreTarget,
    /// <summary>The first frame of the kind the references left unexplained, with the recent explained frames as seeds.</summary>
    ReferenceMisfit,
}

/// <summary>How a kind's decomposition stream began.</summary>
/// <param name="SeedFrames">The earlier, explained frames it was seeded with when it began (0 for a component-score target).</param>
public sealed record DecompositionStream(DecompositionStart StartedBy, int SeedFrames);

/// <summary>
/// The reference-free decomposition of one kind of frame changed: its rank, or a component's shape (see
/// <c>Learning/Decomposition</c>). Written when it changes, not every frame, so the journal shows the components' evolution.
/// </summary>
/// <param name="Version">The decomposition's model version (rises by one per record of that kind).</param>
/// <param name="Rank">The significant components counted in the window (before the cap on components resolved).</param>
/// <param name="Frames">How many frames of the kind the decomposition has taken.</param>
/// <param name="Frame">The frame that made the change.</param>
/// <param name="Components">Each component: id, where it peaks on the frames' axis, its share of that frame, the first frame it was seen in.</param>
/// <param name="StartedBy">What started the kind's decomposition; null in journals written before it was recorded.</param>
/// <param name="SeedFrames">How many earlier, explained frames the stream was seeded with when it started (counted in <paramref name="Frames"/>).</param>
public sealed record ComponentsUpdated(FrameKind Kind, int Version, int Rank, long Frames, long Frame, IReadOnlyList<ComponentSummary> Components,
    DecompositionStart? StartedBy = null, int SeedFrames = 0) : JournalRecord
{
    public static ComponentsUpdated From(FrameComponents c, DecompositionStream? stream, long frame) =>
        new(c.Kind, c.Update.Version, c.Update.Rank.Rank, c.Update.FrameCount, frame, c.Summaries, stream?.StartedBy, stream?.SeedFrames ?? 0);
}

/// <summary>
/// The decomposition of a kind's frames cut one reflection into several components (<see cref="MovingPatterns"/>): a phase whose
/// peaks move continuously (a solid solution) across the window, each position a component of its own. Their scores follow
/// where the peaks are, not how much of any phase there is, and an unknown phase beside them may get no component at all.
/// Written when such a set of components first appears or changes.
/// </summary>
/// <param name="Reason">Why the components are not phases: <see cref="OneMovingPattern"/>.</param>
/// <param name="Components">The components' ids, smallest d-spacing of their strongest peak first.</param>
/// <param name="PeaksFrom">Where the first component's strongest peak is, on the frames' axis.</param>
/// <param name="PeaksTo">Where the last one's is.</param>
/// <param name="StrainSpan">The relative change of the d-spacing from the first peak to the last.</param>
public sealed record DecompositionUnresolved(FrameKind Kind, long Frame, string Reason, IReadOnlyList<int> Components, double PeaksFrom, double PeaksTo,
    double StrainSpan) : JournalRecord
{
    public const string OneMovingPattern = "one-moving-pattern";

    public static DecompositionUnresolved From(FrameKind kind, long frame, MovingPattern moving) =>
        new(kind, frame, OneMovingPattern, moving.Ids, moving.PeaksFrom, moving.PeaksTo, moving.StrainSpan);
}

/// <summary>A new observation against the map published before it (which had not been fitted on it): the held-out check
/// of the map's 90 % interval, mean ± 1.645·spread, that the dashboard and the report sum up.</summary>
/// <param name="Observation">The observation's sequence number.</param>
public sealed record MapIntervalChecked(long Observation, int ModelVersion, double Value, double Mean, double Spread, bool Inside) : JournalRecord;

/// <summary>A frame stored before a crash whose observation record the crash cut off, analysed again on resume.</summary>
public sealed record ObservationRecovered(long Sequence, long Frame, string Reason) : JournalRecord;

/// <summary>A frame that was received and stored but is not an observation (no beam during it, or the analysis flagged it).</summary>
public sealed record FrameNotCounted(long Frame, FrameKind? Kind, string Reason) : JournalRecord;

/// <summary>A frame the detector client refused (malformed, for no pending request, ...); it never reached the loop.</summary>
public sealed record FrameRejected(string Reason, string? RequestId, long? Frame) : JournalRecord;

/// <summary>A measurement step failed one attempt; <see cref="Action"/> says what the step's error policy does next.</summary>
public sealed record StepAttemptFailed(string Step, int Attempt, int Attempts, string Message, string Action) : JournalRecord;

// ---- suspensions, faults, recovery --------------------------------------------------------------------------------

/// <summary>Measuring stopped until a condition clears (<see cref="Suspender"/> names which; journals before the run engine did not say): shutter closed.</summary>
public sealed record Suspended(string Reason, string? Suspender = null, double? BeamCurrentMa = null, double? ThresholdMa = null, string? Cell = null) : JournalRecord;

/// <summary>Another condition tripped while the run was already suspended; the suspension now waits for it too.</summary>
public sealed record SuspenderTripped(string Suspender, string Reason) : JournalRecord;

/// <summary>The suspension ended (its condition cleared for its settle time, or an operator resumed).</summary>
public sealed record SuspensionEnded(string Reason, double? BeamCurrentMa = null, double? SuspendedS = null) : JournalRecord;

public sealed record FaultRecorded(string Source, string Message, RunState State) : JournalRecord;

/// <summary>A faulted device answers again.</summary>
public sealed record DeviceRecovered(string Device, int Attempt, double AfterS) : JournalRecord;

public sealed record RecoveryFailed(string Device, int Attempt, string Message) : JournalRecord;

/// <summary>A device client or the cycler tried an exchange again after a glitch.</summary>
public sealed record DeviceRetried(string Device, string What, int Attempt, string Message) : JournalRecord;

/// <summary>The cycler stopped with an error while the run was already ending.</summary>
public sealed record CyclerError(string Message) : JournalRecord;

/// <summary>A dry run's simulators committed a scheduled fault.</summary>
public sealed record FaultInjected(string Device, string Kind, int Count, double AtS) : JournalRecord;

// ---- the operator -------------------------------------------------------------------------------------------------

/// <summary>A command as received, with its arguments and what became of it (also when refused). <see cref="Args"/> is null when read
/// from a journal written before commands were journalled with their arguments.</summary>
public sealed record OperatorCommandReceived(
    string By, string User, string Host, string Command, OperatorCommand? Args, bool Accepted, string Message) : JournalRecord;

public enum OverrideKind { Roi, Veto, EnergyRange }

/// <summary>An operator's choice replaced the planner's (<see cref="Replaced"/>).</summary>
public sealed record OperatorOverride(string By, OverrideKind What, Decision Replaced,
    double? XMm = null, double? YMm = null, double? StartEv = null, double? StopEv = null, double? StepEv = null) : JournalRecord;

/// <summary>The run's budget as it stands after an operator changed it (both limits, the unchanged one included). A resume starts from the last one.</summary>
public sealed record BudgetChanged(string By, int Frames, double BeamTimeS) : JournalRecord;

/// <summary>
/// A record that takes a region of the ROI out of the run for good (an operator's exclusion, a spot left, a spot's dose
/// spent): a resume replays them all alike. Explicit, so the region is not a field of its own on the journal's line.
/// </summary>
public interface IExcludesRegion
{
    RoiRectangle Region { get; }
}

/// <summary>A region of the ROI no frame may be taken in any more. A resume keeps it.</summary>
public sealed record RegionExcluded(string By, double XMinMm, double XMaxMm, double YMinMm, double YMaxMm) : JournalRecord, IExcludesRegion
{
    RoiRectangle IExcludesRegion.Region => new(XMinMm, XMaxMm, YMinMm, YMaxMm);
}

/// <summary>
/// A spot left for the rest of the run: it gave this many frames in a row the analysis could not use (the last flagged
/// <paramref name="Flag"/>). The region around it is excluded as an operator's would be; a resume keeps it.
/// </summary>
public sealed record SpotLeft(double XMm, double YMm, int UnusableFrames, string Flag, double XMinMm, double XMaxMm, double YMinMm, double YMaxMm)
    : JournalRecord, IExcludesRegion
{
    RoiRectangle IExcludesRegion.Region => new(XMinMm, XMaxMm, YMinMm, YMaxMm);
}

/// <summary>
/// A spot that has received its dose budget (beam damage): <paramref name="BeamS"/> seconds against <paramref name="BudgetS"/>.
/// The region around it is excluded for every strategy and every operator's goto; a resume keeps it.
/// </summary>
public sealed record DoseSpent(double XMm, double YMm, double BeamS, double BudgetS, double XMinMm, double XMaxMm, double YMinMm, double YMaxMm)
    : JournalRecord, IExcludesRegion
{
    RoiRectangle IExcludesRegion.Region => new(XMinMm, XMaxMm, YMinMm, YMaxMm);
}

/// <summary>
/// Diffraction and absorption measured the same spot at nearly the same state of charge: a fraction both give, each with
/// its frame and σ (null where the analysis gave none), their difference (XAS − XRD) and its z-score where both have a σ.
/// </summary>
public sealed record ModalitiesCompared(double XMm, double YMm, double StateOfCharge, string Quantity,
    long XrdFrame, double Xrd, double? XrdSigma, long XasFrame, double Xas, double? XasSigma, double Difference, double? Z) : JournalRecord;

/// <summary>A knob held at its present value (or released to the learner). A resume keeps it.</summary>
public sealed record KnobLockChanged(string By, Knob Knob, bool Locked) : JournalRecord;

/// <summary>How long each decision now waits for a veto. A resume keeps it.</summary>
public sealed record ApprovalWindowChanged(string By, double Seconds) : JournalRecord;

// ---- the cell's protocol (written by the cycler) ------------------------------------------------------------------

public sealed record CRateRefused(double CRate, string RequestedBy, string Reason) : JournalRecord;

public sealed record CRateRequested(double CRate, string RequestedBy, string Applies) : JournalRecord;

public sealed record ProtocolHoldRequested(string By) : JournalRecord;

public sealed record ProtocolReleaseRequested(string By) : JournalRecord;

public sealed record ProtocolHeld(string Step, string Path, string Phase, string Output) : JournalRecord;

public sealed record ProtocolReleased(string Step, string Path, string Phase, double HeldS) : JournalRecord;

/// <summary>A resumed run's protocol goes on after <see cref="StepsCompleted"/> steps.</summary>
public sealed record ProtocolResumed(int StepsCompleted, double StateOfCharge, string? Next) : JournalRecord;

public sealed record ProtocolDone(int StepsCompleted, int Cycles) : JournalRecord;

public sealed record CycleStarted(int Cycle, int Of) : JournalRecord;

public sealed record StepBoundaryHandlerFailed(string Source, string Message) : JournalRecord;

public sealed record StepStarted(
    string Step, string Path, int Cycle, string Kind, double CRate, double CurrentA, string? CRateSource,
    double? HoldVoltageV, double MaxDurationS, double SamplePeriodS) : JournalRecord;

public sealed record StepEnded(
    string Step, string Path, int Cycle, string Kind, string Reason, string EndedBy, double DurationS, double ChargeAh,
    double? VoltageV, double? StateOfCharge) : JournalRecord;

public sealed record PhaseStarted(string Step, string Path, int Cycle, string Phase, string Source, double? Level) : JournalRecord;

public sealed record PhaseEnded(
    string Step, string Path, int Cycle, string Phase, string Reason, double DurationS, double ChargeAh,
    double? VoltageV, double? CurrentA) : JournalRecord;

/// <summary>The safety envelope refused a set-point before it reached the instrument.</summary>
public sealed record SetpointRefused(
    string Step, string Path, int Cycle, string Phase, string Source, double Level, double Compliance, string Reason) : JournalRecord;

/// <summary>
/// One sample of the cell: measured voltage and current, the charge-counted state of charge, and the cell's temperature
/// where the equipment has a thermometer (null where it has none or the reading failed; older journals have none).
/// </summary>
public sealed record CellSample(double VoltageV, double CurrentA, double StateOfCharge, string Step, string? Phase, int Cycle,
    double? TemperatureC = null) : JournalRecord;

using System.Collections.Frozen;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Domain;
using static AutonomousBeamline.Storage.JournalRecordType;

namespace AutonomousBeamline.Storage;

/// <summary>
/// The one table of journal record types and their names in journal.jsonl. The names are the ones journals have
/// always used, so that tools reading older runs (and people grepping them) find what they expect. A record type
/// missing here cannot be written.
/// </summary>
internal static class JournalRecordTypes
{
    private static readonly JournalRecordType[] All =
    [
        Fields<RunStarted>("run_start"),
        Fields<RunResumeStarted>("run_resume"),
        Fields<StateTransition>("transition"),
        Fields<PreflightCompleted>("preflight"),
        Fields<ReferenceChecked>("reference_check"),
        Fields<ResumeCheck>("resume_check"),
        Fields<RunResumed>("resumed"),
        Fields<RunEnded>("run_end"),
        Fields<SafeStateEntered>("safe_state"),
        Flat<DecisionMade, Decision>("decision", r => r.Decision, d => new DecisionMade(d)),
        Flat<ObservationMade, Observation>("observation", r => r.Observation, o => new ObservationMade(o)),
        Fields<MapIntervalChecked>("map_interval_checked"),
        Fields<ObservationRecovered>("observation_recovered"),
        Fields<FrameNotCounted>("frame_not_counted"),
        Fields<ComponentsUpdated>("components_updated"),
        Fields<DecompositionUnresolved>("decomposition_unresolved"),
        Fields<FrameRejected>("frame_rejected"),
        Fields<StepAttemptFailed>("step_attempt_failed"),
        Fields<Suspended>("suspend"),
        Fields<SuspenderTripped>("suspender_tripped"),
        Fields<SuspensionEnded>("resume"),
        Fields<FaultRecorded>("fault"),
        Fields<DeviceRecovered>("recovered"),
        Fields<RecoveryFailed>("recovery_failed"),
        Fields<DeviceRetried>("device_retry"),
        Fields<CyclerError>("cycler_error"),
        Fields<FaultInjected>("fault_injected"),
        Fields<OperatorCommandReceived>("operator_command", OperatorCommandArgs.NameOlderArgs),
        Fields<OperatorOverride>("override"),
        Fields<BudgetChanged>("budget_changed"),
        Fields<RegionExcluded>("region_excluded"),
        Fields<SpotLeft>("spot_left"),
        Fields<DoseSpent>("dose_spent"),
        Fields<ModalitiesCompared>("modalities_compared"),
        Fields<KnobLockChanged>("knob_lock"),
        Fields<ApprovalWindowChanged>("approval_window"),
        Fields<CRateRefused>("c_rate_refused"),
        Fields<CRateRequested>("c_rate_requested"),
        Fields<ProtocolHoldRequested>("protocol_hold_requested"),
        Fields<ProtocolReleaseRequested>("protocol_release_requested"),
        Fields<ProtocolHeld>("protocol_held"),
        Fields<ProtocolReleased>("protocol_released"),
        Fields<ProtocolResumed>("protocol_resumed"),
        Fields<ProtocolDone>("protocol_done"),
        Fields<CycleStarted>("cycle_start"),
        Fields<StepBoundaryHandlerFailed>("step_boundary_handler_failed"),
        Fields<StepStarted>("step_start"),
        Fields<StepEnded>("step_end"),
        Fields<PhaseStarted>("phase_start"),
        Fields<PhaseEnded>("phase_end"),
        Fields<SetpointRefused>("setpoint_refused"),
        Fields<CellSample>("cell"),
    ];

    private static readonly FrozenDictionary<Type, JournalRecordType> ByType = All.ToFrozenDictionary(t => t.Type);
    private static readonly FrozenDictionary<string, JournalRecordType> ByName = All.ToFrozenDictionary(t => t.Name);

    /// <summary>The record types the table knows (for the test that no record type is missing).</summary>
    public static IEnumerable<Type> Known => ByType.Keys;

    /// <summary>Throws <see cref="ArgumentException"/> for a record type the table lacks: a programming error, caught where the record is written.</summary>
    public static JournalRecordType Of(JournalRecord record) =>
        ByType.TryGetValue(record.GetType(), out var type)
            ? type
            : throw new ArgumentException($"{record.GetType().Name} has no name in the journal: add it to {nameof(JournalRecordTypes)}", nameof(record));

    public static JournalRecordType? Named(string name) => ByName.GetValueOrDefault(name);
}

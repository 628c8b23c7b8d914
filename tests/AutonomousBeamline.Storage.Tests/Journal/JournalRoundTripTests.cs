using System.Text.Json.Nodes;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Operator;

namespace AutonomousBeamline.Storage.Tests;

public sealed class JournalRoundTripTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>The names journals have always used; a rename would make older journals unreadable.</summary>
    private static readonly Dictionary<Type, string> Names = new()
    {
        [typeof(RunStarted)] = "run_start", [typeof(RunResumeStarted)] = "run_resume", [typeof(StateTransition)] = "transition",
        [typeof(PreflightCompleted)] = "preflight", [typeof(ReferenceChecked)] = "reference_check", [typeof(ResumeCheck)] = "resume_check", [typeof(RunResumed)] = "resumed",
        [typeof(RunEnded)] = "run_end", [typeof(SafeStateEntered)] = "safe_state", [typeof(DecisionMade)] = "decision",
        [typeof(ObservationMade)] = "observation", [typeof(ObservationRecovered)] = "observation_recovered", [typeof(MapIntervalChecked)] = "map_interval_checked",
        [typeof(FrameNotCounted)] = "frame_not_counted", [typeof(ComponentsUpdated)] = "components_updated", [typeof(DecompositionUnresolved)] = "decomposition_unresolved",
        [typeof(FrameRejected)] = "frame_rejected",
        [typeof(StepAttemptFailed)] = "step_attempt_failed", [typeof(Suspended)] = "suspend", [typeof(SuspenderTripped)] = "suspender_tripped", [typeof(SuspensionEnded)] = "resume",
        [typeof(FaultRecorded)] = "fault", [typeof(DeviceRecovered)] = "recovered", [typeof(RecoveryFailed)] = "recovery_failed",
        [typeof(DeviceRetried)] = "device_retry", [typeof(CyclerError)] = "cycler_error", [typeof(FaultInjected)] = "fault_injected",
        [typeof(OperatorCommandReceived)] = "operator_command", [typeof(OperatorOverride)] = "override",
        [typeof(BudgetChanged)] = "budget_changed", [typeof(RegionExcluded)] = "region_excluded", [typeof(SpotLeft)] = "spot_left", [typeof(DoseSpent)] = "dose_spent", [typeof(ModalitiesCompared)] = "modalities_compared", [typeof(KnobLockChanged)] = "knob_lock",
        [typeof(ApprovalWindowChanged)] = "approval_window", [typeof(CRateRefused)] = "c_rate_refused",
        [typeof(CRateRequested)] = "c_rate_requested", [typeof(ProtocolHoldRequested)] = "protocol_hold_requested",
        [typeof(ProtocolReleaseRequested)] = "protocol_release_requested", [typeof(ProtocolHeld)] = "protocol_held",
        [typeof(ProtocolReleased)] = "protocol_released", [typeof(ProtocolResumed)] = "protocol_resumed",
        [typeof(ProtocolDone)] = "protocol_done", [typeof(CycleStarted)] = "cycle_start",
        [typeof(StepBoundaryHandlerFailed)] = "step_boundary_handler_failed", [typeof(StepStarted)] = "step_start",
        [typeof(StepEnded)] = "step_end", [typeof(PhaseStarted)] = "phase_start", [typeof(PhaseEnded)] = "phase_end",
        [typeof(SetpointRefused)] = "setpoint_refused", [typeof(CellSample)] = "cell",
    };

    [Fact]
    public async Task Every_record_type_reads_back_as_it_was_written_under_its_name()
    {
        var lines = await JournalFiles.WriteAsync(_folder, SampleRecords.All);

        var journal = JournalFile.Read(_folder.Journal);

        Assert.Empty(journal.Warnings);
        Assert.Equal(SampleRecords.All.Length, journal.LastSequence);
        Assert.Equal(SampleRecords.All.Length, journal.Entries.Count);
        for (var i = 0; i < SampleRecords.All.Length; i++)
        {
            var (written, read) = (SampleRecords.All[i], journal.Entries[i]);
            Assert.Equal(Names[written.GetType()], (string?)JsonNode.Parse(lines[i])!["type"]);
            Assert.Equal(i + 1, read.Sequence);
            Assert.Equal(TestClock.Start, read.Time);
            Assert.IsType(written.GetType(), read.Record);
            Assert.Equivalent(written, read.Record, strict: true);
        }
    }

    [Fact]
    public async Task An_operator_command_comes_back_as_the_command_it_was()
    {
        await JournalFiles.WriteAsync(_folder, SampleRecords.All);

        var commands = JournalFile.Read(_folder.Journal).Entries.Select(e => e.Record).OfType<OperatorCommandReceived>().Select(r => r.Args!);

        Assert.Equal([typeof(GotoRoiCommand), typeof(PauseCommand), typeof(SetBudgetCommand), typeof(LockKnobCommand)], commands.Select(c => c.GetType()));
        Assert.Contains(new SetBudgetCommand(100, null) { By = SampleRecords.Ann }, commands);
    }
}

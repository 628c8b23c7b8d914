using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Control.Tests.Support;
using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Control.Tests.Engine;

/// <summary>
/// Failures injected at each layer (the journal, the frame store, a device client, a signal): every one ends the run
/// with the output off and the shutter closed, and the cell is made safe before the failure is journalled.
/// </summary>
public sealed class SafeStateFirstTests
{
    /// <summary>What the cell and the shutter were doing when the run first tried to journal a fault.</summary>
    private sealed class AtFirstFault
    {
        public bool? OutputOn, ShutterOpen;

        public void Watch(EngineRig rig) => rig.Journal.OnAttempt = r =>
        {
            if (r is FaultRecorded && OutputOn is null) (OutputOn, ShutterOpen) = (rig.Cell.Output, rig.Motion.ShutterOpen);
        };
    }

    private static void AssertSafe(EngineRig rig)
    {
        Assert.False(rig.Cell.Output);
        Assert.False(rig.Motion.ShutterOpen);
        Assert.Equal("safe", rig.Cell.Calls[^1]);
    }

    [Fact]
    public async Task A_journal_that_fails_mid_exposure_ends_the_run_with_the_output_off_and_the_shutter_closed()
    {
        var rig = new EngineRig();
        var first = new AtFirstFault();
        first.Watch(rig);
        rig.Detector.Before = what => { if (rig.Detector.Acquisitions == 2) rig.Journal.FailWith = new JournalFailedException("journal.jsonl: No space left on device"); };
        var outcome = await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 10)));

        Assert.Equal(ExitStatus.Fail, outcome.ExitStatus);
        Assert.Contains("No space left on device", outcome.Reason);
        AssertSafe(rig);
        Assert.False(first.OutputOn);
        Assert.False(first.ShutterOpen);
    }

    [Fact]
    public async Task A_frame_store_that_cannot_write_ends_the_run_safe_and_says_why_in_the_journal()
    {
        var rig = new EngineRig();
        var first = new AtFirstFault();
        first.Watch(rig);
        var disk = new FailingFrameStore(rig.Journal, failFromFrame: 3);
        var outcome = await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 10), frames: disk));

        Assert.Equal(ExitStatus.Fail, outcome.ExitStatus);
        AssertSafe(rig);
        Assert.False(first.OutputOn);
        Assert.Contains(rig.Journal.Records<FaultRecorded>(), f => f.Message.Contains("No space left on device"));
        Assert.Equal(RunState.Aborted, rig.Journal.Transitions[^1].To);
        Assert.Equal("fault", rig.Journal.Records<SafeStateEntered>()[^1].Why);
        Assert.Equal(2, outcome.Observations.Count);
    }

    [Fact]
    public async Task A_device_client_that_crashes_with_a_bug_not_a_device_error_ends_the_run_safe()
    {
        var rig = new EngineRig();
        var first = new AtFirstFault();
        first.Watch(rig);
        var moves = 0;
        rig.Motion.Before = what =>
        {
            if (what == "move" && ++moves == 2) throw new InvalidOperationException("Req.XSend - cannot send another request");
        };
        var outcome = await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 10)));

        Assert.Equal(ExitStatus.Fail, outcome.ExitStatus);
        Assert.Contains("cannot send another request", outcome.Reason);
        AssertSafe(rig);
        Assert.False(first.OutputOn);
        Assert.False(first.ShutterOpen);
    }

    [Fact]
    public async Task A_shutter_that_cannot_close_still_leaves_the_output_off_and_the_journal_says_so()
    {
        var rig = new EngineRig();
        var broken = false;
        rig.Motion.Before = what =>
        {
            if (what == "move" && rig.Detector.Acquisitions == 1) broken = true;
            if (broken) throw new ObjectDisposedException("motion client");
        };
        var outcome = await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 10)));

        Assert.Equal(ExitStatus.Fail, outcome.ExitStatus);
        Assert.False(rig.Cell.Output);
        Assert.StartsWith("close failed", rig.Journal.Records<SafeStateEntered>()[^1].Shutter);
    }

    [Fact]
    public async Task An_emergency_halt_from_outside_the_operator_protocol_acts_mid_exposure_and_names_its_reason()
    {
        var rig = new EngineRig();
        var engine = rig.Build(EngineRig.Plan(frames: 10));
        string? shutterAtHalt = null;
        rig.Detector.Before = what =>
        {
            if (what == "xrd" && rig.Detector.Acquisitions == 1) shutterAtHalt = engine.EmergencyHalt("SIGTERM received").Wait(TimeSpan.FromSeconds(10)) ? "reached" : "timed out";
        };
        var outcome = await EngineRig.RunAsync(engine);

        Assert.Equal("reached", shutterAtHalt);
        Assert.Equal(ExitStatus.Abort, outcome.ExitStatus);
        Assert.Equal("SIGTERM received", outcome.Reason);
        AssertSafe(rig);
    }

    [Fact]
    public async Task The_configured_safe_state_is_what_the_journal_says_the_cell_was_left_in()
    {
        var rig = new EngineRig();
        var outcome = await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 2) with { SafeState = SafeState.OpenCircuitRest }));

        Assert.Equal(ExitStatus.Success, outcome.ExitStatus);
        Assert.Equal("open circuit rest", Assert.Single(rig.Journal.Records<SafeStateEntered>()).Output);
        AssertSafe(rig);
    }

    /// <summary>A frame store on a disk that fills up: from its n-th frame every write fails as a full disk does.</summary>
    private sealed class FailingFrameStore(IFrameStore inner, int failFromFrame) : IFrameStore
    {
        private int _stored;

        public void Store(Frame frame, FrameFate fate, string? flag = null, long? observationSequence = null)
        {
            if (++_stored >= failFromFrame) throw new JournalFailedException("frames.jsonl: could not write frame (No space left on device)");
            inner.Store(frame, fate, flag, observationSequence);
        }

        public void StorePreflight(Frame frame, Learning.Features.ReferenceVerdict check)
        {
            if (++_stored >= failFromFrame) throw new JournalFailedException("frames.jsonl: could not write frame (No space left on device)");
            inner.StorePreflight(frame, check);
        }

        public int Count => inner.Count;
    }
}

using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.Resume;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Control.Tests.Support;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Acquisition;

namespace AutonomousBeamline.Control.Tests.Resume;

/// <summary>A crashed run's state rebuilt from its typed journal records and its frame file.</summary>
public sealed class JournalReplayTests
{
    private static readonly RunPlan Plan = EngineRig.Plan(frames: 80);
    private static long _seq;

    private static JournalEntry At(int second, JournalRecord record) => new(++_seq, EngineRig.Start.AddSeconds(second), record);

    private static Observation Observed(long sequence, long frame, double x) => new()
    {
        Sequence = sequence, Frame = frame, Time = EngineRig.Start, Kind = FrameKind.Xrd, XMm = x, YMm = 2, StateOfCharge = 0.3, CRate = 1,
        PhaseFraction = 0.31, PhaseFractionSigma = 0.001, BeamCurrentMa = 199, ExposureS = 20,
    };

    private static Decision Decided(DecisionKind kind, int version) =>
        new() { Kind = kind, Values = new Dictionary<string, double>(), Score = 1, Alternatives = [], Reason = "", ModelVersion = version };

    private static Frame FrameNumbered(long n) => new(new FrameHeader
    {
        Frame = n, RequestId = "r" + n, Kind = FrameKind.Xrd, N = 3, XMode = "uniform", XStart = 5, XStep = 0.005, TStart = EngineRig.Start, BeamCurrentMa = 200,
    }, [1f, 2.5f, 3f], null);

    [Fact]
    public void Counts_protocol_position_charge_and_the_operators_settings_are_rebuilt()
    {
        var journal = new[]
        {
            At(0, new RunStarted("x", RoiStrategy.Learner, "r")),
            At(1, new DecisionMade(Decided(DecisionKind.Roi, 4))),
            At(2, new ObservationMade(Observed(1, 1, 1.5))),
            At(3, new StepEnded("charge", "charge", 1, "cc", "cut-off", "voltage_cutoff", 100, 0.001, 3.8, 0.5)),
            At(4, new CRateRequested(2, "learner", "next constant-current step")),
            At(5, new DecisionMade(Decided(DecisionKind.CRate, 9))),
            At(6, new ObservationMade(Observed(2, 2, 4.5))),
            At(6, new ObservationMade(Observed(2, 2, 4.5))), // written twice by an earlier resume: counted once
            At(7, new Suspended("beam 0.0 mA below threshold 10 mA", "beam")),
            At(8, new CellSample(3.4, 0.005, 0.42, "charge", null, 1)),
            At(9, new FaultRecorded("motion", "FAULT", RunState.Moving)),
            At(10, new BudgetChanged("alice@c", 120, 7200)),
            At(11, new KnobLockChanged("alice@c", Knob.CRate, true)),
            At(12, new RegionExcluded("alice@c", 0, 1, 0, 1)),
            At(13, new ApprovalWindowChanged("alice@c", 15)),
        };
        var frames = new[]
        {
            new StoredFrame(FrameFate.Observation, null, 1, 20, null), new StoredFrame(FrameFate.Observation, null, 2, 20, null),
            new StoredFrame(FrameFate.NoBeam, null, null, 20, null),
        };

        var state = JournalReplay.Rebuild(journal, _ => frames, Plan);

        Assert.Equal([1L, 2L], state.Observations.Select(o => o.Frame));
        Assert.Equal((3, 1, 60.0, 2), (state.Counts.FramesAcquired, state.Counts.FramesRejected, state.Counts.BeamTimeUsedS, state.Counts.Observations));
        Assert.Equal((1, 1), (state.Counts.Decisions[DecisionKind.Roi], state.Counts.Decisions[DecisionKind.CRate]));
        Assert.Equal((1, 1), (state.Counts.Faults, state.Counts.Suspensions));
        Assert.Equal((1, 2.0, 0.42), (state.StepsCompleted, state.RequestedCRate!.Value, state.StateOfCharge));
        Assert.Equal(9, state.LastModelVersion);
        Assert.Equal(new Budget(120, 7200), state.Knobs.Budget);
        Assert.Equal(15, state.Knobs.ApprovalWindowS);
        Assert.Contains(Knob.CRate, state.Knobs.Locks);
        Assert.Equal(new RoiRectangle(0, 1, 0, 1), Assert.Single(state.Knobs.Exclusions));
        Assert.Equal(EngineRig.Start.AddSeconds(13), state.LastRecordTime);
        Assert.False(state.Ended);
    }

    [Fact]
    public void A_frame_stored_as_an_observation_whose_record_the_crash_cut_off_is_handed_back_to_be_analysed_again()
    {
        var journal = new[] { At(0, new RunStarted("x", RoiStrategy.Learner, "r")), At(1, new ObservationMade(Observed(1, 1, 1.5))) };
        Func<FrameFate, long?, bool>? asked = null;
        var state = JournalReplay.Rebuild(journal, decode =>
        {
            asked = decode;
            return [new StoredFrame(FrameFate.Observation, null, 1, 20, null), new StoredFrame(FrameFate.Flagged, "flat", null, 20, null),
                new StoredFrame(FrameFate.Observation, null, 2, 20, FrameNumbered(3))];
        }, Plan);

        // Only the frame the journal does not know is decoded.
        Assert.False(asked!(FrameFate.Observation, 1));
        Assert.False(asked(FrameFate.Flagged, null));
        Assert.True(asked(FrameFate.Observation, 2));
        var (sequence, frame) = Assert.Single(state.UnjournalledFrames);
        Assert.Equal((2L, 3L), (sequence, frame.Header.Frame));
    }

    [Fact]
    public void A_journal_that_ends_with_run_end_has_nothing_to_resume_unless_a_later_resume_started()
    {
        var ended = new[] { At(0, new RunStarted("x", RoiStrategy.Learner, "r")), At(9, new RunEnded(ExitStatus.Success, "done", 0, 0)) };
        Assert.True(JournalReplay.Rebuild(ended, _ => [], Plan).Ended);
        Assert.False(JournalReplay.Rebuild([.. ended, At(20, new RunResumeStarted("x", RoiStrategy.Learner, "r"))], _ => [], Plan).Ended);
    }

    [Fact]
    public void A_journal_written_before_components_updated_said_what_started_the_decomposition_still_replays()
    {
        // Lines as journals held them before started_by and seed_frames: read by the storage adapter, then replayed.
        var dir = Directory.CreateTempSubdirectory("old-components-").FullName;
        try
        {
            var path = Path.Combine(dir, "journal.jsonl");
            File.WriteAllLines(path,
            [
                """{"seq":1,"t":"2026-11-24T21:00:00.000Z","type":"run_start","experiment":"x","strategy":"learner","run_id":"r"}""",
                """{"seq":2,"t":"2026-11-24T21:00:05.000Z","type":"observation","sequence":1,"frame":1,"time":"2026-11-24T21:00:05\u002B00:00","kind":"xrd","x_mm":1.5,"y_mm":2,"state_of_charge":0.3,"c_rate":1,"phase_fraction":0.31,"phase_fraction_sigma":0.001,"beam_current_ma":199.5,"source":"learner","exposure_s":20}""",
                """{"seq":3,"t":"2026-11-24T21:00:09.000Z","type":"components_updated","kind":"xrd","version":1,"rank":3,"frames":11,"frame":2,"components":[{"id":1,"peak_at":9.54,"fraction":0.42,"first_seen_frame":1},{"id":2,"peak_at":13.74,"fraction":0.33,"first_seen_frame":11}]}""",
                """{"seq":4,"t":"2026-11-24T21:00:10.000Z","type":"cell","voltage_v":3.41,"current_a":0.0012,"state_of_charge":0.35,"step":"charge","cycle":1}""",
            ]);
            var journal = Storage.JournalFile.Read(path);

            Assert.Empty(journal.Warnings);
            var components = Assert.IsType<ComponentsUpdated>(journal.Entries[2].Record);
            Assert.Equal((null, 0, 3, 2), (components.StartedBy, components.SeedFrames, components.Rank, components.Components.Count));
            var resume = JournalReplay.Rebuild(journal.Entries, _ => [new StoredFrame(FrameFate.Observation, null, 1, 20, null)], Plan);
            Assert.Equal((1, 0.35, 4L), (resume.Observations.Count, resume.StateOfCharge, resume.LastSequence));
        }
        finally { Directory.Delete(dir, true); }
    }
}

using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Control.Tests.Support;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Control.Tests.Engine;

/// <summary>The loop against fakes: which states it passes through, what it journals, and how it ends.</summary>
public sealed class RunEngineTests
{
    private static readonly OperatorIdentity Alice = new("alice", "console-1");

    private static List<RunState> States(MemoryJournal journal) => journal.Transitions.Select(t => t.To).ToList();

    [Fact]
    public async Task A_run_spends_its_frame_budget_one_turn_at_a_time_and_ends_with_the_cell_safe()
    {
        var rig = new EngineRig();
        var outcome = await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 4)));

        Assert.Equal(ExitStatus.Success, outcome.ExitStatus);
        Assert.Equal("the frame budget (4) is spent", outcome.Reason);
        Assert.Equal(4, outcome.FramesAcquired);
        Assert.Equal([1.0, 2, 3, 4], outcome.Observations.Select(o => o.XMm));
        Assert.Equal(4, outcome.Decisions[DecisionKind.Roi]);
        var turn = new[] { RunState.Deciding, RunState.Moving, RunState.Acquiring, RunState.Analyzing };
        Assert.Equal([RunState.Preflight, .. turn, .. turn, .. turn, .. turn, RunState.Deciding, RunState.Completing, RunState.Completed], States(rig.Journal));
        Assert.False(rig.Cell.Output);
        Assert.False(rig.Motion.ShutterOpen);
        Assert.Equal("end of run", Assert.Single(rig.Journal.Records<SafeStateEntered>()).Why);
        Assert.Equal(ExitStatus.Success, Assert.Single(rig.Journal.Records<RunEnded>()).ExitStatus);
        // Every frame is stored before its observation is journalled.
        Assert.Equal(4, rig.Journal.Frames.Count(f => f.Fate == FrameFate.Observation));
    }

    [Fact]
    public async Task Each_observation_is_checked_against_the_map_published_before_it_and_the_check_is_journalled()
    {
        var rig = new EngineRig();
        // A map (version 3) that says 0.4 ± 0.01 everywhere.
        var map = new Learning.Surrogate.IntervalCalibration();
        var seen = new List<long>();
        rig.Trainer = o =>
        {
            seen.Add(o.Sequence);
            return o.Sequence == 1 ? null : map.Check(new ConstantMap(3, 0.4, 0.01), o); // no map yet at the first
        };
        await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 3)));

        var checks = rig.Journal.Records<MapIntervalChecked>();
        Assert.Equal(seen.Skip(1), checks.Select(c => c.Observation));
        Assert.All(checks, c => Assert.Equal((3, 0.4, 0.01), (c.ModelVersion, c.Mean, c.Spread)));
        var entries = rig.Journal.Entries.Select(e => e.Record).ToList();
        var observed = entries.OfType<ObservationMade>().ToDictionary(m => m.Observation.Sequence, m => m.Observation.PhaseFraction);
        Assert.All(checks, c => Assert.Equal(observed[c.Observation], c.Value));
        Assert.All(checks, c => Assert.Equal(Math.Abs(c.Value - 0.4) <= 1.6448536269514722 * 0.01, c.Inside));
        // Journalled after the observation it checks, so a reader meets the observation first.
        Assert.All(checks, c => Assert.True(
            entries.FindIndex(r => r is ObservationMade m && m.Observation.Sequence == c.Observation) < entries.IndexOf(c)));
    }

    private sealed class ConstantMap(int version, double mean, double spread) : Learning.IPhaseMap
    {
        public int Version => version;
        public (double Mean, double Spread) Predict(double xMm, double yMm, double stateOfCharge) => (mean, spread);
    }

    [Fact]
    public async Task An_absorption_scan_follows_every_second_pattern_where_the_sample_already_is()
    {
        var rig = new EngineRig();
        var outcome = await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 3, kinds: AcquisitionKinds.XrdAndXas)));

        var transitions = rig.Journal.Transitions;
        var inPlace = Assert.Single(transitions, t => t.Trigger == RunTrigger.DecidedInPlace);
        Assert.Equal((RunState.Deciding, RunState.Acquiring), (inPlace.From, inPlace.To));
        Assert.Equal(2, rig.Motion.Calls.Count(c => c.StartsWith("move", StringComparison.Ordinal)));
        Assert.Equal(1, outcome.Decisions[DecisionKind.EnergyRange]);
        // The fake detector's flat spectra cannot be fitted: the scan is stored and counted, never an observation.
        Assert.Contains(rig.Journal.Records<FrameNotCounted>(), r => r.Kind == FrameKind.Xas);
        Assert.Equal(3, rig.Journal.Frames.Count);
    }

    [Fact]
    public async Task A_beam_loss_suspends_before_the_frame_and_the_frame_is_taken_once_the_beam_has_settled()
    {
        var rig = new EngineRig();
        var dump = (From: EngineRig.Start.AddSeconds(15), To: EngineRig.Start.AddSeconds(200));
        rig.Motion.Beam = t => t >= dump.From && t < dump.To ? 0 : 200;
        var outcome = await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 3)));

        var suspended = Assert.Single(rig.Journal.Records<Suspended>());
        Assert.Equal("beam", suspended.Suspender);
        Assert.Equal(0, suspended.BeamCurrentMa);
        Assert.Equal(10, suspended.ThresholdMa);
        var resumed = Assert.Single(rig.Journal.Records<SuspensionEnded>());
        Assert.Contains("clear for 60 s", resumed.Reason);
        Assert.Contains(rig.Journal.Transitions, t => t is { From: RunState.Suspended, To: RunState.Acquiring, Trigger: RunTrigger.ConditionCleared });
        Assert.All(outcome.Observations, o => Assert.True(o.BeamCurrentMa >= 10));
        Assert.All(outcome.Observations, o => Assert.False(o.Time > dump.From && o.Time < dump.To.AddSeconds(60)));
        Assert.Equal(3, outcome.Observations.Count);
    }

    [Fact]
    public async Task A_frame_whose_own_header_shows_no_beam_is_stored_not_counted_and_taken_again()
    {
        var rig = new EngineRig();
        // The second frame's header says the beam was gone during it, although the level check before it saw beam.
        rig.Detector.HeaderBeamMa = n => n == 2 ? 1 : null;
        var outcome = await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 3)));

        Assert.Single(rig.Journal.Frames, f => f.Fate == FrameFate.NoBeam);
        Assert.Contains(rig.Journal.Transitions, t => t.Trigger == RunTrigger.Retake);
        Assert.Equal(2, outcome.Observations.Count);
        Assert.Equal(3, outcome.FramesAcquired);
        Assert.Equal(1, outcome.FramesRejected);
    }

    [Fact]
    public async Task A_detector_that_fails_once_is_recovered_and_the_run_decides_afresh()
    {
        var rig = new EngineRig();
        var failures = 0;
        rig.Detector.Before = what => { if (what == "xrd" && failures++ == 0) throw new DeviceException("detector", "FAULT: readout error"); };
        var outcome = await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 3)));

        Assert.Equal(ExitStatus.Success, outcome.ExitStatus);
        var fault = Assert.Single(rig.Journal.Records<FaultRecorded>());
        Assert.Equal("detector", fault.Source);
        Assert.Equal("detector", Assert.Single(rig.Journal.Records<DeviceRecovered>()).Device);
        Assert.Contains(rig.Journal.Transitions, t => t is { From: RunState.Faulted, To: RunState.Deciding, Trigger: RunTrigger.Recovered });
        Assert.Equal(3, outcome.Observations.Count);
    }

    [Fact]
    public async Task A_detector_that_answers_its_probes_but_fails_every_frame_the_same_way_ends_the_run_in_bounded_time()
    {
        var rig = new EngineRig();
        var frame = 0;
        // Hostile but alive: describe works, every acquisition fails with the same complaint (only its frame number varies).
        rig.Detector.Before = what => { if (what == "xrd") throw new DeviceException("detector", $"frame {++frame}: \"n\" = 5 does not match the payload"); };
        var outcome = await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 50)));

        Assert.Equal(ExitStatus.Fail, outcome.ExitStatus);
        Assert.Contains("persistent device error: the same fault 5 times in a row", outcome.Reason);
        Assert.Equal(5, rig.Journal.Records<FaultRecorded>().Count(f => f.Source == "detector"));
        // Each repeat waited longer before the beamline was probed again: 5 + 15 + 45 + 135 s on the run's clock.
        var recovered = rig.Journal.Records<DeviceRecovered>().Select(r => r.AfterS).ToList();
        Assert.Equal([5.0, 15.0, 45.0, 135.0], recovered);
        Assert.Equal("fault", rig.Journal.Records<SafeStateEntered>().Last().Why);
        Assert.False(rig.Cell.Output);
    }

    [Fact]
    public async Task A_detector_that_never_comes_back_ends_the_run_failed_after_its_recovery_attempts_with_the_cell_safe()
    {
        var rig = new EngineRig();
        // Gone after preflight: every acquisition and every probe of the recovery fails.
        rig.Detector.Before = _ => { if (rig.Detector.Acquisitions > 0) throw new DeviceException("detector", "gone"); };
        var outcome = await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 3)));

        Assert.Equal(ExitStatus.Fail, outcome.ExitStatus);
        Assert.Contains("gave up after 4 attempts", outcome.Reason);
        Assert.Equal(States(rig.Journal)[^2..], [RunState.Faulted, RunState.Aborted]);
        Assert.Equal("fault", rig.Journal.Records<SafeStateEntered>().Last().Why);
        Assert.False(rig.Cell.Output);
    }

    [Fact]
    public async Task A_cell_outside_its_window_ends_the_run_at_once_with_the_cells_reason()
    {
        var rig = new EngineRig();
        rig.Cell.OnVoltageMeasured = n => { if (n == 8) rig.Cell.ForcedVoltage = 4.2; };
        var outcome = await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 50)));

        Assert.Equal(ExitStatus.Fail, outcome.ExitStatus);
        Assert.Contains("outside the cell window", outcome.Reason);
        Assert.Equal("cell", rig.Journal.Records<FaultRecorded>().Last().Source);
        Assert.False(rig.Cell.Output);
        Assert.True(outcome.FramesAcquired < 50);
    }

    [Fact]
    public async Task Frames_the_analysis_cannot_use_suspend_the_run_until_an_operator_resumes_it()
    {
        var rig = new EngineRig();
        rig.Analyzer.FlagEverything = "flat";
        var engine = rig.Build(EngineRig.Plan(frames: 5));
        var resumed = false;
        rig.Journal.Recorded += e =>
        {
            if (e.Record is Suspended && !resumed)
            {
                resumed = true;
                Assert.True(engine.Apply(new ResumeCommand { By = Alice }).Accepted);
            }
        };
        var outcome = await EngineRig.RunAsync(engine);

        var suspended = Assert.Single(rig.Journal.Records<Suspended>());
        Assert.Equal("unusable data", suspended.Suspender);
        Assert.Contains("3 unusable frames in a row", suspended.Reason);
        Assert.Contains("X-ray energy", suspended.Reason);
        Assert.Contains(rig.Journal.Transitions, t => t is { From: RunState.Suspended, To: RunState.Deciding, Trigger: RunTrigger.Resume });
        Assert.Equal(5, outcome.FramesAcquired);
        Assert.Empty(outcome.Observations);
        // Spending the whole budget on frames nobody could use is not a success.
        Assert.Equal(ExitStatus.NoData, outcome.ExitStatus);
        Assert.Contains("learned nothing", outcome.Reason);
        Assert.Equal(ExitStatus.NoData, rig.Journal.Records<RunEnded>().Single().ExitStatus);
    }

    [Fact]
    public async Task The_dose_budget_binds_a_planner_that_does_not_know_it_and_an_operators_goto()
    {
        // A raster-like planner that asks for the same spot again and again; each frame is 10 s of beam, the budget 20 s.
        var rig = new EngineRig { Planner = new ListPlanner((4, 4)) };
        var plan = EngineRig.Plan(frames: 3);
        var engine = rig.Build(plan with { Acquisition = plan.Acquisition with { DoseBudgetS = 20 } });
        CommandOutcome? gotoAfter = null;
        rig.Journal.Recorded += e =>
        {
            if (e.Record is DoseSpent) gotoAfter = engine.Apply(new GotoRoiCommand(4, 4) { By = Alice });
        };
        var outcome = await EngineRig.RunAsync(engine);

        var spent = Assert.Single(rig.Journal.Records<DoseSpent>());
        Assert.Equal((4.0, 4.0, 20.0, 20.0), (spent.XMm, spent.YMm, spent.BeamS, spent.BudgetS));
        var spots = rig.Journal.Records<DecisionMade>().Select(d => (d.Decision.Values["x_mm"], d.Decision.Values["y_mm"])).ToList();
        Assert.Equal([(4.0, 4.0), (4.0, 4.0), (9.0, 9.0)], spots);
        Assert.False(gotoAfter!.Accepted);
        Assert.Contains("excluded region", gotoAfter.Message);
        Assert.Equal(3, outcome.Observations.Count);
    }

    [Fact]
    public async Task A_spot_that_keeps_giving_unusable_frames_is_left_and_never_measured_again()
    {
        var rig = new EngineRig { Planner = new ListPlanner((4, 4)) };
        rig.Analyzer.FlagEverything = "flat";
        var engine = rig.Build(EngineRig.Plan(frames: 3));
        var outcome = await EngineRig.RunAsync(engine);

        var left = Assert.Single(rig.Journal.Records<SpotLeft>());
        Assert.Equal((4.0, 4.0, "flat"), (left.XMm, left.YMm, left.Flag));
        // The planner heard of it, and the third frame was taken elsewhere (its runner-up outside the region).
        Assert.Single(rig.Planner.Excluded);
        var spots = rig.Journal.Records<DecisionMade>().Select(d => (d.Decision.Values["x_mm"], d.Decision.Values["y_mm"])).ToList();
        Assert.Equal([(4.0, 4.0), (4.0, 4.0), (9.0, 9.0)], spots);
        Assert.Equal(3, outcome.FramesAcquired);
    }

    [Fact]
    public async Task A_veto_in_the_approval_window_makes_the_planner_decide_again()
    {
        var rig = new EngineRig();
        var engine = rig.Build(EngineRig.Plan(frames: 2, approvalS: 30));
        var vetoed = false;
        rig.Journal.Recorded += e =>
        {
            if (e.Record is StateTransition { To: RunState.AwaitingApproval } && !vetoed)
            {
                vetoed = true;
                Assert.True(engine.Apply(new VetoCommand { By = Alice }).Accepted);
            }
        };
        var outcome = await EngineRig.RunAsync(engine);

        var veto = Assert.Single(rig.Journal.Records<OperatorOverride>());
        Assert.Equal((OverrideKind.Veto, "alice@console-1"), (veto.What, veto.By));
        Assert.Equal(1, veto.Replaced.Values["x_mm"]);
        // The vetoed spot was never visited: the next two spots of the list were.
        Assert.Equal([2.0, 3], outcome.Observations.Select(o => o.XMm));
        Assert.Equal(3, outcome.Decisions[DecisionKind.Roi]);
    }

    [Fact]
    public async Task Pause_and_resume_re_decide_from_the_present_state_and_skip_to_end_ends_successfully()
    {
        var rig = new EngineRig();
        var engine = rig.Build(EngineRig.Plan(frames: 10));
        rig.Journal.Recorded += e =>
        {
            switch (e.Record)
            {
                case ObservationMade { Observation.Sequence: 1 }: engine.Apply(new PauseCommand { By = Alice }); break;
                case StateTransition { To: RunState.Paused }: engine.Apply(new ResumeCommand { By = Alice }); break;
                case ObservationMade { Observation.Sequence: 2 }: engine.Apply(new SkipToEndCommand { By = Alice }); break;
            }
        };
        var outcome = await EngineRig.RunAsync(engine);

        var states = States(rig.Journal);
        Assert.Equal(RunState.Deciding, states[states.IndexOf(RunState.Paused) + 1]);
        Assert.Equal(ExitStatus.Success, outcome.ExitStatus);
        Assert.Equal("operator alice@console-1 skipped to the end", outcome.Reason);
        Assert.Equal(2, outcome.Observations.Count);
    }

    [Fact]
    public async Task A_halt_turns_the_output_off_and_closes_the_shutter_mid_exposure_and_aborts()
    {
        var rig = new EngineRig();
        var engine = rig.Build(EngineRig.Plan(frames: 10));
        // The halt arrives as the first exposure starts (the shutter is open, the current flowing).
        rig.Detector.Before = what => { if (what == "xrd") Assert.True(engine.Apply(new HaltCommand { By = Alice }).Accepted); };
        var outcome = await EngineRig.RunAsync(engine);

        Assert.Equal(ExitStatus.Abort, outcome.ExitStatus);
        Assert.Equal("emergency halt by alice@console-1", outcome.Reason);
        Assert.Equal(1, rig.Detector.Acquisitions);
        Assert.Equal(0, outcome.FramesAcquired); // the running exposure was abandoned, not finished
        Assert.False(rig.Cell.Output);
        Assert.False(rig.Motion.ShutterOpen);
        Assert.Equal(RunState.Aborted, States(rig.Journal)[^1]);
    }

    [Fact]
    public async Task Knob_commands_are_journalled_so_that_a_resume_can_restore_them()
    {
        var rig = new EngineRig();
        var engine = rig.Build(EngineRig.Plan(frames: 4));
        rig.Journal.Recorded += e =>
        {
            if (e.Record is ObservationMade { Observation.Sequence: 1 })
            {
                engine.Apply(new SetBudgetCommand(3, null) { By = Alice });
                engine.Apply(new LockKnobCommand(Knob.EnergyRange, true) { By = Alice });
                engine.Apply(new ExcludeRegionCommand(0, 2.5, 0, 2.5) { By = Alice });
                engine.Apply(new SetApprovalWindowCommand(0) { By = Alice });
            }
        };
        var outcome = await EngineRig.RunAsync(engine);

        Assert.Equal(3, outcome.FramesAcquired);
        Assert.Equal(new BudgetChanged("alice@console-1", 3, 36000), Assert.Single(rig.Journal.Records<BudgetChanged>()));
        Assert.Equal(new KnobLockChanged("alice@console-1", Knob.EnergyRange, true), Assert.Single(rig.Journal.Records<KnobLockChanged>()));
        Assert.Single(rig.Journal.Records<RegionExcluded>());
        Assert.Single(rig.Journal.Records<ApprovalWindowChanged>());
        Assert.Single(rig.Planner.Excluded);
        // The planner's third spot (3, 3) is outside the excluded region, but its second (2, 2) was inside: the arbiter moved it.
        Assert.DoesNotContain(outcome.Observations.Skip(1), o => o.XMm <= 2.5 && o.YMm <= 2.5);
        var commands = rig.Journal.Records<OperatorCommandReceived>();
        Assert.Equal(4, commands.Count);
        Assert.Equal(new SetBudgetCommand(3, null) { By = Alice }, commands[0].Args);
    }
}

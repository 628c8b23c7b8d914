using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Control.Engine;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Control.Suspenders;
using AutonomousBeamline.Control.Tests.Cycling;
using AutonomousBeamline.Control.Tests.Support;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Core.Time;
using Moq;

namespace AutonomousBeamline.Control.Tests.Suspenders;

/// <summary>Each suspender's condition as a level, and the suspension's settle time and actions before and after.</summary>
public sealed class SuspenderTests
{
    private readonly VirtualTimeProvider _clock = new(EngineRig.Start);

    [Fact]
    public async Task The_beam_suspender_reads_the_level_each_time_and_reports_every_status_it_saw()
    {
        var motion = new FakeMotion(_clock) { Beam = _ => 4.5 };
        var seen = new List<double>();
        var beam = new BeamCurrentSuspender(motion, new BeamPlan(10, 60, 5), s => seen.Add(s.BeamCurrentMa));

        var low = await beam.CheckAsync(CancellationToken.None);
        motion.Beam = _ => 180;
        var back = await beam.CheckAsync(CancellationToken.None);

        Assert.True(low.Tripped);
        Assert.Equal("beam 4.5 mA below threshold 10 mA", low.Reason);
        Assert.False(back.Tripped);
        Assert.Equal([4.5, 180], seen);
        Assert.Equal(TimeSpan.FromSeconds(60), beam.SettleTime);
    }

    [Fact]
    public async Task The_interlock_trips_only_when_the_server_reports_it_not_ok()
    {
        var motion = new FakeMotion(_clock);
        var interlock = new InterlockSuspender(motion, TimeSpan.FromSeconds(10));
        Assert.False((await interlock.CheckAsync(CancellationToken.None)).Tripped);
        motion.Interlock = _ => new InterlockState(false, "hutch door open");
        var tripped = await interlock.CheckAsync(CancellationToken.None);
        Assert.True(tripped.Tripped);
        Assert.Equal("interlock: hutch door open", tripped.Reason);
        motion.Interlock = _ => new InterlockState(true, "");
        Assert.False((await interlock.CheckAsync(CancellationToken.None)).Tripped);
    }

    [Fact]
    public async Task Unusable_frames_trip_after_the_limit_in_a_row_and_an_operator_resume_starts_the_count_again()
    {
        var unusable = new UnusableDataSuspender(new UnusableDataPolicy(InARow: 3, RateWindow: 100));
        unusable.Record(FrameKind.Xrd, "flat");
        unusable.Record(FrameKind.Xrd, "flat");
        unusable.Record(FrameKind.Xrd, null); // a usable frame breaks the run
        unusable.Record(FrameKind.Xrd, "flat");
        unusable.Record(FrameKind.Xrd, "flat");
        Assert.False((await unusable.CheckAsync(CancellationToken.None)).Tripped);
        unusable.Record(FrameKind.Xrd, "empty");
        var tripped = await unusable.CheckAsync(CancellationToken.None);
        Assert.True(tripped.Tripped);
        Assert.Contains("xrd flagged 'empty'", tripped.Reason);
        Assert.Contains("X-ray energy", tripped.Reason);
        Assert.Equal(SuspenderSeverity.WaitForOperator, unusable.Severity);
        unusable.OperatorResumed("alice@console-1");
        Assert.False((await unusable.CheckAsync(CancellationToken.None)).Tripped);
        Assert.Throws<ArgumentOutOfRangeException>(() => new UnusableDataSuspender(new UnusableDataPolicy(InARow: 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UnusableDataSuspender(new UnusableDataPolicy(RateMax: 1.5)));
    }

    [Fact]
    public async Task A_high_unusable_share_over_the_window_trips_even_when_usable_frames_break_every_run()
    {
        var unusable = new UnusableDataSuspender(new UnusableDataPolicy(InARow: 10, RateWindow: 10, RateMax: 0.8));
        for (var i = 0; i < 9; i++) unusable.Record(FrameKind.Xas, i % 4 == 3 ? null : "incomplete-scan");
        // Nine frames: the window is not full yet, so no share is judged.
        Assert.False((await unusable.CheckAsync(CancellationToken.None)).Tripped);
        unusable.Record(FrameKind.Xas, "incomplete-scan");
        var tripped = await unusable.CheckAsync(CancellationToken.None);
        Assert.True(tripped.Tripped);
        Assert.Contains("8 of the last 10 frames unusable", tripped.Reason);
        Assert.Contains("absorption edge", tripped.Reason);
        // Usable frames slide the old unusable ones out of the window.
        for (var i = 0; i < 4; i++) unusable.Record(FrameKind.Xas, null);
        Assert.False((await unusable.CheckAsync(CancellationToken.None)).Tripped);
    }

    [Fact]
    public async Task The_temperature_suspender_holds_the_cell_while_it_is_out_of_its_window()
    {
        var journal = new MemoryJournal(_clock);
        var cell = new FakePotentiostat(_clock, 0.005, 0.5);
        var cycler = new Cycler(cell, EngineRig.Plan().Protocol, EngineRig.Plan().Cell, _clock, journal);
        var thermometer = new Mock<ITemperatureSensor>();
        thermometer.SetupSequence(t => t.MeasureTemperatureAsync(It.IsAny<CancellationToken>())).ReturnsAsync(47.5).ReturnsAsync(30);
        var temperature = new TemperatureSuspender(thermometer.Object, 15, 45, TimeSpan.FromSeconds(120), cycler, new TransientRetry(_clock, journal, attempts: 3));

        var hot = await temperature.CheckAsync(CancellationToken.None);
        Assert.True(hot.Tripped);
        Assert.Equal("cell at 47.5 °C, window [15, 45] °C", hot.Reason);
        await temperature.BeforeSuspendAsync(CancellationToken.None);
        Assert.True(cycler.IsHeld);
        Assert.False((await temperature.CheckAsync(CancellationToken.None)).Tripped);
        await temperature.AfterResumeAsync(CancellationToken.None);
        Assert.False(cycler.IsHeld);
        Assert.Equal(["temperature suspender", "temperature suspender"],
            journal.Entries.Select(e => e.Record).Select(r => r switch { ProtocolHoldRequested h => h.By, ProtocolReleaseRequested x => x.By, _ => null }).OfType<string>());
    }

    [Fact]
    public async Task A_thermocouple_read_that_glitches_is_asked_again_and_one_that_cannot_be_read_holds_the_cell()
    {
        var journal = new MemoryJournal(_clock);
        var plan = EngineRig.Plan();
        var cycler = new Cycler(new FakePotentiostat(_clock, 0.005, 0.5), plan.Protocol, plan.Cell, _clock, journal);
        var thermometer = new Mock<ITemperatureSensor>();
        thermometer.SetupSequence(t => t.MeasureTemperatureAsync(It.IsAny<CancellationToken>()))
            .ThrowsAsync(new DeviceException("potentiostat", "garbled reply to :MEAS:TEMP?"))
            .ReturnsAsync(25)
            .ThrowsAsync(new DeviceException("potentiostat", "link lost"))
            .ThrowsAsync(new DeviceException("potentiostat", "link lost"))
            .ThrowsAsync(new DeviceException("potentiostat", "link lost"));
        var temperature = new TemperatureSuspender(thermometer.Object, 15, 45, TimeSpan.FromSeconds(120), cycler, new TransientRetry(_clock, journal, attempts: 3));
        using var actor = _clock.JoinActor();

        Assert.False((await temperature.CheckAsync(CancellationToken.None)).Tripped);
        var unknown = await temperature.CheckAsync(CancellationToken.None);

        Assert.True(unknown.Tripped);
        Assert.Contains("cannot be read: potentiostat: link lost", unknown.Reason);
        Assert.Equal([1, 1, 2], journal.Records<DeviceRetried>().Select(r => r.Attempt));
        Assert.All(journal.Records<DeviceRetried>(), r => Assert.Equal("measure temperature", r.What));
    }

    [Fact]
    public async Task A_cell_fault_ends_the_run_from_any_check_even_one_of_the_fatal_suspenders_only()
    {
        var (set, _, _) = Set(cellFault: () => new CellWindowException("measured 4.200 V is outside the cell window"));
        var ended = await Assert.ThrowsAsync<RunEndedBySuspenderException>(() => set.CheckAsync(onlyFatal: true, CancellationToken.None));
        Assert.Equal("cell", ended.Suspender);
        Assert.Contains("outside the cell window", ended.Message);
    }

    [Fact]
    public async Task A_suspension_waits_for_every_tripped_condition_to_stay_clear_for_its_settle_time()
    {
        var (set, motion, journal) = Set();
        // The beam is gone until t = 100 s, flickers back at 30-35 s (too short to count), and the interlock trips at 40-120 s.
        motion.Beam = t => (t - EngineRig.Start).TotalSeconds is var s && (s >= 100 || (s >= 30 && s < 35)) ? 200 : 0;
        motion.Interlock = t => (t - EngineRig.Start).TotalSeconds is >= 40 and < 120 ? new InterlockState(false, "search lost") : null;
        using var actor = _clock.JoinActor();
        var first = (await set.CheckAsync(onlyFatal: false, CancellationToken.None)).Single();

        var trigger = await set.SuspendAsync(first, _ => Task.CompletedTask, () => null, CancellationToken.None);

        Assert.Equal(RunTrigger.ConditionCleared, trigger);
        // Clear from 120 s (both conditions); the longest settle time of the two is the beam's 60 s; polled every 5 s.
        Assert.Equal(EngineRig.Start.AddSeconds(180), _clock.GetUtcNow());
        var ended = Assert.Single(journal.Records<SuspensionEnded>());
        Assert.Equal("beam, interlock clear for 60 s", ended.Reason);
        Assert.Equal(new SuspenderTripped("interlock", "interlock: search lost"), Assert.Single(journal.Records<SuspenderTripped>()));
        Assert.Equal(180, ended.SuspendedS);
    }

    [Fact]
    public async Task An_operators_hold_clears_only_by_an_operator_and_then_the_run_decides_afresh()
    {
        var (set, _, journal) = Set();
        set.Hold.Engage("alice@console-1");
        using var actor = _clock.JoinActor();
        var polls = 0;
        var trigger = await set.SuspendAsync(new Trip(set.Hold, SuspenderReading.Trip("operator alice@console-1")), _ => Task.CompletedTask, () =>
        {
            if (++polls == 5) set.OperatorResumed("alice@console-1");
            return null;
        }, CancellationToken.None);

        Assert.Equal(RunTrigger.Resume, trigger);
        Assert.Equal("held at open circuit", Assert.Single(journal.Records<Suspended>()).Cell);
        Assert.Single(journal.Records<ProtocolHoldRequested>());
        Assert.Single(journal.Records<ProtocolReleaseRequested>());
        Assert.Equal(EngineRig.Start.AddSeconds(5), _clock.GetUtcNow()); // polled every second while only an operator can clear it
    }

    [Fact]
    public async Task What_an_operator_asks_during_a_suspension_ends_it_at_once()
    {
        var (set, motion, _) = Set();
        motion.Beam = _ => 0;
        using var actor = _clock.JoinActor();
        var first = (await set.CheckAsync(onlyFatal: false, CancellationToken.None)).Single();
        Assert.Equal(RunTrigger.Finish, await set.SuspendAsync(first, _ => Task.CompletedTask, () => RunTrigger.Finish, CancellationToken.None));
    }

    private (SuspenderSet Set, FakeMotion Motion, MemoryJournal Journal) Set(Func<Exception?>? cellFault = null)
    {
        var journal = new MemoryJournal(_clock);
        var motion = new FakeMotion(_clock);
        var plan = EngineRig.Plan();
        var cycler = new Cycler(new FakePotentiostat(_clock, 0.005, 0.5), plan.Protocol, plan.Cell, _clock, journal);
        var recorder = new RunRecorder(journal, new StatusBoard(new RunStatus { Knobs = new OperatorKnobs { Budget = plan.Budget } }), _clock, () => 0.5);
        var set = new SuspenderSet(plan with { Beam = new BeamPlan(10, 60, 5) }, new RunDevices(new FakePotentiostat(_clock, 0.005, 0.5), motion,
            new FakeDetector(_clock, motion)), cycler, cellFault ?? (() => null), recorder.Observe, recorder, _clock);
        return (set, motion, journal);
    }
}

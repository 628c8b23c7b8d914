using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.Resume;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Control.Tests.Support;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Features;

namespace AutonomousBeamline.Control.Tests.Engine;

/// <summary>
/// Preflight's reference frames are measured beam time: each is stored with its verdict and the verdict journalled —
/// before a failed check stops the run — never as an observation nor against the budget, and a resume does not take them again.
/// </summary>
public sealed class ReferencePreflightTests
{
    /// <summary>A reference check that gives one verdict and remembers what it was shown (the real one is tested end to end).</summary>
    private sealed class FixedCheck(ReferenceVerdict verdict) : IReferenceCheck
    {
        public List<Frame> Checked { get; } = [];

        public ReferenceVerdict Check(Frame frame)
        {
            Checked.Add(frame);
            return verdict;
        }
    }

    private static readonly ReferenceVerdict Explained = new(true, "LiFePO4 0.98, FePO4 0.02; unexplained 0.03", null, Unexplained: 0.03);

    private static readonly ReferenceVerdict WrongEnergy = new(false, "the references leave 64% of the pattern unexplained at 0.7293 Å",
        "X-ray energy: the pattern fits far better at 0.5000 Å (unexplained 0.04), the config says 0.7293 Å", Unexplained: 0.64);

    [Fact]
    public async Task A_passing_check_stores_its_frames_with_their_verdicts_and_the_run_counts_only_its_own()
    {
        var check = new FixedCheck(Explained);
        var rig = new EngineRig { References = check };
        var outcome = await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 3, kinds: AcquisitionKinds.XrdAndXas)));

        Assert.Equal(ExitStatus.Success, outcome.ExitStatus);
        Assert.Equal([FrameKind.Xrd, FrameKind.Xas], check.Checked.Select(f => f.Header.Kind));
        Assert.Equal(check.Checked, rig.Journal.PreflightFrames.Select(p => p.Frame));
        Assert.All(rig.Journal.PreflightFrames, p => Assert.Same(Explained, p.Check));
        // Stored first, as preflight's; the budget's three frames after them.
        Assert.Equal([FrameFate.Preflight, FrameFate.Preflight], rig.Journal.Frames.Take(2).Select(f => f.Fate));
        Assert.Equal(5, outcome.FramesStored);
        Assert.Equal(3, outcome.FramesAcquired);
        Assert.DoesNotContain(outcome.Observations, o => check.Checked.Any(f => f.Header.Frame == o.Frame));
        var records = rig.Journal.Records<ReferenceChecked>();
        Assert.Equal([(FrameKind.Xrd, check.Checked[0].Header.Frame), (FrameKind.Xas, check.Checked[1].Header.Frame)], records.Select(r => (r.Kind, r.Frame)));
        Assert.All(records, r => Assert.Equal((true, true, 0.03), (r.Explained, r.Conclusive, r.Unexplained ?? 0.03)));
    }

    [Fact]
    public async Task A_failed_check_leaves_its_frame_and_verdict_before_the_run_stops_with_the_cell_untouched()
    {
        var rig = new EngineRig { References = new FixedCheck(WrongEnergy) };
        var outcome = await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 3)));

        Assert.Equal(ExitStatus.Fail, outcome.ExitStatus);
        Assert.Contains("likely cause: X-ray energy", outcome.Reason);
        var (frame, verdict) = Assert.Single(rig.Journal.PreflightFrames);
        Assert.Same(WrongEnergy, verdict);
        Assert.Equal(FrameKind.Xrd, frame.Header.Kind);
        Assert.Equal(1, outcome.FramesStored);
        var records = rig.Journal.Entries.Select(e => e.Record).ToList();
        var checkedAt = records.FindIndex(r => r is ReferenceChecked { Explained: false, LikelyCause: not null });
        Assert.True(checkedAt >= 0 && checkedAt < records.FindIndex(r => r is FaultRecorded), "the verdict is journalled before the fault that ends the run");
        Assert.Empty(rig.Journal.Records<StepStarted>());
        Assert.DoesNotContain("on", rig.Cell.Calls);
    }

    [Fact]
    public async Task A_resumed_run_does_not_take_the_frames_its_journal_shows_were_checked()
    {
        var check = new FixedCheck(Explained);
        var rig = new EngineRig { References = check };
        var plan = EngineRig.Plan(frames: 3, kinds: AcquisitionKinds.XrdAndXas);
        // The crashed run's record: both kinds checked, its frames stored as preflight's; one observation's frame after them.
        var journal = new JournalEntry[]
        {
            new(1, EngineRig.Start, new RunStarted("engine-test", RoiStrategy.Learner, "run-1")),
            new(2, EngineRig.Start, new ReferenceChecked(FrameKind.Xrd, 1, true, true, Explained.Summary, 0.03)),
            new(3, EngineRig.Start, new ReferenceChecked(FrameKind.Xas, 2, true, true, "E0 7121.4 eV")),
            new(4, EngineRig.Start.AddSeconds(30), new StateTransition(RunState.Analyzing, RunState.Deciding, RunTrigger.Analyzed)),
        };
        StoredFrame[] stored =
        [
            new(FrameFate.Preflight, null, null, 2, null) { Check = Explained }, new(FrameFate.Preflight, null, null, 9, null) { Check = Explained },
            new(FrameFate.NoBeam, null, null, 10, null),
        ];
        var resume = JournalReplay.Rebuild(journal, _ => stored, plan);
        Assert.Equal((1, 10.0), (resume.Counts.FramesAcquired, resume.Counts.BeamTimeUsedS));

        var outcome = await EngineRig.RunAsync(rig.Build(plan, resume));

        Assert.Equal(ExitStatus.Success, outcome.ExitStatus);
        Assert.Empty(check.Checked);
        Assert.Empty(rig.Journal.PreflightFrames);
        var preflight = Assert.Single(rig.Journal.Records<PreflightCompleted>());
        Assert.Contains(preflight.Checks, c => c.Item == "references (xrd)" && c.Result.Contains("not taken again", StringComparison.Ordinal));
        Assert.Contains(preflight.Checks, c => c.Item == "references (xas)" && c.Result.Contains("not taken again", StringComparison.Ordinal));
    }

    [Fact]
    public void A_resume_takes_again_only_what_was_not_checked_conclusively()
    {
        var journal = new JournalEntry[]
        {
            new(1, EngineRig.Start, new RunStarted("engine-test", RoiStrategy.Learner, "run-1")),
            new(2, EngineRig.Start, new ReferenceChecked(FrameKind.Xrd, 1, true, true, Explained.Summary, 0.03)),
            // No signal on the first spectrum: the references were neither confirmed nor refuted.
            new(3, EngineRig.Start, new ReferenceChecked(FrameKind.Xas, 2, false, false, "the first spectrum is flat", LikelyCause: "no signal: the first spectrum is flat")),
        };

        var resume = JournalReplay.Rebuild(journal, _ => [], EngineRig.Plan(kinds: AcquisitionKinds.XrdAndXas));

        Assert.Equal([FrameKind.Xrd], resume.ReferencesChecked);
    }
}

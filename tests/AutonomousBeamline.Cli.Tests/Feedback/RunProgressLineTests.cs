using AutonomousBeamline.Cli.Composition;
using AutonomousBeamline.Cli.Feedback;
using AutonomousBeamline.Configuration;
using AutonomousBeamline.Control.Engine;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Core.Domain;
using Microsoft.Extensions.Time.Testing;

namespace AutonomousBeamline.Cli.Tests.Feedback;

public class RunProgressLineTests
{
    private static readonly RunPlan Plan = RunPlans.From(ConfigLoader.Load(RepoFile("configs/dry-run.yaml")), RunMode.DryRun) with { Budget = new Budget(40, 1000) };

    private static string RepoFile(string relative)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AutonomousBeamline.sln"))) dir = dir.Parent;
        return Path.Combine(dir!.FullName, relative);
    }

    private static JournalEntry Entry(JournalRecord record) => new(1, DateTimeOffset.UnixEpoch, record);

    [Fact]
    public void A_line_gives_virtual_and_wall_time_frames_beam_time_step_and_the_message()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 21, 5, 9, TimeSpan.Zero));
        var line = new RunProgressLine(Plan, clock, terminal: false);
        line.Observe(Entry(new StepStarted("charge", "charge", 1, "cc", 1, 0.005, null, null, 100, 10)));
        line.Observe(Entry(new ObservationMade(new Observation
        {
            Sequence = 1, Frame = 1, Time = clock.GetUtcNow(), Kind = FrameKind.Xrd, XMm = 0, YMm = 0, StateOfCharge = 0.5, CRate = 1,
            PhaseFraction = 0.5, PhaseFractionSigma = 0.01, BeamCurrentMa = 200, ExposureS = 20,
        })));
        var text = line.Format(new RunProgress("frame 10/40 at (1, 2) mm", 10, 10, 0.5));
        Assert.StartsWith("[21:05:09 | wall 0:", text);
        Assert.Contains("10/40 frames, beam 20/1000 s, step charge, ETA ", text);
        Assert.EndsWith("| frame 10/40 at (1, 2) mm", text);
        Assert.DoesNotContain("[#", text);
    }

    [Fact]
    public void On_a_terminal_the_frame_budget_is_a_bar()
    {
        var line = new RunProgressLine(Plan, new FakeTimeProvider(), terminal: true);
        Assert.Contains("[#####...............] 10/40 frames", line.Format(new RunProgress("m", 10, 10, 0.5)));
        Assert.Contains("[####################] 40/40 frames", line.Format(new RunProgress("m", 40, 40, 0.5)));
        Assert.Contains("ETA -", line.Format(new RunProgress("m", 0, 0, 0)));
    }
}

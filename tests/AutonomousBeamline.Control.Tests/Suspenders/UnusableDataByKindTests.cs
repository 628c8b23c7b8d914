using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.Suspenders;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Control.Tests.Suspenders;

public sealed class UnusableDataByKindTests
{
    [Fact]
    public async Task Good_absorption_scans_between_bad_patterns_do_not_break_the_patterns_run()
    {
        var unusable = new UnusableDataSuspender(new UnusableDataPolicy(InARow: 4, RateWindow: 100));
        // The run of xrd+xas at the wrong X-ray energy: every pattern misfits, every scan is fine.
        foreach (var (kind, flag) in new[] { (FrameKind.Xrd, "reference-misfit"), (FrameKind.Xrd, "reference-misfit"), (FrameKind.Xas, (string?)null),
                     (FrameKind.Xrd, "reference-misfit") })
            unusable.Record(kind, flag);
        Assert.False((await unusable.CheckAsync(CancellationToken.None)).Tripped);
        unusable.Record(FrameKind.Xas, null);
        unusable.Record(FrameKind.Xrd, "reference-misfit");
        unusable.Record(FrameKind.Xas, "incomplete-scan"); // one bad scan: the reason still names the patterns' run

        var tripped = await unusable.CheckAsync(CancellationToken.None);
        Assert.True(tripped.Tripped);
        Assert.Contains("4 unusable frames in a row", tripped.Reason);
        Assert.Contains("check the X-ray energy first", tripped.Reason);
        Assert.Contains("xrd flagged 'reference-misfit'", tripped.Reason);
        // A usable pattern does break it.
        unusable.Record(FrameKind.Xrd, null);
        Assert.False((await unusable.CheckAsync(CancellationToken.None)).Tripped);
        Assert.Equal(1, unusable.InARow); // the one bad scan
    }
}

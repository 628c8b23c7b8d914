using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Control.Suspenders;
using AutonomousBeamline.Control.Tests.Support;

namespace AutonomousBeamline.Control.Tests.Suspenders;

/// <summary>The run folder's disk: checked at preflight against the budget, and before every frame against the reserve.</summary>
public sealed class DiskSpaceTests
{
    /// <summary>A disk whose free space a test sets, and that remembers how often it was asked.</summary>
    private sealed class FakeDisk(long freeBytes) : IFreeSpace
    {
        public long FreeBytes { get; set; } = freeBytes;
        public Func<int, long>? ByCall { get; set; }
        public int Calls { get; private set; }
        public string Where => "/data/runs";
        public long AvailableBytes() => ByCall?.Invoke(++Calls) ?? FreeBytes;
    }

    [Fact]
    public async Task A_disk_too_small_for_the_run_stops_it_at_preflight_before_any_current_flows()
    {
        var rig = new EngineRig { Disk = new FakeDisk(DiskRoom.ReserveBytes + 1000) };
        var outcome = await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 10)));

        Assert.Equal(ExitStatus.Fail, outcome.ExitStatus);
        Assert.Contains("/data/runs has 64 MB free; the run needs about", outcome.Reason);
        Assert.DoesNotContain("on", rig.Cell.Calls);
        Assert.Equal(0, rig.Detector.Acquisitions);
    }

    [Fact]
    public async Task Room_enough_is_a_preflight_check_in_the_journal()
    {
        var rig = new EngineRig { Disk = new FakeDisk(10L << 30) };
        var outcome = await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 2)));

        Assert.Equal(ExitStatus.Success, outcome.ExitStatus);
        Assert.Contains(Assert.Single(rig.Journal.Records<PreflightCompleted>()).Checks, c => c.Item == "disk" && c.Result.StartsWith("10240 MB free", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_disk_running_low_mid_run_suspends_with_the_cell_held_until_room_is_made()
    {
        var disk = new FakeDisk(10L << 30);
        var rig = new EngineRig { Disk = disk };
        // Low from the third frame's check until the tenth time the disk is asked (someone moved files away).
        disk.ByCall = call => call is >= 4 and < 10 ? 1 << 20 : 10L << 30;
        var outcome = await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 5)));

        Assert.Equal(ExitStatus.Success, outcome.ExitStatus);
        Assert.Equal(5, outcome.FramesAcquired);
        var suspended = Assert.Single(rig.Journal.Records<Suspended>(), s => s.Suspender == "disk space");
        Assert.Contains("/data/runs has 1 MB free (reserve 64 MB): measuring suspended and the cell held at open circuit", suspended.Reason);
        Assert.Contains(rig.Journal.Transitions, t => t.To == RunState.Suspended);
        // The cell was held at open circuit (output off) while the disk was low, and released after.
        Assert.Equal("disk space suspender", Assert.Single(rig.Journal.Records<ProtocolHoldRequested>()).By);
        Assert.Equal("off", Assert.Single(rig.Journal.Records<ProtocolHeld>()).Output);
        Assert.Equal("disk space suspender", Assert.Single(rig.Journal.Records<ProtocolReleaseRequested>()).By);
    }
}

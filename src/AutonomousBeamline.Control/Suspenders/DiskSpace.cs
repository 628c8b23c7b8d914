using System.Globalization;
using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Control.Suspenders;

/// <summary>How much room the run folder's disk has left. The storage side answers; Control names no file system.</summary>
public interface IFreeSpace
{
    /// <summary>Where the run is written (for messages).</summary>
    string Where { get; }

    /// <summary>Bytes still free for the run's files.</summary>
    /// <exception cref="IOException">The disk cannot be asked.</exception>
    long AvailableBytes();
}

/// <summary>
/// The disk's room for the run: the preflight estimate (every frame of the budget, its line in frames.jsonl, its HDF5
/// copy and its journal records, plus a reserve) and the reserve itself, below which measuring suspends.
/// </summary>
public static class DiskRoom
{
    /// <summary>Left free whatever the run: room for the journal's last records and the summary, and for the rest of the machine.</summary>
    public const long ReserveBytes = 64L << 20;

    /// <summary>Per frame beyond its points: the header in frames.jsonl and the journal records a frame brings (decision, transitions, observation).</summary>
    private const long OverheadBytesPerFrame = 8 << 10;

    /// <summary>Bytes the run's files will take, from the budget and the points the detector says a frame has.</summary>
    public static long Estimate(RunPlan plan, DetectorDescription detector)
    {
        var xrdPoints = detector.Xrd?.N ?? 4096;
        var window = plan.Acquisition.EnergyWindow;
        var xasPoints = window is null ? 0 : (long)Math.Ceiling((window.StopEv - window.StartEv) / window.StepEv) + 1;
        // The widest frame the run takes: float32 as base64 in frames.jsonl (4/3) and as float32 in HDF5, an XAS frame with its energies too.
        var points = Math.Max(plan.Acquisition.TakesXrd ? xrdPoints : 0, plan.Acquisition.TakesXas ? 2 * xasPoints : 0);
        var perFrame = points * 4 * 4 / 3 + points * 4 + OverheadBytesPerFrame;
        return plan.Budget.Frames * perFrame + ReserveBytes;
    }

    public static string Megabytes(long bytes) => (bytes / 1048576.0).ToString("0.#", CultureInfo.InvariantCulture) + " MB";
}

/// <summary>
/// The run folder's disk running low: measuring stops and the cell is held at open circuit before a write can fail,
/// until room is made (an operator deletes or moves files); the run then goes on where it was held. A disk that fills
/// anyway fails the journal, which ends the run safe.
/// </summary>
public sealed class DiskSpaceSuspender(IFreeSpace disk, Cycler cycler, long reserveBytes = DiskRoom.ReserveBytes) : LevelSuspender
{
    public override string Name => "disk space";

    public override TimeSpan SettleTime => TimeSpan.Zero;

    public override Task<SuspenderReading> CheckAsync(CancellationToken cancellationToken)
    {
        long free;
        try { free = disk.AvailableBytes(); }
        catch (IOException e)
        {
            return Task.FromResult(SuspenderReading.Trip($"the free space of {disk.Where} cannot be read ({e.Message})"));
        }
        var text = $"{disk.Where} has {DiskRoom.Megabytes(free)} free (reserve {DiskRoom.Megabytes(reserveBytes)})";
        return Task.FromResult(free < reserveBytes
            ? SuspenderReading.Trip(text + ": measuring suspended and the cell held at open circuit until room is made", free)
            : SuspenderReading.Clear(text, free));
    }

    public override Task BeforeSuspendAsync(CancellationToken cancellationToken)
    {
        cycler.Hold("disk space suspender");
        return Task.CompletedTask;
    }

    public override Task AfterResumeAsync(CancellationToken cancellationToken)
    {
        cycler.Release("disk space suspender");
        return Task.CompletedTask;
    }
}

using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Control.Engine;

/// <summary>
/// The shutter and the end of the cell's protocol: what every way out of a run shares, and the halt that cannot wait
/// for the loop. The shutter's state is mirrored in the status the dashboard reads.
/// </summary>
public sealed class CellSafety(RunDevices devices, RunRecorder recorder)
{
    private readonly CancellationTokenSource _cyclerStop = new(), _halted = new();

    /// <summary>The cycler's run, once started.</summary>
    public Task? Cycling { get; private set; }

    public void StartCycler(Cycling.Cycler cycler, TimeProvider time) => Cycling = Core.Time.Clock.StartActor(time, () => cycler.RunAsync(_cyclerStop.Token));

    /// <summary>The cycler's error, or null while it runs (or after it ended normally or was stopped).</summary>
    public Exception? CellFault => Cycling?.Exception?.InnerException;

    public async Task SetShutterAsync(bool open, CancellationToken ct)
    {
        await devices.Motion.SetShutterAsync(open, ct).ConfigureAwait(false);
        recorder.Status.Update(s => s with { ShutterOpen = open });
    }

    /// <summary>The end of any run: the cycler stopped, the output off and the shutter closed, whatever went before. Never throws.</summary>
    public async Task EndAsync(string why)
    {
        if (Cycling is { } cycling)
        {
            await _cyclerStop.CancelAsync().ConfigureAwait(false);
            try { await cycling.ConfigureAwait(false); }
            catch (OperationCanceledException) { }
            catch (Exception e) { recorder.Journal.TryWrite(new CyclerError(e.Message)); }
        }
        await devices.Potentiostat.EnterSafeStateAsync(CancellationToken.None).ConfigureAwait(false);
        recorder.Journal.TryWrite(new SafeStateEntered(why, "off", await CloseShutterAsync().ConfigureAwait(false)));
    }

    /// <summary>Cancelled by a halt: whatever the loop awaits is abandoned.</summary>
    public CancellationToken Halted => _halted.Token;

    /// <summary>Who halted the run, once someone has.</summary>
    public string? HaltReason { get; private set; }

    /// <summary>
    /// An operator's halt, on the operator's thread: the output off and the shutter closed now, mid-exposure; the loop's
    /// wait is cancelled and it aborts. Stopping the cycler ends its step with the output off, so no later step can turn
    /// it on again.
    /// </summary>
    public void Halt(Operator.OperatorIdentity by)
    {
        HaltReason = $"emergency halt by {by}";
        _cyclerStop.Cancel();
        _ = Task.Run(() => devices.Potentiostat.EnterSafeStateAsync(CancellationToken.None));
        _ = Task.Run(CloseShutterAsync);
        _halted.Cancel();
    }

    /// <summary>Runs <paramref name="exposure"/> with the shutter open, and closes it again whatever happens.</summary>
    public async Task<T> WithShutterOpenAsync<T>(Func<CancellationToken, Task<T>> exposure, CancellationToken ct)
    {
        await SetShutterAsync(true, ct).ConfigureAwait(false);
        try { return await exposure(ct).ConfigureAwait(false); }
        finally { await SetShutterAsync(false, CancellationToken.None).ConfigureAwait(false); }
    }

    /// <summary>"closed", or why closing failed (the motion server may be the device that failed).</summary>
    private async Task<string> CloseShutterAsync()
    {
        try
        {
            await SetShutterAsync(false, CancellationToken.None).ConfigureAwait(false);
            return "closed";
        }
        catch (Exception e) when (e is DeviceException or TimeoutException)
        {
            recorder.Fault("shutter", e.Message);
            return "close failed: " + e.Message;
        }
    }
}

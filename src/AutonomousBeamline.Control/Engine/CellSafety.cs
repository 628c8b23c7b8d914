using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Control.Engine;

/// <summary>
/// The shutter and the end of the cell's protocol: what every way out of a run shares, and the safe state that cannot
/// wait for the loop (an operator's halt, a signal, a failure the loop cannot survive). The shutter's state is mirrored
/// in the status the dashboard reads.
/// </summary>
public sealed class CellSafety(RunDevices devices, RunRecorder recorder, SafeState safeState = SafeState.OutputOff)
{
    private readonly CancellationTokenSource _cyclerStop = new(), _halted = new();
    private readonly object _gate = new();
    private Task<string>? _goingSafe;

    /// <summary>How long a caller that must see the safe state reached first waits for it before going on regardless.</summary>
    public static readonly TimeSpan SafeStateWait = TimeSpan.FromSeconds(15);

    /// <summary>The cycler's run, once started.</summary>
    public Task? Cycling { get; private set; }

    public void StartCycler(Cycling.Cycler cycler, TimeProvider time) => Cycling = Core.Time.Clock.StartActor(time, () => cycler.RunAsync(_cyclerStop.Token));

    /// <summary>The cycler's error, or null while it runs (or after it ended normally or was stopped).</summary>
    public Exception? CellFault => Cycling?.Exception?.InnerException;

    /// <summary>How the journal names the configured safe state (<c>cell.safe_state</c>).</summary>
    public string SafeStateName => safeState == SafeState.OpenCircuitRest ? "open circuit rest" : "off";

    public async Task SetShutterAsync(bool open, CancellationToken ct)
    {
        await devices.Motion.SetShutterAsync(open, ct).ConfigureAwait(false);
        recorder.Status.Update(s => s with { ShutterOpen = open });
    }

    /// <summary>
    /// The safe state first, before anything is journalled: the cycler told to stop (so no later step turns the output
    /// on again), the output off (no current through the cell: the open circuit of either <c>cell.safe_state</c>) and
    /// the shutter closed, started at once on the thread pool. Idempotent: the second caller gets the first one's task,
    /// which completes with the shutter's fate ("closed", or why not) and never faults.
    /// </summary>
    public Task<string> GoSafeNow()
    {
        lock (_gate)
        {
            if (_goingSafe is { } going) return going;
            _cyclerStop.Cancel();
            var output = Task.Run(OutputOffAsync);
            var shutter = Task.Run(CloseShutterAsync);
            return _goingSafe = Task.WhenAll(output, shutter).ContinueWith(_ => shutter.Result, TaskScheduler.Default);
        }
    }

    /// <summary>The end of any run: the cycler stopped, the output off and the shutter closed, whatever went before. Never throws.</summary>
    public async Task EndAsync(string why)
    {
        var shutter = await GoSafeNow().ConfigureAwait(false);
        if (Cycling is { } cycling)
        {
            try { await cycling.ConfigureAwait(false); }
            catch (OperationCanceledException) { }
            catch (Exception e) { recorder.Journal.TryWrite(new CyclerError(e.Message)); }
        }
        // Once more after the cycler has let go of the instrument: its own last word may have been cut short.
        await OutputOffAsync().ConfigureAwait(false);
        recorder.Journal.TryWrite(new SafeStateEntered(why, SafeStateName, shutter));
    }

    /// <summary>Cancelled by a halt: whatever the loop awaits is abandoned.</summary>
    public CancellationToken Halted => _halted.Token;

    /// <summary>Who or what halted the run, once someone has.</summary>
    public string? HaltReason { get; private set; }

    /// <summary>An operator's halt, on the operator's thread (see <see cref="Halt(string)"/>).</summary>
    public void Halt(Operator.OperatorIdentity by) => Halt($"emergency halt by {by}");

    /// <summary>
    /// A halt that cannot wait for the loop (an operator, a signal, an unhandled failure): the output off and the
    /// shutter closed now, mid-exposure; the loop's wait is cancelled and it aborts with <paramref name="reason"/>.
    /// Returns the safe state's progress, for a caller that must see it reached before it goes on.
    /// </summary>
    public Task<string> Halt(string reason)
    {
        lock (_gate) HaltReason ??= reason;
        var going = GoSafeNow();
        _halted.Cancel();
        return going;
    }

    /// <summary>Runs <paramref name="exposure"/> with the shutter open, and closes it again whatever happens.</summary>
    public async Task<T> WithShutterOpenAsync<T>(Func<CancellationToken, Task<T>> exposure, CancellationToken ct)
    {
        await SetShutterAsync(true, ct).ConfigureAwait(false);
        try { return await exposure(ct).ConfigureAwait(false); }
        finally { await SetShutterAsync(false, CancellationToken.None).ConfigureAwait(false); }
    }

    private async Task OutputOffAsync()
    {
        // The driver never throws for a device error; a client that crashed may throw anything, and the shutter must still close.
        try { await devices.Potentiostat.EnterSafeStateAsync(CancellationToken.None).ConfigureAwait(false); }
        catch (Exception e) { recorder.Fault("potentiostat", "could not turn the output off: " + e.Message); }
    }

    /// <summary>"closed", or why closing failed (the motion server may be the device that failed).</summary>
    private async Task<string> CloseShutterAsync()
    {
        try
        {
            await SetShutterAsync(false, CancellationToken.None).ConfigureAwait(false);
            return "closed";
        }
        catch (Exception e)
        {
            recorder.Fault("shutter", e.Message);
            return "close failed: " + e.Message;
        }
    }
}

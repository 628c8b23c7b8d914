namespace AutonomousBeamline.Control.Suspenders;

/// <summary>
/// The cell's protocol stopped on a fault (the cycler has already left the cell safe): nothing more can be learned
/// about a cell that is not cycling, so the run ends. Checked like any other suspender, so that a fault during a wait
/// (paused, suspended, an approval window) ends the run as surely as one before a frame.
/// </summary>
/// <param name="cellFault">The cycler's error, or null while the protocol runs (or ended normally).</param>
public sealed class CellFaultSuspender(Func<Exception?> cellFault) : LevelSuspender
{
    public override string Name => "cell";

    public override SuspenderSeverity Severity => SuspenderSeverity.EndRun;

    public override TimeSpan SettleTime => TimeSpan.Zero;

    public override Task<SuspenderReading> CheckAsync(CancellationToken cancellationToken) =>
        Task.FromResult(cellFault() is { } fault
            ? SuspenderReading.Trip(fault.Message)
            : SuspenderReading.Clear("the cell's protocol runs"));
}

using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Control.Suspenders;

/// <summary>
/// The cell outside its temperature window: measuring stops and the cell is held at open circuit (no current, no
/// more heat) until it has been back inside for the settle time; then the protocol goes on where it was held.
/// </summary>
/// <param name="retry">A read that glitches (a lost or garbled reply) is asked again, as the cycler's samples are.</param>
public sealed class TemperatureSuspender(ITemperatureSensor sensor, double minC, double maxC, TimeSpan settle, Cycler cycler, TransientRetry retry) : ISuspender
{
    public string Name => "temperature";

    public SuspenderSeverity Severity => SuspenderSeverity.Suspend;

    public TimeSpan SettleTime => settle;

    /// <summary>
    /// A temperature that cannot be read (after the retries) counts as outside the window: the cell is held until it can
    /// be read again.
    /// </summary>
    public async Task<SuspenderReading> CheckAsync(CancellationToken cancellationToken)
    {
        double t;
        try { t = await retry.RunAsync("measure temperature", () => sensor.MeasureTemperatureAsync(cancellationToken), cancellationToken).ConfigureAwait(false); }
        catch (DeviceException e)
        {
            return SuspenderReading.Trip($"the cell's temperature cannot be read: {e.Message}");
        }
        var inside = t >= minC && t <= maxC;
        var text = FormattableString.Invariant($"cell at {t:0.0} °C, window [{minC}, {maxC}] °C");
        return inside ? SuspenderReading.Clear(text, t) : SuspenderReading.Trip(text, t);
    }

    public Task BeforeSuspendAsync(CancellationToken cancellationToken)
    {
        cycler.Hold("temperature suspender");
        return Task.CompletedTask;
    }

    public Task AfterResumeAsync(CancellationToken cancellationToken)
    {
        cycler.Release("temperature suspender");
        return Task.CompletedTask;
    }

    public void OperatorResumed(string by) { }
}

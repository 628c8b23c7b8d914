using System.Text.RegularExpressions;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Time;
using Polly;
using Polly.Retry;

namespace AutonomousBeamline.Control.Engine;

/// <summary>
/// Faulted on the beamline side (the motion server or the detector): the shutter is closed if it can be, then both
/// are probed with growing pauses (5, 15, 45, 135 s on the run's clock). When both answer, the run decides afresh from
/// the present state (never replaying the command that failed); when they keep failing, it gives up and the run ends
/// with the cell safe. The cell stays on its protocol meanwhile.
/// </summary>
/// <remarks>
/// A device that answers the probes but fails the same way every time it is used (a malformed reply, frames that are
/// always broken) would otherwise be recovered forever. The same fault again with no frame taken in between waits longer
/// before its probes (5, 15, 45, 135 s, as the probes themselves back off), so that a device that is only slow to come
/// back gets its time; <paramref name="maxRepeated"/> times in a row is a persistent device error that ends the run.
/// </remarks>
public sealed partial class BeamlineRecovery(RunDevices devices, IRunJournal journal, TimeProvider time, Action<MotionStatus> observed,
    Func<int> framesAcquired, int maxRepeated = BeamlineRecovery.DefaultMaxRepeated)
{
    public static readonly TimeSpan FirstPause = TimeSpan.FromSeconds(5);
    public const int Attempts = 4;
    public const int DefaultMaxRepeated = 5;
    private const double Growth = 3;

    private (string Device, string Kind, int Frames)? _lastFault;
    private int _repeated;

    /// <exception cref="DeviceException">The beamline did not come back, or keeps failing the same way; the message names the fault.</exception>
    public async Task RecoverAsync(string device, string fault, CancellationToken ct)
    {
        var kind = (device, Signature(fault), framesAcquired());
        _repeated = _lastFault == kind ? _repeated + 1 : 1;
        _lastFault = kind;
        if (_repeated >= maxRepeated)
            throw new DeviceException(device,
                $"persistent device error: the same fault {_repeated} times in a row with no frame taken in between, so recovering again " +
                $"would only repeat it: {fault}");

        try { await devices.Motion.SetShutterAsync(false, ct).ConfigureAwait(false); }
        catch (DeviceException) { /* the motion server may be the one that failed; it is probed below */ }

        // Another device may fail while the first is waited for: each one that failed gets its own "recovered" record.
        var failed = new SortedSet<string>(StringComparer.Ordinal) { device };
        var attempt = 0;
        var waited = Pause(_repeated - 1);
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<DeviceException>(_ => !ct.IsCancellationRequested),
                MaxRetryAttempts = Attempts - 1,
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(Pause(args.AttemptNumber + 1)),
                OnRetry = args =>
                {
                    var again = (DeviceException)args.Outcome.Exception!;
                    failed.Add(again.Device);
                    journal.Write(new RecoveryFailed(again.Device, args.AttemptNumber + 1, again.Message));
                    waited += Pause(args.AttemptNumber + 1);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

        await time.SleepAsync(waited, ct).ConfigureAwait(false);
        try
        {
            await pipeline.ExecuteAsync(async token =>
            {
                attempt++;
                observed(await devices.Motion.GetStatusAsync(token).ConfigureAwait(false));
                await devices.Detector.DescribeAsync(token).ConfigureAwait(false);
                var status = await devices.Motion.GetStatusAsync(token).ConfigureAwait(false);
                if (status.State == MotionState.Fault) throw new DeviceException("motion", "the motion server still reports a fault");
            }, ct).ConfigureAwait(false);
        }
        catch (DeviceException last) when (!ct.IsCancellationRequested)
        {
            journal.Write(new RecoveryFailed(last.Device, attempt, last.Message));
            throw new DeviceException(device, $"gave up after {Attempts} attempts to recover from: {fault}", last);
        }
        foreach (var d in failed) journal.Write(new DeviceRecovered(d, attempt, waited.TotalSeconds));
    }

    /// <summary>A fault's kind: its text with the numbers and quoted values that differ from one occurrence to the next taken out.</summary>
    private static string Signature(string fault) => Varying().Replace(fault, "#");

    [GeneratedRegex(@"\d+(\.\d+)?([eE][+-]?\d+)?|'[^']*'|""[^""]*""", RegexOptions.CultureInvariant)]
    private static partial Regex Varying();

    /// <summary>The pause before attempt <paramref name="attempt"/> + 1 (0: before the first).</summary>
    private static TimeSpan Pause(int attempt) => FirstPause * Math.Pow(Growth, attempt);
}

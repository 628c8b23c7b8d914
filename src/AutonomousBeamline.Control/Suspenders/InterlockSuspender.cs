using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Control.Suspenders;

/// <summary>
/// The beamline's interlock (the hutch searched and closed, the sample environment ready), as the motion server's
/// <c>status</c> reports it (an extension of FACILITY-ICD §2, docs/icd-extensions.md). A server that reports no
/// interlock never trips it.
/// </summary>
public sealed class InterlockSuspender(IMotion motion, TimeSpan settle) : LevelSuspender
{
    public override string Name => "interlock";

    public override TimeSpan SettleTime => settle;

    public override async Task<SuspenderReading> CheckAsync(CancellationToken cancellationToken)
    {
        var status = await motion.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        return status.Interlock is { Ok: false } tripped
            ? SuspenderReading.Trip($"interlock: {tripped.Reason}")
            : SuspenderReading.Clear(status.Interlock is null ? "no interlock reported" : "interlock ok");
    }
}

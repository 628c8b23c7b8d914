using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Control.Suspenders;

/// <summary>
/// No beam, no frame (FACILITY-ICD §2): the storage-ring current from the motion server's <c>status</c> below the
/// threshold suspends measuring until it has been back for the settle time.
/// </summary>
/// <param name="observed">Gets every status read, so the dashboard shows the beam the check saw.</param>
public sealed class BeamCurrentSuspender(IMotion motion, BeamPlan beam, Action<MotionStatus>? observed = null) : LevelSuspender
{
    public override string Name => "beam";

    public override TimeSpan SettleTime => TimeSpan.FromSeconds(beam.SettleS);

    public override async Task<SuspenderReading> CheckAsync(CancellationToken cancellationToken)
    {
        var status = await motion.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        observed?.Invoke(status);
        var current = status.BeamCurrentMa;
        return current >= beam.ThresholdMa
            ? SuspenderReading.Clear(FormattableString.Invariant($"beam {current:0.0} mA"), current)
            : SuspenderReading.Trip(FormattableString.Invariant($"beam {current:0.0} mA below threshold {beam.ThresholdMa} mA"), current);
    }
}

using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Simulators.Physics;

/// <summary>
/// The beamline changes under the experiment part-way through: from <paramref name="at"/> on, the patterns are those of
/// <paramref name="after"/> (the same sample at another X-ray wavelength, say, because someone moved the monochromator or
/// the undulator). The detector's axis stays what it described, as a real detector's does: it knows angles, not the beam.
/// Nothing on the controller's side is told; it can only see that the patterns stop fitting.
/// </summary>
public sealed class BeamlineChangeRenderer : IXrdRenderer
{
    private readonly IXrdRenderer _before, _after;
    private readonly DateTimeOffset _at;
    private readonly TimeProvider _time;

    public BeamlineChangeRenderer(IXrdRenderer before, IXrdRenderer after, DateTimeOffset at, TimeProvider time)
    {
        _before = before ?? throw new ArgumentNullException(nameof(before));
        _after = after ?? throw new ArgumentNullException(nameof(after));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        if (before.Axis != after.Axis)
            throw new ArgumentException($"the renderer after the change has the axis {after.Axis}, the detector describes {before.Axis}", nameof(after));
        _at = at;
    }

    public UniformAxis Axis => _before.Axis;

    /// <summary>When the beamline changes.</summary>
    public DateTimeOffset ChangesAt => _at;

    public float[] Render(double fePO4Fraction, double exposureS, double signalScale, Random rng) =>
        (_time.GetUtcNow() >= _at ? _after : _before).Render(fePO4Fraction, exposureS, signalScale, rng);
}

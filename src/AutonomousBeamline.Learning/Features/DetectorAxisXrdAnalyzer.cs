using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Core.Materials;

namespace AutonomousBeamline.Learning.Features;

/// <summary>
/// A diffraction analyser for whatever axis the detector delivers: the references are computed for the axis a frame's
/// header names (2θ in degrees or radians, q in Å⁻¹ or nm⁻¹, as <c>describe</c> reported it), once per axis, at the
/// configured beam. A frame on an axis that is neither 2θ nor q is flagged <see cref="XrdPhaseAnalyzer.FlagWrongAxis"/>.
/// </summary>
public sealed class DetectorAxisXrdAnalyzer(DiffractionMaterials materials, XrdAnalyzerOptions options) : IXrdAnalyzer
{
    private readonly Dictionary<UniformAxis, XrdPhaseAnalyzer?> _byAxis = new();
    private readonly Lock _gate = new();

    public DiffractionMaterials Materials { get; } = materials;
    public XrdAnalyzerOptions Options { get; } = options;

    /// <summary>The axis a frame's header describes, or null when it does not describe a uniform one.</summary>
    public static UniformAxis? AxisOf(Frame frame) => frame.Header is { XStart: { } start, XStep: { } step } h && frame.X is null
        ? new UniformAxis(h.N, h.XName ?? "", h.XUnit ?? "", start, step)
        : null;

    /// <summary>The analyser for an axis; null when the axis is neither 2θ nor q or no phase has a peak on it.</summary>
    public XrdPhaseAnalyzer? For(UniformAxis axis)
    {
        lock (_gate)
        {
            if (_byAxis.TryGetValue(axis, out var known)) return known;
            XrdPhaseAnalyzer? built;
            try { built = DiffractionAxis.TryFrom(axis, out _) is null ? null : new XrdPhaseAnalyzer(axis, Materials, Options); }
            catch (ArgumentException) { built = null; }
            // A detector describes one axis, perhaps a few over a run; a header that drifts per frame must not grow this without end.
            if (_byAxis.Count >= 16) _byAxis.Clear();
            _byAxis[axis] = built;
            return built;
        }
    }

    public XrdFeatures Analyze(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.Header.Kind != FrameKind.Xrd) return new XrdFeatures(double.NaN, double.NaN, XrdPhaseAnalyzer.FlagWrongKind);
        if (AxisOf(frame) is not { } axis || For(axis) is not { } analyzer) return new XrdFeatures(double.NaN, double.NaN, XrdPhaseAnalyzer.FlagWrongAxis);
        return analyzer.Analyze(frame);
    }

    public bool FollowsMovingPhases => Materials.MaximumStrain.Values.Any(m => m > XrdPhaseAnalyzer.SolidSolutionStrain);

    public ReferenceExplanation? Explain(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return frame.Header.Kind == FrameKind.Xrd && AxisOf(frame) is { } axis && For(axis) is { } analyzer ? analyzer.Explain(frame) : null;
    }
}

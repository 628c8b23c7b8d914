using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Learning.Tests.Features;

/// <summary>Wraps rendered intensities in the frame a detector client would hand over.</summary>
internal static class FrameFactory
{
    public static Frame Xrd(float[] intensities, UniformAxis axis, double exposureS = 1.0, FrameKind kind = FrameKind.Xrd, int? n = null) =>
        new(new FrameHeader
        {
            Frame = 1,
            RequestId = "test",
            Kind = kind,
            N = n ?? intensities.Length,
            XMode = "uniform",
            XName = axis.Name,
            XUnit = axis.Unit,
            XStart = axis.Start,
            XStep = axis.Step,
            ExposureS = exposureS,
            TStart = DateTimeOffset.UnixEpoch,
            BeamCurrentMa = 200,
        }, intensities, null);

    public static Frame Xas(IReadOnlyList<double> energies, float[] mu) =>
        new(new FrameHeader
        {
            Frame = 2,
            RequestId = "test-xas",
            Kind = FrameKind.Xas,
            N = mu.Length,
            XMode = "explicit",
            XName = "energy",
            XUnit = "eV",
            TStart = DateTimeOffset.UnixEpoch,
            BeamCurrentMa = 200,
        }, mu, energies.Select(e => (float)e).ToArray());
}

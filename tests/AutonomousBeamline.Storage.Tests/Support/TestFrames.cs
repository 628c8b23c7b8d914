using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Storage.Tests;

public static class TestFrames
{
    public static Frame Xrd(long n, float value = 1) => new(new FrameHeader
    {
        Frame = n, RequestId = "r" + n, Kind = FrameKind.Xrd, N = 4, XMode = "uniform", XName = "two_theta", XUnit = "deg", XStart = 5, XStep = 0.005,
        ExposureS = 20, TStart = DateTimeOffset.UnixEpoch.AddSeconds(n), BeamCurrentMa = 200,
        Positions = new Dictionary<string, double> { ["sample_x"] = n, ["sample_y"] = 2 },
    }, [value, value + 1, value + 2, value + 3], null);

    public static Frame Xas(long n) => new(new FrameHeader
    {
        Frame = n, RequestId = "r" + n, Kind = FrameKind.Xas, N = 3, XMode = "explicit", ExposureS = 3, TStart = DateTimeOffset.UnixEpoch, BeamCurrentMa = 199,
    }, [0.1f, 0.5f, 1.0f], [7110f, 7122f, 7130f]);
}

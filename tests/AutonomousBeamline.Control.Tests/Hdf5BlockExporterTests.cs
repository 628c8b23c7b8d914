using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Devices;
using PureHDF;

namespace AutonomousBeamline.Control.Tests;

public sealed class Hdf5BlockExporterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hdf5-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static Frame Xrd(long n, float value) => new(new FrameHeader
    {
        Frame = n, RequestId = "r" + n, Kind = FrameKind.Xrd, N = 4, XMode = "uniform", XName = "two_theta", XUnit = "deg", XStart = 5, XStep = 0.005,
        TStart = DateTimeOffset.UnixEpoch.AddSeconds(n), BeamCurrentMa = 200, Positions = new Dictionary<string, double> { ["sample_x"] = n, ["sample_y"] = 2 },
    }, [value, value + 1, value + 2, value + 3], null);

    private static Frame Xas(long n) => new(new FrameHeader
    {
        Frame = n, RequestId = "r" + n, Kind = FrameKind.Xas, N = 3, XMode = "explicit", TStart = DateTimeOffset.UnixEpoch, BeamCurrentMa = 199,
    }, [0.1f, 0.5f, 1.0f], [7110f, 7122f, 7130f]);

    [Fact]
    public void Complete_blocks_are_written_as_they_fill_and_the_rest_at_the_end_readable_back()
    {
        var framesPath = Path.Combine(_dir, "frames.jsonl");
        var h5 = Path.Combine(_dir, "hdf5");
        using var store = new FrameStore(framesPath);
        var exporter = new Hdf5BlockExporter(framesPath, h5, blockFrames: 3);

        store.Store(Xrd(1, 10), "observation", 1);
        store.Store(Xrd(2, 20), "flagged:flat");
        Assert.False(exporter.BlockDue(store.Count));
        store.Store(Xas(3), "observation", 2);
        Assert.True(exporter.BlockDue(store.Count));
        exporter.Export(final: false);
        store.Store(Xrd(4, 40), "observation", 3);
        exporter.Export(final: false);
        Assert.Equal(1, exporter.BlocksWritten); // the fourth frame waits for its block
        exporter.Export(final: true);
        Assert.Equal(2, exporter.BlocksWritten);

        var first = H5File.OpenRead(Path.Combine(h5, "block-0001.h5"));
        Assert.Equal(3L, first.Attribute("frames").Read<long>());
        var intensities = first.Group("xrd").Dataset("intensities").Read<float[,]>();
        Assert.Equal(2, intensities.GetLength(0));
        Assert.Equal(23f, intensities[1, 3]);
        Assert.Equal(0.005, first.Group("xrd").Dataset("intensities").Attribute("x_step").Read<double>());
        Assert.Equal([1L, 2L], first.Group("xrd").Dataset("frame").Read<long[]>());
        Assert.Equal([1.0, 2.0], first.Group("xrd").Dataset("position_sample_x").Read<double[]>());
        Assert.Equal([7110f, 7122f, 7130f], first.Group("xas").Group("scan_0000").Dataset("x").Read<float[]>());

        var second = H5File.OpenRead(Path.Combine(h5, "block-0002.h5"));
        Assert.Equal(4L, second.Attribute("first_frame_line").Read<long>());

        // A resumed run picks up after the blocks already written.
        Assert.Equal(4, new Hdf5BlockExporter(framesPath, h5, 3).Exported);
    }
}

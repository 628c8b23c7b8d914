using AutonomousBeamline.Core.Domain;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using AutonomousBeamline.Instruments.Detector;

namespace AutonomousBeamline.Instruments.Tests.Detector;

public class FrameDecoderTests
{
    internal static JsonObject GoodHeader(string requestId = "c-42", int n = 3) => new()
    {
        ["htype"] = "pattern-1.0", ["frame"] = 17, ["request_id"] = requestId, ["kind"] = "xrd",
        ["n"] = n, ["dtype"] = "<f4",
        ["x"] = "uniform", ["x_name"] = "two_theta", ["x_unit"] = "deg", ["x_start"] = 5.0, ["x_step"] = 0.005,
        ["exposure_s"] = 1.0, ["t_start"] = "2026-11-24T21:03:05.123Z",
        ["positions"] = new JsonObject { ["sample_x"] = 12.5, ["sample_y"] = 3.0 }, ["beam_current_mA"] = 199.7,
    };

    internal static byte[] Bytes(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    private static List<byte[]> Parts(JsonObject header, params byte[][] payloads) =>
        [Encoding.UTF8.GetBytes(header.ToJsonString()), .. payloads];

    [Fact]
    public void The_ICD_example_decodes()
    {
        var frame = FrameDecoder.Decode(Parts(GoodHeader(), Bytes(1, 2, 3)));

        Assert.Equal(17, frame.Header.Frame);
        Assert.Equal("c-42", frame.Header.RequestId);
        Assert.Equal(FrameKind.Xrd, frame.Header.Kind);
        Assert.Equal("uniform", frame.Header.XMode);
        Assert.Equal("two_theta", frame.Header.XName);
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 21, 3, 5, 123, TimeSpan.Zero), frame.Header.TStart);
        Assert.Equal(12.5, frame.Header.Positions["sample_x"]);
        Assert.Equal(199.7, frame.Header.BeamCurrentMa);
        Assert.Equal([1f, 2f, 3f], frame.Intensities);
        Assert.Null(frame.X);
        Assert.Equal(5.01, frame.XAt(2), 9);
    }

    [Fact]
    public void An_explicit_axis_takes_the_third_part()
    {
        var header = GoodHeader();
        header["x"] = "explicit";
        header.Remove("x_start");
        header.Remove("x_step");

        var frame = FrameDecoder.Decode(Parts(header, Bytes(1, 2, 3), Bytes(7100, 7110, 7150)));

        Assert.Equal([7100f, 7110f, 7150f], frame.X!);
        Assert.Equal(7150, frame.XAt(2));
    }

    public static TheoryData<string, Func<JsonObject, List<byte[]>>, string> BadFrames => new()
    {
        { "wrong htype", h => { h["htype"] = "dstream-1.0"; return Parts(h, Bytes(1, 2, 3)); }, "htype" },
        { "no frame", h => { h.Remove("frame"); return Parts(h, Bytes(1, 2, 3)); }, "\"frame\"" },
        { "no request id", h => { h.Remove("request_id"); return Parts(h, Bytes(1, 2, 3)); }, "request_id" },
        { "n as text", h => { h["n"] = "3"; return Parts(h, Bytes(1, 2, 3)); }, "\"n\"" },
        { "n zero", h => { h["n"] = 0; return Parts(h, Bytes()); }, "\"n\"" },
        { "dtype", h => { h["dtype"] = "<f8"; return Parts(h, Bytes(1, 2, 3)); }, "dtype" },
        { "x mode", h => { h["x"] = "log"; return Parts(h, Bytes(1, 2, 3)); }, "\"x\"" },
        { "uniform without step", h => { h.Remove("x_step"); return Parts(h, Bytes(1, 2, 3)); }, "x_step" },
        { "bad time", h => { h["t_start"] = "yesterday"; return Parts(h, Bytes(1, 2, 3)); }, "t_start" },
        { "no beam", h => { h.Remove("beam_current_mA"); return Parts(h, Bytes(1, 2, 3)); }, "beam_current_mA" },
        { "position text", h => { h["positions"] = new JsonObject { ["sample_x"] = "12" }; return Parts(h, Bytes(1, 2, 3)); }, "sample_x" },
        { "n larger than payload", h => { h["n"] = 4; return Parts(h, Bytes(1, 2, 3)); }, "12 bytes" },
        { "truncated payload", h => Parts(h, Bytes(1, 2, 3)[..10]), "10 bytes" },
        { "NaN", h => Parts(h, Bytes(1, float.NaN, 3)), "value 1 is NaN" },
        { "infinity", h => Parts(h, Bytes(1, 2, float.PositiveInfinity)), "value 2" },
        { "missing payload", h => Parts(h), "1 message parts" },
        { "explicit without x", h => { h["x"] = "explicit"; return Parts(h, Bytes(1, 2, 3)); }, "expected 3" },
        { "extra part", h => Parts(h, Bytes(1, 2, 3), Bytes(1, 2, 3)), "expected 2" },
    };

    [Theory]
    [MemberData(nameof(BadFrames))]
    public void A_bad_frame_is_rejected_with_a_reason(string _, Func<JsonObject, List<byte[]>> make, string reasonContains)
    {
        var ex = Assert.Throws<FrameRejectedException>(() => FrameDecoder.Decode(make(GoodHeader())));

        Assert.Contains(reasonContains, ex.Reason);
    }

    [Fact]
    public void A_rejection_names_the_request_when_the_header_does()
    {
        var ex = Assert.Throws<FrameRejectedException>(() => FrameDecoder.Decode(Parts(GoodHeader("c-9"), Bytes(1, float.NaN, 3))));

        Assert.Equal("c-9", ex.RequestId);
        Assert.Equal(17, ex.FrameNumber);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"htype\":\"pattern-1.0\",\"htype\":\"pattern-1.0\"}")]
    public void A_header_that_is_not_a_JSON_object_is_rejected(string text)
    {
        var ex = Assert.Throws<FrameRejectedException>(() => FrameDecoder.Decode([Encoding.UTF8.GetBytes(text), Bytes(1)]));

        Assert.Contains("header", ex.Reason);
        Assert.Null(ex.RequestId);
    }
}

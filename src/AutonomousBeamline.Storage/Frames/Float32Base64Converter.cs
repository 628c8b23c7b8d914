using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AutonomousBeamline.Storage;

/// <summary>
/// A float array as the base64 of its float32 little-endian bytes (<c>intensities_f32le</c>, <c>x_f32le</c>): compact,
/// exact, and what any tool can decode. The bytes are the array's own memory, little-endian on every platform this
/// runs on (x64, arm64), so nothing is copied on the way out.
/// </summary>
internal sealed class Float32Base64Converter : JsonConverter<float[]>
{
    public override float[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var bytes = reader.GetBytesFromBase64();
        if (bytes.Length % sizeof(float) != 0) throw new JsonException($"{bytes.Length} bytes are not whole float32 values");
        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }

    public override void Write(Utf8JsonWriter writer, float[] value, JsonSerializerOptions options) =>
        writer.WriteBase64StringValue(MemoryMarshal.AsBytes(value.AsSpan()));
}

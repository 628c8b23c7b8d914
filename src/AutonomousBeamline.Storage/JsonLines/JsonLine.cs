using System.Buffers;
using System.Text.Json;

namespace AutonomousBeamline.Storage;

/// <summary>One JSON value on one line, its newline included: what the run folder's files hold per record.</summary>
internal static class JsonLine
{
    public static ReadOnlyMemory<byte> Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer)) write(json);
        buffer.Write("\n"u8);
        return buffer.WrittenMemory;
    }
}

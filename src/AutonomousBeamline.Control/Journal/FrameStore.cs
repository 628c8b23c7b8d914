using System.Text.Json;
using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Control.Journal;

/// <summary>
/// Every frame received, as it arrived, whether or not it became an observation: one JSON line per
/// frame with its header and its float32 payload in base64. Written through to disk per frame so that
/// memory stays flat and nothing measured is lost.
/// </summary>
public sealed class FrameStore : IDisposable
{
    private readonly object _gate = new();
    private readonly FileStream _file;
    private int _count;

    public FrameStore(string path)
    {
        Path = path;
        _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
    }

    public string Path { get; }
    public int Count => Volatile.Read(ref _count);

    /// <param name="observationSequence">For a frame that becomes an observation: the observation's sequence number,
    /// so that a resume can tell a frame whose observation record was lost to a crash.</param>
    public void Store(Frame frame, string disposition, long? observationSequence = null)
    {
        var record = new
        {
            disposition,
            observation_sequence = observationSequence,
            header = frame.Header,
            intensities_f32le = Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(frame.Intensities.AsSpan())),
            x_f32le = frame.X is null ? null : Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(frame.X.AsSpan())),
        };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(record, RunJournal.JsonOptions);
        lock (_gate)
        {
            _file.Write(bytes);
            _file.WriteByte((byte)'\n');
            _file.Flush(flushToDisk: true);
            _count++;
        }
    }

    public void Dispose()
    {
        lock (_gate) _file.Dispose();
    }
}

/// <summary>Reads frames back from a frame file (resume, reports).</summary>
/// <summary>One record of a frame file: what became of the frame, and the frame itself when it was asked for.</summary>
public sealed record FrameFileRecord(string Disposition, long? ObservationSequence, double ExposureS, Frame? Frame);

/// <summary>Reads frames back from a frame file (resume, HDF5 blocks, reports).</summary>
public static class FrameFile
{
    /// <summary>
    /// Every readable record in one pass; a torn last line is skipped. Payloads are decoded only for the records
    /// <paramref name="decode"/> selects (all when null), since decoding is most of the cost.
    /// </summary>
    /// <param name="skip">Records to pass over unread at the start (those already handled).</param>
    public static IEnumerable<FrameFileRecord> Scan(string path, Func<string, long?, bool>? decode = null, int skip = 0)
    {
        if (!File.Exists(path)) yield break;
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (skip > 0) { skip--; continue; }
            System.Text.Json.Nodes.JsonObject? node;
            try { node = System.Text.Json.Nodes.JsonNode.Parse(line) as System.Text.Json.Nodes.JsonObject; }
            catch (JsonException) { continue; }
            if (node?["header"] is not System.Text.Json.Nodes.JsonObject h) continue;
            var disposition = (string?)node["disposition"] ?? "";
            var sequence = (long?)node["observation_sequence"];
            var exposure = (double?)h["exposure_s"] ?? 0;
            if (decode is not null && !decode(disposition, sequence))
            {
                yield return new FrameFileRecord(disposition, sequence, exposure, null);
                continue;
            }
            var header = h.Deserialize<FrameHeader>(RunJournal.JsonOptions)!;
            var intensities = Floats((string?)node["intensities_f32le"]);
            var x = node["x_f32le"] is { } xs ? Floats((string?)xs) : null;
            yield return new FrameFileRecord(disposition, sequence, exposure, new Frame(header, intensities, x));
        }
    }

    /// <summary>The frames of the records <paramref name="wanted"/> selects (all when null), decoded.</summary>
    public static IEnumerable<(string Disposition, long? ObservationSequence, Frame Frame)> Read(string path, Func<string, long?, bool>? wanted = null, int skip = 0) =>
        Scan(path, wanted, skip).Where(r => r.Frame is not null).Select(r => (r.Disposition, r.ObservationSequence, r.Frame!));

    private static float[] Floats(string? base64) =>
        base64 is null ? [] : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(Convert.FromBase64String(base64)).ToArray();
}

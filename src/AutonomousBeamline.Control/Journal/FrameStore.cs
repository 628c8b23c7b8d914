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

    public void Store(Frame frame, string disposition)
    {
        var record = new
        {
            disposition,
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

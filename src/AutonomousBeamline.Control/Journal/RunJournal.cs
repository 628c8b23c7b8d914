using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace AutonomousBeamline.Control.Journal;

/// <summary>
/// The run's source of truth: an append-only file of JSON lines, one record per event, written
/// through to disk before <see cref="Write"/> returns, so that a crash loses at most the record
/// being written. Safe to call from the loop and the cycler at once.
/// </summary>
public sealed class RunJournal : IDisposable
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        // Enums as their snake_case names ("xrd", "c_rate", "learner"), as readers of the journal expect.
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private readonly object _gate = new();
    private readonly FileStream _file;
    private readonly TimeProvider _time;
    private long _sequence;
    private bool _disposed;

    public RunJournal(string path, TimeProvider time)
    {
        Path = path;
        _time = time;
        // Appending to a journal (a resumed run): numbering goes on, and a line torn by the crash is closed first
        // so that the next record starts on a line of its own.
        if (File.Exists(path) && new FileInfo(path).Length > 0)
        {
            _sequence = Read(path).Select(r => (long?)r["seq"] ?? 0).DefaultIfEmpty(0).Max();
            using var existing = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            existing.Seek(-1, SeekOrigin.End);
            _tornLine = existing.ReadByte() != '\n';
        }
        _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16, FileOptions.None);
        if (_tornLine) _file.WriteByte((byte)'\n');
    }

    private readonly bool _tornLine;

    public string Path { get; }

    /// <summary>Raised after each record is on disk (for live displays); handlers must be quick.</summary>
    public event Action<JsonObject>? Recorded;

    /// <summary>Appends one record of <paramref name="type"/> with the fields of <paramref name="payload"/>.</summary>
    public void Write(string type, object? payload = null)
    {
        JsonObject record;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            record = new JsonObject
            {
                ["seq"] = ++_sequence,
                ["t"] = _time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture),
                ["type"] = type,
            };
            if (payload is not null)
            {
                var fields = JsonSerializer.SerializeToNode(payload, payload.GetType(), JsonOptions) as JsonObject
                             ?? throw new ArgumentException("a journal payload must serialise to a JSON object", nameof(payload));
                foreach (var (key, value) in fields.ToList())
                {
                    fields.Remove(key);
                    record[key] = value;
                }
            }
            var bytes = System.Text.Encoding.UTF8.GetBytes(record.ToJsonString(JsonOptions) + "\n");
            _file.Write(bytes);
            // Through the OS cache to the disk: the journal is what a resume trusts.
            _file.Flush(flushToDisk: true);
        }
        Recorded?.Invoke(record);
    }

    /// <summary>Like <see cref="Write"/>, but false instead of an exception once the journal is closed (the run is over).</summary>
    public bool TryWrite(string type, object? payload = null)
    {
        lock (_gate)
            if (_disposed) return false;
        try
        {
            Write(type, payload);
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _file.Dispose();
        }
    }

    /// <summary>Reads every record of a journal file (for reports, tests and resume).</summary>
    public static IEnumerable<JsonObject> Read(string path)
    {
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonObject? record;
            try { record = JsonNode.Parse(line) as JsonObject; }
            catch (JsonException) { record = null; }
            // A torn last line after a crash is expected; anything else is not.
            if (record is null) continue;
            yield return record;
        }
    }
}

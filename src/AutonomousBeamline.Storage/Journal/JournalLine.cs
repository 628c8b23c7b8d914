using System.Globalization;
using System.Text.Json;
using AutonomousBeamline.Control.Journal;

namespace AutonomousBeamline.Storage;

/// <summary>A journal line read back: the entry, or why it could not be (with its seq when it had one).</summary>
internal readonly record struct DecodedLine(JournalEntry? Entry, long? Sequence, string? Problem);

/// <summary>
/// One line of journal.jsonl: <c>{"seq":N,"t":"2026-11-24T21:00:00.000Z","type":"...", the record's fields}</c>.
/// </summary>
internal static class JournalLine
{
    /// <summary>A record's time, in UTC to the millisecond, as journals have always written it.</summary>
    public const string TimeFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";

    public static ReadOnlyMemory<byte> Encode(JournalEntry entry)
    {
        var type = JournalRecordTypes.Of(entry.Record);
        var fields = type.FieldsOf(entry.Record);
        return JsonLine.Write(json =>
        {
            json.WriteStartObject();
            json.WriteNumber("seq", entry.Sequence);
            json.WriteString("t", entry.Time.ToUniversalTime().ToString(TimeFormat, CultureInfo.InvariantCulture));
            json.WriteString("type", type.Name);
            foreach (var field in fields.EnumerateObject()) field.WriteTo(json);
            json.WriteEndObject();
        });
    }

    public static DecodedLine Decode(string line)
    {
        if (string.IsNullOrWhiteSpace(line)) return new(null, null, "an empty line");
        JsonDocument document;
        try { document = JsonDocument.Parse(line); }
        catch (JsonException e) { return new(null, null, $"not JSON (a line torn by a crash?): {e.Message}"); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return new(null, null, "not a JSON object");
            long? sequence = root.TryGetProperty("seq", out var seq) && seq.ValueKind == JsonValueKind.Number && seq.TryGetInt64(out var n) ? n : null;
            if (sequence is null) return new(null, null, "no seq");
            if (!root.TryGetProperty("t", out var t) || t.ValueKind != JsonValueKind.String || !t.TryGetDateTimeOffset(out var time))
                return new(null, sequence, "no time (t)");
            if (!root.TryGetProperty("type", out var typeName) || typeName.ValueKind != JsonValueKind.String)
                return new(null, sequence, "no type");
            if (JournalRecordTypes.Named(typeName.GetString()!) is not { } type)
                return new(null, sequence, $"unknown record type '{typeName.GetString()}'");
            try { return new(new JournalEntry(sequence.Value, time, type.Read(root)), sequence, null); }
            catch (Exception e) when (e is JsonException or NotSupportedException)
            {
                return new(null, sequence, $"a {type.Name} record whose fields do not fit: {e.Message}");
            }
        }
    }
}

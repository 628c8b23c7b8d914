using System.Text.Json;
using System.Text.Json.Nodes;
using AutonomousBeamline.Control.Journal;

namespace AutonomousBeamline.Storage;

/// <summary>
/// One kind of journal record: its name in the file (<c>"type"</c>) and where its fields come from — the record's own
/// properties, or for a record written flat, those of the value it carries (an observation's, a decision's).
/// </summary>
internal sealed class JournalRecordType(
    Type type, string name, Type fieldsType, Func<JournalRecord, object> toFields, Func<object, JournalRecord> fromFields, Action<JsonObject>? upgrade)
{
    public Type Type { get; } = type;
    public string Name { get; } = name;

    /// <summary>A record whose properties are the line's fields.</summary>
    /// <param name="upgrade">Turns a line of an older shape into today's before it is read.</param>
    public static JournalRecordType Fields<TRecord>(string name, Action<JsonObject>? upgrade = null) where TRecord : JournalRecord =>
        new(typeof(TRecord), name, typeof(TRecord), r => r, f => (TRecord)f, upgrade);

    /// <summary>A record written flat: the fields of the value it carries stand on the line itself.</summary>
    public static JournalRecordType Flat<TRecord, TValue>(string name, Func<TRecord, TValue> value, Func<TValue, TRecord> record)
        where TRecord : JournalRecord where TValue : notnull =>
        new(typeof(TRecord), name, typeof(TValue), r => value((TRecord)r), f => record((TValue)f), upgrade: null);

    /// <summary>The record's fields as the line holds them.</summary>
    public JsonElement FieldsOf(JournalRecord record) =>
        JsonSerializer.SerializeToElement(toFields(record), fieldsType, RunFolderJson.Options);

    /// <summary>
    /// The record a line holds. The line's own seq, t and type are not fields of any record and are passed over.
    /// Throws <see cref="JsonException"/> (or <see cref="NotSupportedException"/> for args naming no known command) when
    /// the fields do not fit.
    /// </summary>
    public JournalRecord Read(JsonElement line)
    {
        object? value;
        if (upgrade is null)
            value = line.Deserialize(fieldsType, RunFolderJson.Options);
        else
        {
            var node = JsonObject.Create(line)!;
            upgrade(node);
            value = node.Deserialize(fieldsType, RunFolderJson.Options);
        }
        return fromFields(value ?? throw new JsonException($"a {Name} record cannot be null"));
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using AutonomousBeamline.Control.Operator;

namespace AutonomousBeamline.Operator;

/// <summary>The "code" of an error reply on the operator endpoint.</summary>
public static class OperatorErrorCodes
{
    /// <summary>The request is not valid JSON, lacks a field, or has a field of the wrong type or value.</summary>
    public const string BadRequest = "BAD_REQUEST";

    /// <summary>"cmd" names no command.</summary>
    public const string UnknownCommand = "UNKNOWN_COMMAND";

    /// <summary>The controller refused the command (outside the safety envelope, wrong state, ...); the message says why.</summary>
    public const string Refused = "REFUSED";

    /// <summary>The endpoint requires client authentication and the request did not prove an allowed key.</summary>
    public const string Unauthorized = "UNAUTHORIZED";

    /// <summary>The controller failed while handling the command; the run itself is not affected.</summary>
    public const string Internal = "INTERNAL";
}

/// <summary>
/// JSON shapes of the operator protocol (docs/console.md): requests {"id","cmd","args","user","host"},
/// replies {"id","ok",...}, and the snapshot in snake_case, which is also what the status stream publishes.
/// </summary>
public static class OperatorProtocol
{
    /// <summary>Topic frame of the status stream.</summary>
    public const string StatusTopic = "status";

    /// <summary>Snake_case, and NaN/infinity written as strings rather than failing: a spread may be undefined where the model has no data.</summary>
    public static JsonSerializerOptions SnapshotJson { get; } = new(JsonSerializerDefaults.General)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = false,
    };

    public static string SerializeSnapshot(ExperimentSnapshot snapshot) => JsonSerializer.Serialize(snapshot, SnapshotJson);

    /// <summary>Reads a snapshot from its JSON form.</summary>
    /// <exception cref="FormatException">The text is not a snapshot; the message says why.</exception>
    public static ExperimentSnapshot DeserializeSnapshot(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<ExperimentSnapshot>(json, SnapshotJson)
                   ?? throw new FormatException("the snapshot is JSON null");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"not a snapshot: {ex.Message}", ex);
        }
    }

    public static JsonObject SnapshotNode(ExperimentSnapshot snapshot) =>
        JsonSerializer.SerializeToNode(snapshot, SnapshotJson)!.AsObject();

    public static string Success(string id, string message) =>
        new JsonObject { ["id"] = id, ["ok"] = true, ["message"] = message }.ToJsonString();

    public static string Success(string id, JsonObject fields)
    {
        var reply = new JsonObject { ["id"] = id, ["ok"] = true };
        foreach (var (key, value) in fields.ToList())
        {
            fields.Remove(key);
            reply[key] = value;
        }
        return reply.ToJsonString();
    }

    /// <summary>An error reply; <paramref name="id"/> is null when the request had no readable id.</summary>
    public static string Error(string? id, string code, string message) =>
        new JsonObject
        {
            ["id"] = id,
            ["ok"] = false,
            ["error"] = new JsonObject { ["code"] = code, ["message"] = message },
        }.ToJsonString();
}

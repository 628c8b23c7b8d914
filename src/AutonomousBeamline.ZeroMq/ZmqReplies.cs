using System.Text.Json.Nodes;

namespace AutonomousBeamline.ZeroMq;

/// <summary>One request as the client sent it: its id (echoed by the reply) and its command.</summary>
public sealed record ZmqRequest(string Id, string Cmd);

/// <summary>The error of an error reply: <c>"error": {"code", "message"}</c>.</summary>
public sealed record ZmqError(string Code, string Message);

/// <summary>
/// The reply to one request (its id matched), with its envelope read: <c>{"id", "ok": true, "message"?, ...}</c> or
/// <c>{"id", "ok": false, "error": {"code", "message"}}</c>. Both the facility ICD and the operator protocol use it.
/// </summary>
/// <param name="Body">The whole reply, for the fields a command adds.</param>
/// <param name="Message">The "message" of a success; empty when it has none.</param>
/// <param name="Error">The error of an error reply; null for a success.</param>
public sealed record ZmqReply(JsonObject Body, string Message, ZmqError? Error)
{
    public bool Ok => Error is null;

    /// <summary>Reads the envelope of <paramref name="body"/>; null with the <paramref name="problem"/> when it has none.</summary>
    internal static ZmqReply? Read(JsonObject body, out string problem)
    {
        problem = "";
        if (body["ok"] is not JsonValue okValue || !okValue.TryGetValue<bool>(out var ok))
        {
            problem = "has no boolean \"ok\"";
            return null;
        }
        if (ok) return new ZmqReply(body, Text(body["message"]), null);
        if (body["error"] is not JsonObject error || error["code"] is not JsonValue code || !code.TryGetValue<string>(out var codeText))
        {
            problem = "is an error without \"error\": {\"code\"}";
            return null;
        }
        return new ZmqReply(body, "", new ZmqError(codeText, Text(error["message"])));
    }

    private static string Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : "";
}

/// <summary>
/// What a <see cref="ZmqRequestClient{TReply}"/> makes of the answers to its requests: the one part that differs between
/// the protocols sharing the client (an instrument turns an error reply into an exception, the operator console into a
/// value). Called on the client's socket thread, so it must be quick and do no I/O.
/// </summary>
public interface IReplyInterpreter<out TReply>
{
    /// <summary>The result of <paramref name="request"/> from its reply; throw to fail the request (an error reply, say).</summary>
    TReply Read(ZmqRequest request, ZmqReply reply);

    /// <summary>The failure for a reply that has the request's id but no readable envelope (<paramref name="problem"/> says what is missing).</summary>
    Exception Malformed(ZmqRequest request, string problem, string text);

    /// <summary>
    /// A reply that is not a JSON object, so no id can be read from it. Null discards it and sends the request again (a
    /// stray on the link); an exception ends the request with it (a peer that speaks something else).
    /// </summary>
    Exception? Unreadable(ZmqRequest request, string problem);

    /// <summary>The failure for a request that got no reply of its own after every attempt; <paramref name="message"/> says how long and how often.</summary>
    Exception NoReply(ZmqRequest request, string message);
}

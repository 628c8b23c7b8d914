using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Instruments.Scpi;

/// <summary>One entry of the instrument's error queue, e.g. <c>-222,"Data out of range"</c>.</summary>
public sealed record ScpiError(int Code, string Message)
{
    public bool IsError => Code != 0;

    public override string ToString() => $"{Code},\"{Message}\"";
}

/// <summary>The instrument refused a command: its error queue held non-zero entries after it.</summary>
public sealed class ScpiCommandException(string device, string command, IReadOnlyList<ScpiError> errors)
    : DeviceException(device, $"command \"{command}\" failed: {string.Join("; ", errors)}")
{
    public string Command { get; } = command;

    /// <summary>The non-zero entries the instrument reported, oldest first.</summary>
    public IReadOnlyList<ScpiError> Errors { get; } = errors;
}

/// <summary>A reply that does not have the form the query promises (quoted in the message).</summary>
public class ScpiReplyFormatException(string device, string query, string reply, string expected)
    : DeviceException(device, $"reply to \"{query}\" is malformed: expected {expected}, got \"{reply}\"")
{
    public string Query { get; } = query;
    public string Reply { get; } = reply;
}

/// <summary>The instrument answered with the SCPI overflow value 9.9E37 (measurement out of range).</summary>
public sealed class ScpiOverflowException(string device, string query, string reply)
    : DeviceException(device, $"reply to \"{query}\" is the overflow value \"{reply}\" (measurement out of range)")
{
    public string Query { get; } = query;
    public string Reply { get; } = reply;
}

/// <summary>
/// The client could not prove that a line belongs to the query it asked (a line of the wrong form, an unexpected extra
/// line after the reply): it did not believe it, discarded its input and resynchronises before the next exchange.
/// An idempotent query is asked again; when the doubt persists this is what the caller sees.
/// </summary>
public sealed class ScpiOutOfStepException(string device, string query, string reply, string reason)
    : DeviceException(device, $"reply to \"{query}\" not believed: {reason} (got \"{reply}\"); input discarded, link to be resynchronised")
{
    public string Query { get; } = query;
    public string Reply { get; } = reply;

    /// <summary>Every line seen in the doubted exchange, the doubted reply first.</summary>
    public IReadOnlyList<string> Lines { get; init; } = [reply];
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace AutonomousBeamline.Operator;

/// <summary>
/// What a console's CURVE proof covers: the whole request in one canonical text (the command, its arguments, the
/// request id, the run it is meant for, who says they sent it) plus the moment it was made and a fresh nonce. A
/// captured request therefore proves nothing about any other command, run or moment: changed, it fails the proof;
/// replayed (from any connection), its nonce has been seen, and after the replay window its time is too old.
/// </summary>
public static class OperatorRequestProof
{
    /// <summary>How far a request's time may be from the endpoint's clock, either way.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    private const string Version = "beamline-operator-request/2";

    /// <summary>The fields a request's proof covers, besides its arguments.</summary>
    public static readonly string[] CoveredFields = ["id", "run_id", "cmd", "user", "host", "ts", "nonce"];

    /// <summary>
    /// The canonical text of a request: the version, every covered field (missing ones empty) and the arguments with
    /// their keys sorted, one per line. Both sides compute it from the parsed request, so spacing and key order on the
    /// wire do not matter.
    /// </summary>
    public static string Canonical(JsonObject request)
    {
        var text = new StringBuilder(Version).Append('\n');
        foreach (var field in CoveredFields)
            text.Append(field).Append('=').Append(request[field] is JsonValue v && v.TryGetValue<string>(out var s) ? Escape(s) : "").Append('\n');
        text.Append("args=").Append(Sorted(request["args"])).Append('\n');
        return text.ToString();
    }

    /// <summary>Milliseconds since the epoch, as the "ts" field carries them.</summary>
    public static string Timestamp(DateTimeOffset now) => now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    public static string NewNonce() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));

    /// <summary>Why a request's time is unacceptable now, or null.</summary>
    public static string? TimeProblem(string? ts, DateTimeOffset now)
    {
        if (ts is null || !long.TryParse(ts, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
            return "\"ts\" must be the request's time in milliseconds since 1970 (a string of digits)";
        var at = DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(ms, 0, 253_402_300_799_999));
        var off = (now - at).Duration();
        return off > Window
            ? $"the request was made {off.TotalSeconds:0} s from the endpoint's clock; at most {Window.TotalSeconds:0} s is accepted (replayed, or a clock is wrong)"
            : null;
    }

    // A field holding a newline must not be able to pose as two fields.
    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Sorted(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => JsonValue.Create(p.Key)!.ToJsonString() + ":" + Sorted(p.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Sorted)) + "]",
        _ => node.ToJsonString(),
    };
}

/// <summary>
/// The nonces of the requests accepted within the replay window, so that a request is applied once whichever
/// connection it arrives on. Bounded: beyond <see cref="Capacity"/> unexpired nonces new requests are refused (a
/// flood), never remembered without end. Used on the endpoint's poller thread only.
/// </summary>
internal sealed class ReplayGuard(TimeSpan window)
{
    public const int Capacity = 10_000;

    private readonly Dictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);
    private readonly Queue<(string Nonce, DateTimeOffset At)> _order = new();

    /// <summary>Why the nonce cannot be accepted now, or null (and it is remembered).</summary>
    public string? Accept(string? nonce, DateTimeOffset now)
    {
        while (_order.TryPeek(out var oldest) && now - oldest.At > window * 2)
        {
            _order.Dequeue();
            _seen.Remove(oldest.Nonce);
        }
        if (string.IsNullOrEmpty(nonce) || nonce.Length is < 16 or > 64) return "\"nonce\" must be a fresh random string of 16 to 64 characters";
        if (_seen.ContainsKey(nonce)) return "this request was already accepted once (a replay); send a new request";
        if (_seen.Count >= Capacity) return "too many requests in the replay window; try again shortly";
        _seen[nonce] = now;
        _order.Enqueue((nonce, now));
        return null;
    }
}

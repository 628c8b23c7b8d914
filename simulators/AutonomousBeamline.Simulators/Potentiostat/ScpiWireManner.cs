using System.Text;

namespace AutonomousBeamline.Simulators.Potentiostat;

/// <summary>
/// How a simulated instrument puts its replies on the wire, apart from what it replies. The native manner is this
/// project's own habit (LF, one line per reply, at once). The foreign manner behaves as differently as the ICD allows,
/// as another lab's instrument behind an RS-232 adapter does: CR LF endings, now and then a blank line or a line of noise
/// before a reply, a reply sent twice, and rarely a reply that comes after the client has given up waiting. Replies are
/// never replaced or reordered: a peer that follows the contract answers every query, in order.
/// </summary>
public sealed class ScpiWireManner
{
    private readonly object _gate = new();
    private readonly Random _random;

    private ScpiWireManner(int seed) => _random = new Random(seed);

    public static ScpiWireManner Native { get; } = new(0);

    /// <param name="lateBy">How late a late reply comes: longer than the client's reply time-out, so that it is a late one.</param>
    public static ScpiWireManner Foreign(int seed, TimeSpan lateBy) => new(seed)
    {
        LineEnding = "\r\n", NoiseBefore = 0.02, BlankBefore = 0.03, Duplicate = 0.02, Late = 0.001, LateBy = lateBy,
    };

    public string LineEnding { get; private init; } = "\n";
    public double NoiseBefore { get; private init; }
    public double BlankBefore { get; private init; }
    public double Duplicate { get; private init; }
    public double Late { get; private init; }
    public TimeSpan LateBy { get; private init; }

    /// <summary>How long to hold the replies of one received line back before they are written (zero mostly).</summary>
    public TimeSpan DelayFor(IReadOnlyList<string> replies)
    {
        if (replies.Count == 0 || Late <= 0) return TimeSpan.Zero;
        lock (_gate) return _random.NextDouble() < Late ? LateBy : TimeSpan.Zero;
    }

    /// <summary>The bytes that carry <paramref name="replies"/>, in the manner's habits.</summary>
    public byte[] Encode(IReadOnlyList<string> replies)
    {
        var text = new StringBuilder();
        lock (_gate)
        {
            foreach (var reply in replies)
            {
                if (Chance(BlankBefore)) text.Append(LineEnding);
                if (Chance(NoiseBefore)) text.Append(Noise()).Append(LineEnding);
                text.Append(reply).Append(LineEnding);
                if (Chance(Duplicate)) text.Append(reply).Append(LineEnding);
            }
        }
        return Encoding.Latin1.GetBytes(text.ToString());
    }

    private bool Chance(double p) => p > 0 && _random.NextDouble() < p;

    /// <summary>What a glitching RS-232 line delivers: a few bytes of junk, never a well-formed SCPI reply.</summary>
    private string Noise()
    {
        const string junk = "\u00ff\u00fe~#@!?%\u0007\u00a0";
        var length = _random.Next(1, 6);
        var chars = new char[length];
        for (var i = 0; i < length; i++) chars[i] = junk[_random.Next(junk.Length)];
        return new string(chars);
    }
}

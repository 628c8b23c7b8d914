using System.Threading.Channels;
using AutonomousBeamline.Instruments.Scpi;
using AutonomousBeamline.Simulators.Potentiostat;

namespace AutonomousBeamline.Instruments.Tests.Scpi;

/// <summary>An in-memory link to a <see cref="ScpiServer"/>: every written line is interpreted at once and its replies queued.</summary>
internal sealed class LoopbackScpiTransport(ScpiServer server) : IScpiTransport
{
    private readonly Channel<string> _replies = Channel.CreateUnbounded<string>();

    public List<string> Written { get; } = new();

    public string Endpoint => "loopback";

    /// <summary>A reply to an abandoned query that arrives late, just before the instrument sees the next <c>*OPC?</c>.</summary>
    public string? LateLineBeforeNextOpc { get; set; }

    /// <summary>
    /// How the peer puts an exchange's replies on the wire, unlike the client's habits: given the line received and the
    /// instrument's replies, the lines actually sent (noise before or after, a duplicate, blank lines). Null: as they are.
    /// </summary>
    public Func<string, IReadOnlyList<string>, IEnumerable<string>>? Manner { get; set; }

    public Task WriteLineAsync(string line, CancellationToken cancellationToken = default)
    {
        lock (Written) Written.Add(line);
        if (line == "*OPC?" && LateLineBeforeNextOpc is { } late)
        {
            LateLineBeforeNextOpc = null;
            _replies.Writer.TryWrite(late);
        }
        var replies = server.ProcessLine(line);
        foreach (var reply in Manner?.Invoke(line, replies) ?? replies) _replies.Writer.TryWrite(reply);
        return Task.CompletedTask;
    }

    /// <summary>A line arriving unasked, as noise on a serial line does.</summary>
    public void Arrive(string line) => _replies.Writer.TryWrite(line);

    public async Task<string> ReadLineAsync(CancellationToken cancellationToken = default) =>
        await _replies.Reader.ReadAsync(cancellationToken);

    public bool TryReadReceivedLine(out string line)
    {
        if (_replies.Reader.TryRead(out var taken))
        {
            line = taken;
            return true;
        }
        line = "";
        return false;
    }

    public void DiscardInput()
    {
        while (_replies.Reader.TryRead(out _)) { }
    }

    public int CountWritten(string line)
    {
        lock (Written) return Written.Count(w => w == line);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

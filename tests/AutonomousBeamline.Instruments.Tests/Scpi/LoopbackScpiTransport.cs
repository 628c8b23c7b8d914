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

    public Task WriteLineAsync(string line, CancellationToken cancellationToken = default)
    {
        lock (Written) Written.Add(line);
        if (line == "*OPC?" && LateLineBeforeNextOpc is { } late)
        {
            LateLineBeforeNextOpc = null;
            _replies.Writer.TryWrite(late);
        }
        foreach (var reply in server.ProcessLine(line)) _replies.Writer.TryWrite(reply);
        return Task.CompletedTask;
    }

    public async Task<string> ReadLineAsync(CancellationToken cancellationToken = default) =>
        await _replies.Reader.ReadAsync(cancellationToken);

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

using System.Text;
using System.Threading.Channels;

namespace AutonomousBeamline.Instruments.Scpi;

/// <summary>
/// Splits received bytes into lines and queues them, so that a reader can give up waiting (time-out,
/// cancellation) without losing or corrupting the byte stream, and so that input can be discarded at any time.
/// </summary>
internal sealed class LineReceiver
{
    /// <summary>A line longer than this is garbage, not an SCPI reply; it is cut so memory stays bounded.</summary>
    private const int MaxLineLength = 64 * 1024;

    private readonly object _gate = new();
    private readonly StringBuilder _partial = new();
    private readonly Channel<string> _lines = NewChannel();

    public void Receive(ReadOnlySpan<byte> bytes)
    {
        lock (_gate)
        {
            foreach (var b in bytes)
            {
                if (b == (byte)'\n')
                {
                    if (_partial.Length > 0 && _partial[^1] == '\r') _partial.Length--;
                    _lines.Writer.TryWrite(_partial.ToString());
                    _partial.Clear();
                }
                else if (_partial.Length < MaxLineLength)
                {
                    // Latin-1 keeps every byte as one char, so garbage stays visible in error messages.
                    _partial.Append((char)b);
                }
            }
        }
    }

    /// <summary>The link has ended: pending and future reads fail with <paramref name="reason"/>.</summary>
    public void Complete(Exception reason)
    {
        lock (_gate) _lines.Writer.TryComplete(reason);
    }

    public async Task<string> ReadLineAsync(string endpoint, CancellationToken cancellationToken)
    {
        try
        {
            return await _lines.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException closed) when (closed.InnerException is IOException reason)
        {
            // The link said why it ended (a hang-up, a reset): that is what the reader needs to hear.
            throw new IOException(reason.Message, reason);
        }
        catch (ChannelClosedException closed)
        {
            throw new IOException($"{endpoint}: the connection is closed", closed.InnerException ?? closed);
        }
    }

    /// <summary>
    /// A complete line already received, if any; never waits beyond the split of a chunk in progress. Taken under the
    /// receiving lock: a reader woken by a chunk's first line must see the chunk's other lines too (a reply and its
    /// duplicate arrive in one chunk), or a line that came with the reply would pass for the next query's.
    /// </summary>
    public bool TryTake(out string line)
    {
        lock (_gate)
        {
            if (_lines.Reader.TryRead(out var taken))
            {
                line = taken;
                return true;
            }
        }
        line = "";
        return false;
    }

    public void Discard()
    {
        lock (_gate)
        {
            _partial.Clear();
            while (_lines.Reader.TryRead(out _)) { }
        }
    }

    private static Channel<string> NewChannel() =>
        Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = true });
}

namespace AutonomousBeamline.Instruments.Scpi;

/// <summary>
/// A line-oriented byte stream to one SCPI instrument (serial line, pseudo-terminal or raw TCP).
/// Lines are terminated by LF on the wire; a trailing CR on a received line is removed.
/// </summary>
public interface IScpiTransport : IAsyncDisposable
{
    /// <summary>How many times the link has been reopened (0 for a transport that never reopens one).</summary>
    int Reconnections => 0;

    /// <summary>Where the instrument is, for messages (e.g. "serial /dev/ttyUSB0 9600 8N1").</summary>
    string Endpoint { get; }

    /// <summary>Writes <paramref name="line"/> followed by LF.</summary>
    Task WriteLineAsync(string line, CancellationToken cancellationToken = default);

    /// <summary>The next received line without its terminator. Throws <see cref="IOException"/> when the link is gone.</summary>
    Task<string> ReadLineAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes a complete line that has already been received, without waiting; false when none is queued. The client
    /// uses it to see lines it did not ask for (a duplicate, a noise line) before it believes a reply.
    /// </summary>
    bool TryReadReceivedLine(out string line);

    /// <summary>Drops every byte received but not yet read (used to resynchronise after a time-out).</summary>
    void DiscardInput();
}

namespace AutonomousBeamline.Storage;

/// <summary>
/// One file the run folder appends whole lines to, each flushed through to the disk. It never leaves a torn line of its
/// own: a line that fails half-way is cut off again. Used by one thread at a time (the run folder's writer).
/// </summary>
internal sealed class LineFile : IDisposable
{
    private readonly Stream _stream;
    /// <summary>Where the last whole line ends (tracked only on a stream that can seek, the only kind that can be cut back).</summary>
    private long _end;

    private LineFile(string path, Stream stream)
    {
        Path = path;
        _stream = stream;
    }

    public string Path { get; }

    /// <summary>
    /// Opens <paramref name="path"/> for appending. A last line torn by a crash is closed with a newline first, so that
    /// the next line starts on a line of its own (the torn one stays, for readers to pass over with a warning).
    /// </summary>
    public static LineFile Open(string path, Func<string, Stream> open)
    {
        var stream = open(path);
        try
        {
            var file = new LineFile(path, stream);
            file.CloseTornLine();
            return file;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private void CloseTornLine()
    {
        // A stream that cannot seek (a pipe, a device) is only ever appended to.
        if (!_stream.CanSeek) return;
        _end = _stream.Seek(0, SeekOrigin.End);
        if (_end == 0 || !_stream.CanRead) return;
        _stream.Seek(-1, SeekOrigin.End);
        if (_stream.ReadByte() != '\n') Append("\n"u8.ToArray());
    }

    /// <param name="line">A whole line, its newline included.</param>
    public void Append(ReadOnlyMemory<byte> line)
    {
        try
        {
            _stream.Write(line.Span);
            Flush();
        }
        catch (Exception failure)
        {
            if (CutBack() is { } cutFailure)
                throw new IOException($"{failure.Message}, and the part written could not be cut off ({cutFailure.Message}): the next open closes that torn line", failure);
            throw;
        }
        if (_stream.CanSeek) _end = _stream.Position;
    }

    /// <summary>Back to the end of the last whole line; the reason it could not be, if so.</summary>
    private Exception? CutBack()
    {
        if (!_stream.CanSeek) return null;
        try
        {
            _stream.SetLength(_end);
            _stream.Position = _end;
            Flush();
            return null;
        }
        catch (Exception e) { return e; }
    }

    // Through the operating system's cache to the disk: a resume trusts what is in these files.
    private void Flush()
    {
        if (_stream is FileStream file) file.Flush(flushToDisk: true);
        else _stream.Flush();
    }

    public void Dispose() => _stream.Dispose();
}

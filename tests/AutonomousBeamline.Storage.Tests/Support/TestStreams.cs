namespace AutonomousBeamline.Storage.Tests;

/// <summary>A real file behind a stream of our own, so that a test can change what a write does.</summary>
public abstract class FileBackedStream(string path) : Stream
{
    protected FileStream File { get; } = new(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);

    public override void Write(ReadOnlySpan<byte> buffer) => File.Write(buffer);
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    // The writer flushes a FileStream through to the disk; this stands for one.
    public override void Flush() => File.Flush(flushToDisk: true);
    public override int Read(byte[] buffer, int offset, int count) => File.Read(buffer, offset, count);
    public override long Seek(long offset, SeekOrigin origin) => File.Seek(offset, origin);
    public override void SetLength(long value) => File.SetLength(value);
    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => true;
    public override long Length => File.Length;
    public override long Position { get => File.Position; set => File.Position = value; }

    protected override void Dispose(bool disposing)
    {
        if (disposing) File.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>A disk filling up: the write that reaches <paramref name="capacity"/> bytes stores what fits, then fails, as ENOSPC does.</summary>
public sealed class FillingUpStream(string path, long capacity) : FileBackedStream(path)
{
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var room = (int)Math.Clamp(capacity - File.Position, 0, buffer.Length);
        File.Write(buffer[..room]);
        if (room < buffer.Length) throw new IOException("No space left on device");
    }
}

/// <summary>A real file whose writes are also logged, in the order they happen, with the file's name.</summary>
public sealed class LoggedStream(string path, List<(string File, string Text)> log) : FileBackedStream(path)
{
    private readonly string _name = System.IO.Path.GetFileName(path);

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        File.Write(buffer);
        lock (log) log.Add((_name, System.Text.Encoding.UTF8.GetString(buffer)));
    }
}

/// <summary>
/// A disk that does not answer: every write waits for <see cref="Open"/> (or <see cref="Fail"/>), and <see cref="Waiting"/>
/// says one has started to.
/// </summary>
public sealed class StalledStream : Stream
{
    private readonly ManualResetEventSlim _open = new();
    private volatile bool _failed;
    private int _lines;

    public ManualResetEventSlim Waiting { get; } = new();

    /// <summary>Lines written once the stream was opened.</summary>
    public int Lines => Volatile.Read(ref _lines);

    public void Open() => _open.Set();

    /// <summary>The waiting write, and every one after it, fails as a disk that went away does.</summary>
    public void Fail()
    {
        _failed = true;
        _open.Set();
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        Waiting.Set();
        _open.Wait();
        if (_failed) throw new IOException("Input/output error");
        Interlocked.Add(ref _lines, buffer.AsSpan(offset, count).Count((byte)'\n'));
    }

    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
}

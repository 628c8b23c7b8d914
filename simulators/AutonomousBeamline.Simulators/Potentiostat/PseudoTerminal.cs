using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace AutonomousBeamline.Simulators.Potentiostat;

/// <summary>What <see cref="PseudoTerminal.WaitForInput"/> found.</summary>
public enum PtyInputState
{
    /// <summary>Bytes are ready to read.</summary>
    DataAvailable,

    /// <summary>Nothing arrived within the time-out.</summary>
    Idle,

    /// <summary>The slave side was closed (the client left); before any client opened it, Linux reports <see cref="Idle"/>.</summary>
    NoClient,
}

/// <summary>
/// A Unix pseudo-terminal pair in raw mode. The simulator keeps the master side; <see cref="SlavePath"/> is a
/// device any serial client (System.IO.Ports.SerialPort included) can open as if it were a real serial port.
/// </summary>
/// <remarks>
/// Linux/glibc only. Once a client has closed the slave, reading the master fails with EIO and poll reports
/// POLLHUP until another client opens it: that is reported as <see cref="PtyInputState.NoClient"/> (and a read
/// returns 0), not as an error, so a client may come, go and come back.
/// </remarks>
public sealed unsafe class PseudoTerminal : IDisposable
{
    private const int O_RDWR = 0x2;
    private const int O_NOCTTY = 0x100;
    private const int TCSANOW = 0;
    private const short POLLIN = 0x1;
    private const short POLLERR = 0x8;
    private const short POLLHUP = 0x10;
    private const int EINTR = 4;
    private const int EIO = 5;

    /// <summary>struct termios is 60 bytes on glibc; the spare room guards against other layouts.</summary>
    private const int TermiosBufferSize = 256;

    private readonly int _fd;
    private readonly FileStream _master;
    private bool _disposed;

    private PseudoTerminal(int fd, string slavePath)
    {
        _fd = fd;
        SlavePath = slavePath;
        _master = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.ReadWrite, bufferSize: 0);
    }

    /// <summary>The slave device, e.g. /dev/pts/7.</summary>
    public string SlavePath { get; }

    /// <summary>The master side as a stream (unbuffered). Prefer <see cref="Read"/>/<see cref="Write"/>, which handle a missing client.</summary>
    public Stream Master => _master;

    public static PseudoTerminal Open()
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("the pseudo-terminal simulator transport needs Linux (posix_openpt/ptsname_r)");
        var fd = posix_openpt(O_RDWR | O_NOCTTY);
        if (fd < 0) throw Failure("posix_openpt");
        try
        {
            if (grantpt(fd) != 0) throw Failure("grantpt");
            if (unlockpt(fd) != 0) throw Failure("unlockpt");
            var name = stackalloc byte[256];
            // ptsname_r copies into our buffer, unlike ptsname whose static buffer another thread may overwrite.
            var rc = ptsname_r(fd, name, 256);
            if (rc != 0) throw new IOException($"ptsname_r failed with error {rc}");
            var slavePath = Encoding.ASCII.GetString(name, new ReadOnlySpan<byte>(name, 256).IndexOf((byte)0));

            // Raw mode: no echo, no CR/LF translation, no line editing, so bytes pass through untouched.
            var termios = stackalloc byte[TermiosBufferSize];
            new Span<byte>(termios, TermiosBufferSize).Clear();
            if (tcgetattr(fd, termios) != 0) throw Failure("tcgetattr");
            cfmakeraw(termios);
            if (tcsetattr(fd, TCSANOW, termios) != 0) throw Failure("tcsetattr");
            return new PseudoTerminal(fd, slavePath);
        }
        catch
        {
            close(fd);
            throw;
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> (real time) for input from the slave side.</summary>
    public PtyInputState WaitForInput(TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var pollFd = new PollFd { Fd = _fd, Events = POLLIN };
        var rc = poll(&pollFd, 1, (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue));
        if (rc < 0)
        {
            if (Marshal.GetLastPInvokeError() == EINTR) return PtyInputState.Idle;
            throw Failure("poll");
        }
        if (rc == 0) return PtyInputState.Idle;
        if ((pollFd.Revents & POLLIN) != 0) return PtyInputState.DataAvailable;
        if ((pollFd.Revents & (POLLHUP | POLLERR)) != 0) return PtyInputState.NoClient;
        return PtyInputState.Idle;
    }

    /// <summary>Reads what is available; 0 means no client is attached (EIO on the master).</summary>
    public int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            return _master.Read(buffer);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Writes to the slave side; returns false when no client is attached to receive it.</summary>
    public bool Write(ReadOnlySpan<byte> bytes)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            _master.Write(bytes);
            _master.Flush();
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _master.Dispose();
    }

    private static IOException Failure(string call)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int posix_openpt(int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int grantpt(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int unlockpt(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int ptsname_r(int fd, byte* buffer, nuint length);

    [DllImport("libc", SetLastError = true)]
    private static extern int tcgetattr(int fd, byte* termios);

    [DllImport("libc", SetLastError = true)]
    private static extern int tcsetattr(int fd, int optionalActions, byte* termios);

    [DllImport("libc")]
    private static extern void cfmakeraw(byte* termios);

    [DllImport("libc", SetLastError = true)]
    private static extern int poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
}

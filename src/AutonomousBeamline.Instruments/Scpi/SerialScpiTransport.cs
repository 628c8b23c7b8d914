using System.IO.Ports;
using System.Text;

namespace AutonomousBeamline.Instruments.Scpi;

/// <summary>How the serial line is framed. The defaults are FACILITY-ICD §1's: 9600 baud, 8N1, no flow control.</summary>
public sealed record SerialLineSettings
{
    public int BaudRate { get; init; } = 9600;
    public int DataBits { get; init; } = 8;
    public Parity Parity { get; init; } = Parity.None;
    public StopBits StopBits { get; init; } = StopBits.One;
    public Handshake Handshake { get; init; } = Handshake.None;

    /// <summary>How long a single write may block before the link is considered dead (real time).</summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// SCPI over a serial device (RS-232, USB-serial adapter or a pseudo-terminal). When the device vanishes (hang-up,
/// adapter unplugged) pending reads fail with an <see cref="IOException"/>, and the next write (or
/// <see cref="ReconnectAsync"/>) opens the device path again as <see cref="LinkReconnectPolicy"/> allows.
/// </summary>
public sealed class SerialScpiTransport : IScpiTransport
{
    private readonly string _devicePath;
    private readonly SerialLineSettings _settings;
    private readonly LinkReconnectPolicy _reconnect;

    /// <summary>One writer or reopener at a time; reads go through the current link's receiver without it.</summary>
    private readonly SemaphoreSlim _linkLock = new(1, 1);
    private volatile SerialLink _link;
    private volatile bool _disposed;

    public SerialScpiTransport(string devicePath, int baudRate = 9600)
        : this(devicePath, new SerialLineSettings { BaudRate = baudRate })
    {
    }

    /// <param name="devicePath">The device to open, e.g. /dev/ttyUSB0 or a symlink to it (reopened by path, so it may be re-pointed).</param>
    /// <param name="settings">Line framing; ICD defaults when omitted.</param>
    /// <param name="reconnect">How a failed link is reopened; <see cref="LinkReconnectPolicy"/>'s defaults when null.</param>
    public SerialScpiTransport(string devicePath, SerialLineSettings settings, LinkReconnectPolicy? reconnect = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(devicePath);
        ArgumentNullException.ThrowIfNull(settings);
        _reconnect = reconnect ?? new LinkReconnectPolicy();
        _reconnect.Validate();
        _devicePath = devicePath;
        _settings = settings;
        Endpoint = $"serial {devicePath} {settings.BaudRate} {settings.DataBits}{ParityLetter(settings.Parity)}{StopBitsText(settings.StopBits)}";
        try
        {
            _link = SerialLink.Open(devicePath, settings, Endpoint);
        }
        catch (IOException e)
        {
            throw new IOException($"{Endpoint}: {e.Message}", e);
        }
    }

    public string Endpoint { get; }

    /// <summary>False from the moment the link is seen to fail until it has been reopened.</summary>
    public bool IsConnected => !_disposed && !_link.Failed;

    /// <summary>How many times the link has been reopened since construction.</summary>
    public int Reconnections { get; private set; }

    /// <summary>
    /// Writes <paramref name="line"/> followed by LF. A link that has failed is reopened first; if it stays gone the
    /// <see cref="IOException"/> names the endpoint. A write that fails is never repeated (it may have changed state).
    /// </summary>
    public async Task WriteLineAsync(string line, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(line);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var bytes = Encoding.Latin1.GetBytes(line + "\n");
        await _linkLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Asking the driver first catches a hang-up the reader has not reported yet, which would otherwise
            // cost this write its whole time-out on a port that can no longer write.
            var link = _link.IsAlive() ? _link : await ReopenCoreAsync(cancellationToken).ConfigureAwait(false);
            link.Write(bytes);
        }
        finally
        {
            _linkLock.Release();
        }
    }

    /// <summary>Closes the current link, failed or not, and opens the device again (bounded by the reconnect policy).</summary>
    public async Task ReconnectAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _linkLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ReopenCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _linkLock.Release();
        }
    }

    /// <summary>The next line from the current link; an <see cref="IOException"/> when that link has failed (nothing reopens here: a reply cannot survive a reopen).</summary>
    public Task<string> ReadLineAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _link.Receiver.ReadLineAsync(Endpoint, cancellationToken);
    }

    public bool TryReadReceivedLine(out string line)
    {
        line = "";
        return !_disposed && _link.Receiver.TryTake(out line);
    }

    public void DiscardInput()
    {
        if (_disposed) return;
        _link.DiscardInput();
    }

    public ValueTask DisposeAsync()
    {
        if (_disposed) return ValueTask.CompletedTask;
        _disposed = true;
        _link.Close(new ObjectDisposedException(nameof(SerialScpiTransport)));
        return ValueTask.CompletedTask;
    }

    private async Task<SerialLink> ReopenCoreAsync(CancellationToken cancellationToken)
    {
        _link.Close(new IOException($"{Endpoint}: the link was closed to be reopened"));
        _link = await _reconnect.ReopenAsync(
            Endpoint, _ => Task.FromResult(SerialLink.Open(_devicePath, _settings, Endpoint)), cancellationToken).ConfigureAwait(false);
        Reconnections++;
        return _link;
    }

    private static string ParityLetter(Parity parity) => parity switch
    {
        Parity.None => "N",
        Parity.Even => "E",
        Parity.Odd => "O",
        Parity.Mark => "M",
        Parity.Space => "S",
        _ => "?",
    };

    private static string StopBitsText(StopBits stopBits) => stopBits switch
    {
        StopBits.One => "1",
        StopBits.OnePointFive => "1.5",
        StopBits.Two => "2",
        _ => "0",
    };

    /// <summary>One opening of the device: the port, its reader thread and the lines it received.</summary>
    private sealed class SerialLink
    {
        /// <summary>How often the reader thread wakes to notice closing or a silent hang-up; not a protocol time-out.</summary>
        private const int ReaderPollMilliseconds = 50;

        private readonly SerialPort _port;
        private readonly string _endpoint;
        private readonly Thread _readerThread;
        private readonly object _closeGate = new();
        private volatile bool _failed;
        private volatile bool _closing;

        private SerialLink(SerialPort port, string endpoint, string devicePath)
        {
            _port = port;
            _endpoint = endpoint;
            _readerThread = new Thread(ReadLoop) { IsBackground = true, Name = $"SCPI reader {devicePath}" };
            _readerThread.Start();
        }

        public LineReceiver Receiver { get; } = new();

        public bool Failed => _failed;

        /// <summary>False (and the link marked failed) when the link has failed or the driver reports a hang-up.</summary>
        public bool IsAlive()
        {
            if (_failed) return false;
            if (!ProbeFailed()) return true;
            Fail(new IOException($"{_endpoint}: the serial link was lost (hang-up or device removed)"));
            return false;
        }

        /// <summary>Opens the device; an <see cref="IOException"/> (without the endpoint, which callers add) when it is not there.</summary>
        public static SerialLink Open(string devicePath, SerialLineSettings settings, string endpoint)
        {
            var port = new SerialPort(devicePath, settings.BaudRate, settings.Parity, settings.DataBits, settings.StopBits)
            {
                Handshake = settings.Handshake,
                NewLine = "\n",
                Encoding = Encoding.Latin1,
                ReadTimeout = ReaderPollMilliseconds,
                WriteTimeout = (int)settings.WriteTimeout.TotalMilliseconds,
                DtrEnable = false,
                RtsEnable = false,
            };
            try
            {
                port.Open();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
            {
                port.Dispose();
                // SerialPort reports a missing device as "access denied"; a vanished adapter deserves its own words.
                var reason = Path.Exists(devicePath) ? e.Message : "the device does not exist (unplugged or not created yet)";
                throw new IOException($"cannot open the serial device: {reason}", e);
            }
            return new SerialLink(port, endpoint, devicePath);
        }

        public void Write(byte[] bytes)
        {
            try
            {
                _port.BaseStream.Write(bytes, 0, bytes.Length);
                _port.BaseStream.Flush();
            }
            catch (TimeoutException e)
            {
                // A write that cannot go out for this long leaves a request queued in the driver wrapper; the
                // port is not used again but reopened, so that stale request cannot block a later flush.
                throw Fail(new IOException($"{_endpoint}: write timed out (is the line flow-controlled or unplugged?)", e));
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
            {
                throw Fail(new IOException($"{_endpoint}: write failed, the serial link is lost: {e.Message}", e));
            }
        }

        public void DiscardInput()
        {
            try
            {
                _port.DiscardInBuffer();
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                // The driver buffer could not be flushed (or the port is gone); the queued lines are still dropped below.
            }
            Receiver.Discard();
        }

        /// <summary>Stops the reader and releases the device; readers still waiting get <paramref name="reason"/>.</summary>
        public void Close(Exception reason)
        {
            lock (_closeGate)
            {
                if (_closing) return;
                _closing = true;
            }
            _failed = true;
            if (Thread.CurrentThread != _readerThread) _readerThread.Join(TimeSpan.FromSeconds(2));
            // SerialPort.Dispose flushes first, and that flush spins for ever on a write request that a dead
            // port never completed; disposing the stream first closes the device without flushing.
            try
            {
                _port.BaseStream.Dispose();
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
            {
                // Already closed: nothing left to release on the stream.
            }
            _port.Dispose();
            Receiver.Complete(reason);
        }

        private IOException Fail(IOException reason)
        {
            _failed = true;
            Receiver.Complete(reason);
            return reason;
        }

        private void ReadLoop()
        {
            var buffer = new byte[4096];
            while (!_closing)
            {
                int count;
                try
                {
                    count = _port.BaseStream.Read(buffer, 0, buffer.Length);
                }
                catch (TimeoutException)
                {
                    // A hang-up between two reads is not reported to the next read (it just times out), but the
                    // driver can no longer say how many bytes are queued.
                    if (_closing || !IsAlive()) return;
                    continue;
                }
                catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
                {
                    if (!_closing) Fail(new IOException($"{_endpoint}: the serial link was lost (hang-up or device removed): {e.Message}", e));
                    return;
                }
                if (count > 0) Receiver.Receive(buffer.AsSpan(0, count));
            }
        }

        private bool ProbeFailed()
        {
            try
            {
                return _port.BytesToRead < 0;
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
            {
                return true;
            }
        }
    }
}

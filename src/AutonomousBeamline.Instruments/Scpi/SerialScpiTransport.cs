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

/// <summary>SCPI over a serial device (RS-232, USB-serial adapter or a pseudo-terminal).</summary>
public sealed class SerialScpiTransport : IScpiTransport
{
    /// <summary>How often the reader thread wakes to notice disposal; not a protocol time-out.</summary>
    private const int ReaderPollMilliseconds = 50;

    private readonly SerialPort _port;
    private readonly LineReceiver _receiver = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Thread _readerThread;
    private volatile bool _disposed;

    public SerialScpiTransport(string devicePath, int baudRate = 9600)
        : this(devicePath, new SerialLineSettings { BaudRate = baudRate })
    {
    }

    public SerialScpiTransport(string devicePath, SerialLineSettings settings)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(devicePath);
        ArgumentNullException.ThrowIfNull(settings);
        Endpoint = $"serial {devicePath} {settings.BaudRate} {settings.DataBits}{ParityLetter(settings.Parity)}{StopBitsText(settings.StopBits)}";
        _port = new SerialPort(devicePath, settings.BaudRate, settings.Parity, settings.DataBits, settings.StopBits)
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
            _port.Open();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            _port.Dispose();
            throw new IOException($"{Endpoint}: cannot open the serial device: {e.Message}", e);
        }
        _readerThread = new Thread(ReadLoop) { IsBackground = true, Name = $"SCPI reader {devicePath}" };
        _readerThread.Start();
    }

    public string Endpoint { get; }

    public async Task WriteLineAsync(string line, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(line);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var bytes = Encoding.Latin1.GetBytes(line + "\n");
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _port.BaseStream.Write(bytes, 0, bytes.Length);
            _port.BaseStream.Flush();
        }
        catch (TimeoutException e)
        {
            throw new IOException($"{Endpoint}: write timed out (is the line flow-controlled or unplugged?)", e);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public Task<string> ReadLineAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _receiver.ReadLineAsync(Endpoint, cancellationToken);
    }

    public void DiscardInput()
    {
        if (_disposed) return;
        try
        {
            _port.DiscardInBuffer();
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            // The driver buffer could not be flushed; the queued lines are still dropped below.
        }
        _receiver.Discard();
    }

    public ValueTask DisposeAsync()
    {
        if (_disposed) return ValueTask.CompletedTask;
        _disposed = true;
        _readerThread.Join(TimeSpan.FromSeconds(2));
        _port.Dispose();
        _writeLock.Dispose();
        _receiver.Complete(new ObjectDisposedException(nameof(SerialScpiTransport)));
        return ValueTask.CompletedTask;
    }

    private void ReadLoop()
    {
        var buffer = new byte[4096];
        while (!_disposed)
        {
            int count;
            try
            {
                count = _port.BaseStream.Read(buffer, 0, buffer.Length);
            }
            catch (TimeoutException)
            {
                continue;
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
            {
                if (!_disposed) _receiver.Complete(new IOException($"{Endpoint}: the serial link failed: {e.Message}", e));
                return;
            }
            if (count > 0) _receiver.Receive(buffer.AsSpan(0, count));
        }
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
}

using System.Net.Sockets;
using System.Text;

namespace AutonomousBeamline.Instruments.Scpi;

/// <summary>SCPI over a raw TCP socket (instruments conventionally listen on port 5025).</summary>
public sealed class TcpScpiTransport : IScpiTransport
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly LineReceiver _receiver = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _readLoop;
    private bool _disposed;

    private TcpScpiTransport(TcpClient client, string endpoint)
    {
        _client = client;
        _client.NoDelay = true;
        _stream = client.GetStream();
        Endpoint = endpoint;
        _readLoop = Task.Run(ReadLoopAsync);
    }

    /// <summary>Connects at once (blocking) to <paramref name="host"/>:<paramref name="port"/>.</summary>
    public TcpScpiTransport(string host, int port)
        : this(ConnectBlocking(host, port), $"tcp {host}:{port}")
    {
    }

    public string Endpoint { get; }

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/>; the connect attempt is bounded by <paramref name="cancellationToken"/>.</summary>
    public static async Task<TcpScpiTransport> ConnectAsync(string host, int port, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        var endpoint = $"tcp {host}:{port}";
        var client = new TcpClient();
        try
        {
            await client.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            client.Dispose();
            throw new IOException($"{endpoint}: cannot connect: {e.Message}", e);
        }
        catch
        {
            client.Dispose();
            throw;
        }
        return new TcpScpiTransport(client, endpoint);
    }

    private static TcpClient ConnectBlocking(string host, int port)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        var client = new TcpClient();
        try
        {
            client.Connect(host, port);
            return client;
        }
        catch (SocketException e)
        {
            client.Dispose();
            throw new IOException($"tcp {host}:{port}: cannot connect: {e.Message}", e);
        }
    }

    public async Task WriteLineAsync(string line, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(line);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var bytes = Encoding.Latin1.GetBytes(line + "\n");
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new IOException($"{Endpoint}: write failed: {e.Message}", e);
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

    public void DiscardInput() => _receiver.Discard();

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _stop.CancelAsync().ConfigureAwait(false);
        _client.Dispose();
        try
        {
            await _readLoop.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The loop reports its own failure through the receiver; disposal only waits for it to end.
        }
        _stop.Dispose();
        _writeLock.Dispose();
        _receiver.Complete(new ObjectDisposedException(nameof(TcpScpiTransport)));
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[4096];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var count = await _stream.ReadAsync(buffer, _stop.Token).ConfigureAwait(false);
                if (count == 0)
                {
                    _receiver.Complete(new IOException($"{Endpoint}: the instrument closed the connection"));
                    return;
                }
                _receiver.Receive(buffer.AsSpan(0, count));
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            _receiver.Complete(new IOException($"{Endpoint}: the connection failed: {e.Message}", e));
        }
    }
}

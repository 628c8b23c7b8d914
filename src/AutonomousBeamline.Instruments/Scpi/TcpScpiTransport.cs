using System.Net.Sockets;
using System.Text;

namespace AutonomousBeamline.Instruments.Scpi;

/// <summary>
/// SCPI over a raw TCP socket (instruments conventionally listen on port 5025). When the connection drops, pending
/// reads fail with an <see cref="IOException"/>, and the next write (or <see cref="ReconnectAsync"/>) connects
/// again as <see cref="LinkReconnectPolicy"/> allows.
/// </summary>
public sealed class TcpScpiTransport : IScpiTransport
{
    private readonly string _host;
    private readonly int _port;
    private readonly LinkReconnectPolicy _reconnect;

    /// <summary>One writer or reconnector at a time; reads go through the current connection's receiver without it.</summary>
    private readonly SemaphoreSlim _linkLock = new(1, 1);
    private volatile TcpLink _link;
    private volatile bool _disposed;

    private TcpScpiTransport(TcpClient client, string host, int port, LinkReconnectPolicy reconnect)
    {
        _host = host;
        _port = port;
        _reconnect = reconnect;
        Endpoint = EndpointOf(host, port);
        _link = new TcpLink(client, Endpoint);
    }

    /// <summary>Connects at once (blocking) to <paramref name="host"/>:<paramref name="port"/>.</summary>
    /// <param name="reconnect">How a dropped connection is re-established; <see cref="LinkReconnectPolicy"/>'s defaults when null.</param>
    public TcpScpiTransport(string host, int port, LinkReconnectPolicy? reconnect = null)
        : this(ConnectBlocking(host, port), host, port, Checked(reconnect))
    {
    }

    public string Endpoint { get; }

    /// <summary>False from the moment the connection is seen to fail until it has been re-established.</summary>
    public bool IsConnected => !_disposed && !_link.Failed;

    /// <summary>How many times the connection has been re-established since construction.</summary>
    public int Reconnections { get; private set; }

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/>; the connect attempt is bounded by <paramref name="cancellationToken"/>.</summary>
    public static Task<TcpScpiTransport> ConnectAsync(string host, int port, CancellationToken cancellationToken = default) =>
        ConnectAsync(host, port, new LinkReconnectPolicy(), cancellationToken);

    /// <summary>As <see cref="ConnectAsync(string,int,CancellationToken)"/>, with the policy for re-establishing a dropped connection.</summary>
    public static async Task<TcpScpiTransport> ConnectAsync(string host, int port, LinkReconnectPolicy reconnect, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        var policy = Checked(reconnect);
        TcpClient client;
        try
        {
            client = await ConnectCoreAsync(host, port, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new IOException($"{EndpointOf(host, port)}: {e.Message}", e);
        }
        return new TcpScpiTransport(client, host, port, policy);
    }

    /// <summary>
    /// Writes <paramref name="line"/> followed by LF. A dropped connection is re-established first; if the instrument
    /// stays unreachable the <see cref="IOException"/> names the endpoint. A write that fails is never repeated.
    /// </summary>
    public async Task WriteLineAsync(string line, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(line);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var bytes = Encoding.Latin1.GetBytes(line + "\n");
        await _linkLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var link = _link.Failed ? await ReconnectCoreAsync(cancellationToken).ConfigureAwait(false) : _link;
            try
            {
                await link.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e) when (PeerWasAlreadyGone(e))
            {
                // The peer had closed or reset the connection before this write (the reader had not noticed yet): nothing of
                // the line left this machine, so writing it once on a new connection is not a repeat.
                await ReconnectCoreAsync(cancellationToken).ConfigureAwait(false);
                await _link.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _linkLock.Release();
        }
    }

    /// <summary>A write refused by the kernel because the connection was already dead (broken pipe, reset by the peer).</summary>
    private static bool PeerWasAlreadyGone(IOException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            if (inner is SocketException { SocketErrorCode: SocketError.Shutdown or SocketError.ConnectionReset or SocketError.ConnectionAborted })
                return true;
        return false;
    }

    /// <summary>Closes the current connection, failed or not, and connects again (bounded by the reconnect policy).</summary>
    public async Task ReconnectAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _linkLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ReconnectCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _linkLock.Release();
        }
    }

    /// <summary>The next line from the current connection; an <see cref="IOException"/> when it has failed (a reply cannot survive a reconnect).</summary>
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

    public void DiscardInput() => _link.Receiver.Discard();

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _link.CloseAsync(new ObjectDisposedException(nameof(TcpScpiTransport))).ConfigureAwait(false);
    }

    private async Task<TcpLink> ReconnectCoreAsync(CancellationToken cancellationToken)
    {
        await _link.CloseAsync(new IOException($"{Endpoint}: the connection was closed to be re-established")).ConfigureAwait(false);
        var client = await _reconnect.ReopenAsync(Endpoint, async ct =>
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
            attempt.CancelAfter(_reconnect.ConnectTimeout);
            try
            {
                return await ConnectCoreAsync(_host, _port, attempt.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
            {
                throw new IOException($"cannot connect: no answer within {_reconnect.ConnectTimeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} s", e);
            }
        }, cancellationToken).ConfigureAwait(false);
        _link = new TcpLink(client, Endpoint);
        Reconnections++;
        return _link;
    }

    private static LinkReconnectPolicy Checked(LinkReconnectPolicy? reconnect)
    {
        var policy = reconnect ?? new LinkReconnectPolicy();
        policy.Validate();
        return policy;
    }

    private static string EndpointOf(string host, int port) => $"tcp {host}:{port}";

    /// <summary>Connects; an <see cref="IOException"/> without the endpoint (callers add it) when nobody answers.</summary>
    private static async Task<TcpClient> ConnectCoreAsync(string host, int port, CancellationToken cancellationToken)
    {
        var client = new TcpClient();
        try
        {
            await client.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch (SocketException e)
        {
            client.Dispose();
            throw new IOException($"cannot connect: {e.Message}", e);
        }
        catch
        {
            client.Dispose();
            throw;
        }
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
            throw new IOException($"{EndpointOf(host, port)}: cannot connect: {e.Message}", e);
        }
    }

    /// <summary>One connection: the socket, its read loop and the lines it received.</summary>
    private sealed class TcpLink
    {
        private readonly TcpClient _client;
        private readonly NetworkStream _stream;
        private readonly string _endpoint;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _readLoop;
        private int _closed;
        private volatile bool _failed;

        public TcpLink(TcpClient client, string endpoint)
        {
            _client = client;
            _client.NoDelay = true;
            _stream = client.GetStream();
            _endpoint = endpoint;
            _readLoop = Task.Run(ReadLoopAsync);
        }

        public LineReceiver Receiver { get; } = new();

        public bool Failed => _failed;

        public async Task WriteAsync(byte[] bytes, CancellationToken cancellationToken)
        {
            try
            {
                await _stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                throw Fail(new IOException($"{_endpoint}: write failed, the connection is lost: {e.Message}", e));
            }
        }

        public async Task CloseAsync(Exception reason)
        {
            if (Interlocked.Exchange(ref _closed, 1) == 1) return;
            _failed = true;
            await _stop.CancelAsync().ConfigureAwait(false);
            _client.Dispose();
            try
            {
                await _readLoop.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The loop reports its own failure through the receiver; closing only waits for it to end.
            }
            _stop.Dispose();
            Receiver.Complete(reason);
        }

        private IOException Fail(IOException reason)
        {
            _failed = true;
            Receiver.Complete(reason);
            return reason;
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
                        Fail(new IOException($"{_endpoint}: the instrument closed the connection"));
                        return;
                    }
                    Receiver.Receive(buffer.AsSpan(0, count));
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // Closing on purpose completes the receiver with its own reason.
                if (!_stop.IsCancellationRequested) Fail(new IOException($"{_endpoint}: the connection failed: {e.Message}", e));
            }
        }
    }
}

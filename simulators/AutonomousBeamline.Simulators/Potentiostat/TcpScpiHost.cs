using System.Net;
using System.Net.Sockets;

namespace AutonomousBeamline.Simulators.Potentiostat;

/// <summary>
/// Serves a <see cref="ScpiServer"/> over raw TCP on 127.0.0.1 (port 0 = any free port, see <see cref="Port"/>).
/// <see cref="Disconnect"/> makes the link vanish (connections reset, nobody listening) and come back on the same port.
/// </summary>
public sealed class TcpScpiHost : IAsyncDisposable
{
    /// <summary>How long to keep trying to listen on <see cref="Port"/> again when something still holds it.</summary>
    private static readonly TimeSpan RebindPatience = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RebindInterval = TimeSpan.FromMilliseconds(50);

    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private readonly Dictionary<TcpClient, Task> _connections = new();
    private TcpListener? _listener;
    private Task _acceptLoop;
    private Task _restore = Task.CompletedTask;

    /// <summary>Wakes the restoring task early when <see cref="Restore"/> brings the end of the downtime forward.</summary>
    private readonly SemaphoreSlim _restoreSignal = new(0);
    private DateTimeOffset _restoreAt;

    public TcpScpiHost(ScpiServer server, int port = 0)
    {
        ArgumentNullException.ThrowIfNull(server);
        Server = server;
        var listener = Listen(port);
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _listener = listener;
        _acceptLoop = Task.Run(() => AcceptLoopAsync(listener));
    }

    public ScpiServer Server { get; }

    /// <summary>How replies go on the wire (line endings, noise, duplicates, late replies); our own habit unless set.</summary>
    public ScpiWireManner Manner { get; init; } = ScpiWireManner.Native;

    /// <summary>The port, the same before and after a <see cref="Disconnect"/>.</summary>
    public int Port { get; }

    public string Host => IPAddress.Loopback.ToString();

    /// <summary>False while a <see cref="Disconnect"/> keeps the link down.</summary>
    public bool IsLinkUp
    {
        get { lock (_gate) return _listener is not null; }
    }

    /// <summary>How many times the link has been brought down on purpose.</summary>
    public int Disconnections { get; private set; }

    /// <summary>Set when the link could not be brought back (the port stayed taken); the host then stays down.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>
    /// The link vanishes: every connection is reset and the port stops listening; after <paramref name="downtime"/>
    /// of real time it listens on the same port again. A disconnect while already down extends the downtime if it
    /// would end later. Returns once the link is down. The instrument keeps its state, its output included.
    /// </summary>
    public void Disconnect(TimeSpan downtime)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(downtime, TimeSpan.Zero);
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        TcpClient[] connections;
        lock (_gate)
        {
            var restoreAt = TimeProvider.System.GetUtcNow() + downtime;
            if (_listener is null)
            {
                if (restoreAt > _restoreAt) _restoreAt = restoreAt;
                return;
            }
            _restoreAt = restoreAt;
            _listener.Stop();
            _listener = null;
            connections = _connections.Keys.ToArray();
            Disconnections++;
            _restore = Task.Run(RestoreWhenDueAsync);
        }
        foreach (var connection in connections) Reset(connection);
    }

    /// <summary>Ends a downtime now: a link that is down listens again at once (one that is up is left alone).</summary>
    public void Restore()
    {
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        lock (_gate)
        {
            if (_listener is not null) return;
            _restoreAt = TimeProvider.System.GetUtcNow();
        }
        _restoreSignal.Release();
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        Task[] pending;
        lock (_gate)
        {
            _listener?.Stop();
            _listener = null;
            pending = _connections.Values.Append(_acceptLoop).Append(_restore).ToArray();
        }
        try
        {
            await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Shutting down: connections that end with an error or do not end in time are abandoned.
        }
        _stop.Dispose();
    }

    private TcpListener Listen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        // Coming back on the same port must not wait for old connections to leave TIME_WAIT.
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        try
        {
            listener.Start();
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        return listener;
    }

    /// <summary>A pulled cable, as near as loopback gets: the peer sees a reset, not an orderly close.</summary>
    private static void Reset(TcpClient connection)
    {
        try
        {
            connection.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed by the peer or by its own serving task: disposing below is all that is left.
        }
        connection.Dispose();
    }

    private async Task RestoreWhenDueAsync()
    {
        try
        {
            while (true)
            {
                TimeSpan wait;
                lock (_gate) wait = _restoreAt - TimeProvider.System.GetUtcNow();
                if (wait <= TimeSpan.Zero) break;
                await _restoreSignal.WaitAsync(wait, _stop.Token).ConfigureAwait(false);
            }
            var giveUpAt = TimeProvider.System.GetUtcNow() + RebindPatience;
            while (true)
            {
                try
                {
                    var listener = Listen(Port);
                    lock (_gate)
                    {
                        if (_stop.IsCancellationRequested)
                        {
                            listener.Stop();
                            return;
                        }
                        _listener = listener;
                        _acceptLoop = Task.Run(() => AcceptLoopAsync(listener));
                    }
                    return;
                }
                catch (SocketException) when (TimeProvider.System.GetUtcNow() < giveUpAt)
                {
                    await Task.Delay(RebindInterval, _stop.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Failure = e;
        }
    }

    private async Task AcceptLoopAsync(TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            lock (_gate)
            {
                if (!ReferenceEquals(_listener, listener))
                {
                    // Accepted just as the link went down: it vanishes with the rest.
                    Reset(client);
                    return;
                }
                _connections[client] = Task.Run(() => ServeAsync(client));
            }
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        client.NoDelay = true;
        var framer = new ScpiLineFramer();
        var buffer = new byte[4096];
        try
        {
            var stream = client.GetStream();
            while (!_stop.IsCancellationRequested)
            {
                var count = await stream.ReadAsync(buffer, _stop.Token).ConfigureAwait(false);
                if (count == 0) return;
                foreach (var line in framer.Push(buffer.AsSpan(0, count)))
                {
                    var replies = Server.ProcessLine(line);
                    if (replies.Count == 0) continue;
                    var delay = Server.Faults.ReplyDelay + Manner.DelayFor(replies);
                    if (delay > TimeSpan.Zero) await Task.Delay(delay, _stop.Token).ConfigureAwait(false);
                    await stream.WriteAsync(Manner.Encode(replies), _stop.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The client left, the link was cut or the host is stopping; either way this connection is over.
        }
        finally
        {
            lock (_gate) _connections.Remove(client);
            client.Dispose();
        }
    }
}

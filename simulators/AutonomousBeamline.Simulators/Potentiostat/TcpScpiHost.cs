using System.Net;
using System.Net.Sockets;

namespace AutonomousBeamline.Simulators.Potentiostat;

/// <summary>Serves a <see cref="ScpiServer"/> over raw TCP on 127.0.0.1 (port 0 = any free port, see <see cref="Port"/>).</summary>
public sealed class TcpScpiHost : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly List<Task> _clients = new();
    private readonly object _gate = new();

    public TcpScpiHost(ScpiServer server, int port = 0)
    {
        ArgumentNullException.ThrowIfNull(server);
        Server = server;
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public ScpiServer Server { get; }

    public int Port { get; }

    public string Host => IPAddress.Loopback.ToString();

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        Task[] clients;
        lock (_gate) clients = _clients.ToArray();
        try
        {
            await Task.WhenAll(clients.Append(_acceptLoop)).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Shutting down: connections that end with an error or do not end in time are abandoned.
        }
        _listener.Dispose();
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            lock (_gate)
            {
                _clients.RemoveAll(t => t.IsCompleted);
                _clients.Add(Task.Run(() => ServeAsync(client)));
            }
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        client.NoDelay = true;
        var stream = client.GetStream();
        var framer = new ScpiLineFramer();
        var buffer = new byte[4096];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var count = await stream.ReadAsync(buffer, _stop.Token).ConfigureAwait(false);
                if (count == 0) return;
                foreach (var line in framer.Push(buffer.AsSpan(0, count)))
                {
                    var replies = Server.ProcessLine(line);
                    if (replies.Count == 0) continue;
                    var delay = Server.Faults.ReplyDelay;
                    if (delay > TimeSpan.Zero) await Task.Delay(delay, _stop.Token).ConfigureAwait(false);
                    foreach (var reply in replies)
                        await stream.WriteAsync(ScpiLineFramer.Encode(reply), _stop.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The client left or the host is stopping; either way this connection is over.
        }
    }
}

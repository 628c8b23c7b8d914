// Shared by the test projects that test ZeroMQ request clients against a misbehaving peer (linked into each csproj).
using System.Text;
using System.Text.Json.Nodes;
using NetMQ;
using NetMQ.Sockets;

namespace AutonomousBeamline.Tests.Shared;

/// <summary>
/// A hand-written peer for client tests: a ROUTER on its own thread that answers each request with
/// whatever the script returns (none, one or several replies), so tests can misbehave on purpose.
/// </summary>
public sealed class ScriptedRouterServer : IDisposable
{
    private readonly Func<JsonObject, int, IEnumerable<string>> _script;
    private readonly Action<SocketOptions>? _configure;
    private readonly int _multipartFirst;
    private readonly Thread _thread;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _received = new();
    private int _port;
    private readonly ManualResetEventSlim _bound = new();

    /// <param name="script">Request and its 1-based sequence number in, raw reply texts out.</param>
    /// <param name="configure">Applied to the ROUTER before it binds (CURVE server keys, say).</param>
    /// <param name="multipartFirst">The replies to the first this-many requests carry a second frame, as a hostile peer's would.</param>
    public ScriptedRouterServer(Func<JsonObject, int, IEnumerable<string>> script, Action<SocketOptions>? configure = null, int multipartFirst = 0)
    {
        _script = script;
        _configure = configure;
        _multipartFirst = multipartFirst;
        _thread = new Thread(Run) { IsBackground = true };
        _thread.Start();
        _bound.Wait(TimeSpan.FromSeconds(10));
    }

    public string Endpoint => $"tcp://127.0.0.1:{Volatile.Read(ref _port)}";

    public IReadOnlyList<string> Received
    {
        get { lock (_received) return _received.ToList(); }
    }

    private void Run()
    {
        using var router = new RouterSocket();
        router.Options.Linger = TimeSpan.Zero;
        _configure?.Invoke(router.Options);
        Volatile.Write(ref _port, router.BindRandomPort("tcp://127.0.0.1"));
        _bound.Set();
        var count = 0;
        while (!_stop.IsCancellationRequested)
        {
            NetMQMessage? message = null;
            if (!router.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(20), ref message) || message is null) continue;
            var text = message.Last.ConvertToString(Encoding.UTF8);
            lock (_received) _received.Add(text);
            count++;
            var request = (JsonObject)JsonNode.Parse(text)!;
            foreach (var reply in _script(request, count))
            {
                var response = new NetMQMessage();
                response.Append(message.First.ToByteArray());
                response.AppendEmptyFrame();
                response.Append(reply, Encoding.UTF8);
                if (count <= _multipartFirst) response.Append("{\"extra\":true}", Encoding.UTF8);
                router.SendMultipartMessage(response);
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _stop.Dispose();
        _bound.Dispose();
    }
}

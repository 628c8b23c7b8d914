namespace AutonomousBeamline.Simulators.Potentiostat;

/// <summary>
/// Serves a <see cref="ScpiServer"/> on its own pseudo-terminal, on a background thread. A serial client opens
/// <see cref="SlavePath"/>; it may disconnect and reconnect while the host runs.
/// </summary>
public sealed class PtyScpiHost : IDisposable, IAsyncDisposable
{
    /// <summary>Real-time granularity of the serving loop: how quickly it notices a new client or disposal.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private readonly PseudoTerminal _terminal;
    private readonly Thread _thread;
    private volatile bool _stopping;

    public PtyScpiHost(ScpiServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        Server = server;
        _terminal = PseudoTerminal.Open();
        _thread = new Thread(Serve) { IsBackground = true, Name = $"SCPI simulator on {_terminal.SlavePath}" };
        _thread.Start();
    }

    public ScpiServer Server { get; }

    /// <summary>The serial device a client opens, e.g. /dev/pts/7.</summary>
    public string SlavePath => _terminal.SlavePath;

    /// <summary>Set when the serving loop died on an unexpected error (the host then stops answering).</summary>
    public Exception? Failure { get; private set; }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _thread.Join(TimeSpan.FromSeconds(2));
        _terminal.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private void Serve()
    {
        var framer = new ScpiLineFramer();
        var buffer = new byte[4096];
        try
        {
            while (!_stopping)
            {
                switch (_terminal.WaitForInput(PollInterval))
                {
                    case PtyInputState.Idle:
                        continue;
                    case PtyInputState.NoClient:
                        // A half line from a client that left must not prefix the next client's first command.
                        framer.Reset();
                        Thread.Sleep(PollInterval);
                        continue;
                }
                var count = _terminal.Read(buffer);
                if (count == 0)
                {
                    framer.Reset();
                    continue;
                }
                foreach (var line in framer.Push(buffer.AsSpan(0, count)))
                {
                    var replies = Server.ProcessLine(line);
                    if (replies.Count == 0) continue;
                    var delay = Server.Faults.ReplyDelay;
                    if (delay > TimeSpan.Zero) Thread.Sleep(delay);
                    foreach (var reply in replies) _terminal.Write(ScpiLineFramer.Encode(reply));
                }
            }
        }
        catch (ObjectDisposedException) when (_stopping)
        {
        }
        catch (Exception e)
        {
            Failure = e;
        }
    }
}

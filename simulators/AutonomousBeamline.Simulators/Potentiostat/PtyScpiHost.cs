using System.Diagnostics;

namespace AutonomousBeamline.Simulators.Potentiostat;

/// <summary>
/// Serves a <see cref="ScpiServer"/> on its own pseudo-terminal, on a background thread. A serial client opens
/// <see cref="LinkPath"/> (a symlink that always leads to the current pseudo-terminal); it may disconnect and
/// reconnect while the host runs, and <see cref="Disconnect"/> makes the link itself vanish and come back.
/// </summary>
public sealed class PtyScpiHost : IDisposable, IAsyncDisposable
{
    /// <summary>Real-time granularity of the serving loop: how quickly it notices a new client, a disconnect request or disposal.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>How long <see cref="Disconnect"/> waits for the serving loop to hang up (it may be sending a delayed reply).</summary>
    private static readonly TimeSpan HangUpWait = TimeSpan.FromSeconds(2);

    private readonly Thread _thread;
    private readonly object _gate = new();
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly ManualResetEventSlim _hungUp = new(false);
    private PseudoTerminal? _terminal;
    private string _slavePath;
    private bool _hangUpRequested;
    private long _restoreAtTimestamp;
    private volatile bool _stopping;

    /// <param name="server">The instrument; its state (the cell, the output) is untouched by link losses.</param>
    /// <param name="linkPath">Where to put the stable symlink; a fresh name in the temp directory when null. It must not exist yet.</param>
    public PtyScpiHost(ScpiServer server, string? linkPath = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        Server = server;
        LinkPath = linkPath ?? Path.Combine(Path.GetTempPath(), $"autonomousbeamline-scpi-{Guid.NewGuid().ToString("N")[..12]}");
        _terminal = PseudoTerminal.Open();
        _slavePath = _terminal.SlavePath;
        try
        {
            // Created directly, not through a rename, so that an existing file there is refused, not replaced.
            File.CreateSymbolicLink(LinkPath, _slavePath);
        }
        catch (Exception e)
        {
            _terminal.Dispose();
            throw new IOException($"cannot create the serial link {LinkPath} -> {_slavePath}: {e.Message}", e);
        }
        _thread = new Thread(Serve) { IsBackground = true, Name = $"SCPI simulator on {LinkPath}" };
        _thread.Start();
    }

    public ScpiServer Server { get; }

    /// <summary>How replies go on the wire (line endings, noise, duplicates, late replies); our own habit unless set.</summary>
    public ScpiWireManner Manner { get; init; } = ScpiWireManner.Native;

    /// <summary>
    /// A symlink the host owns, pointing at the current pseudo-terminal: clients open this, as its target changes
    /// each time the link comes back. It is absent while the link is down, as a device node is for an unplugged adapter.
    /// </summary>
    public string LinkPath { get; }

    /// <summary>The current pseudo-terminal device, e.g. /dev/pts/7 (while the link is down: the one that vanished).</summary>
    public string SlavePath
    {
        get { lock (_gate) return _slavePath; }
    }

    /// <summary>False while a <see cref="Disconnect"/> keeps the link down.</summary>
    public bool IsLinkUp
    {
        get { lock (_gate) return _terminal is not null && !_hangUpRequested; }
    }

    /// <summary>How many times the link has been brought down on purpose.</summary>
    public int Disconnections { get; private set; }

    /// <summary>Set when the serving loop died on an unexpected error (the host then stops answering).</summary>
    public Exception? Failure { get; private set; }

    /// <summary>
    /// The link vanishes: the pseudo-terminal is hung up (a client's reads and writes fail) and <see cref="LinkPath"/>
    /// disappears; after <paramref name="downtime"/> of real time a new pseudo-terminal appears behind
    /// <see cref="LinkPath"/>. A disconnect while already down extends the downtime if it would end later. Returns
    /// once the link is down. The instrument keeps its state, its output included, as a real one does over a cable loss.
    /// </summary>
    public void Disconnect(TimeSpan downtime)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(downtime, TimeSpan.Zero);
        ObjectDisposedException.ThrowIf(_stopping, this);
        lock (_gate)
        {
            var restoreAt = Stopwatch.GetTimestamp() + (long)(downtime.TotalSeconds * Stopwatch.Frequency);
            if (_terminal is null && !_hangUpRequested)
            {
                _restoreAtTimestamp = Math.Max(_restoreAtTimestamp, restoreAt);
                return;
            }
            if (_hangUpRequested)
            {
                _restoreAtTimestamp = Math.Max(_restoreAtTimestamp, restoreAt);
            }
            else
            {
                _restoreAtTimestamp = restoreAt;
                _hangUpRequested = true;
                _hungUp.Reset();
                Disconnections++;
            }
        }
        _wake.Set();
        _hungUp.Wait(HangUpWait);
    }

    /// <summary>Ends a downtime now: a link that is down comes back at once (one that is up is left alone).</summary>
    public void Restore()
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        lock (_gate)
        {
            if (_terminal is not null && !_hangUpRequested) return;
            _restoreAtTimestamp = Stopwatch.GetTimestamp();
        }
        _wake.Set();
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _wake.Set();
        _thread.Join(TimeSpan.FromSeconds(2));
        lock (_gate)
        {
            _terminal?.Dispose();
            _terminal = null;
        }
        RemoveLink();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private void Serve()
    {
        try
        {
            while (!_stopping)
            {
                PseudoTerminal? terminal;
                lock (_gate) terminal = _terminal;
                if (terminal is null)
                {
                    WaitForRestore();
                    continue;
                }
                ServeUntilHangUp(terminal);
                if (_stopping) return;
                HangUp();
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

    /// <summary>Answers one pseudo-terminal until a disconnect is requested or the host stops.</summary>
    private void ServeUntilHangUp(PseudoTerminal terminal)
    {
        var framer = new ScpiLineFramer();
        var buffer = new byte[4096];
        while (!_stopping && !HangUpRequested)
        {
            switch (terminal.WaitForInput(PollInterval))
            {
                case PtyInputState.Idle:
                    continue;
                case PtyInputState.NoClient:
                    // A half line from a client that left must not prefix the next client's first command.
                    framer.Reset();
                    _wake.Wait(PollInterval);
                    continue;
            }
            var count = terminal.Read(buffer);
            if (count == 0)
            {
                framer.Reset();
                continue;
            }
            foreach (var line in framer.Push(buffer.AsSpan(0, count)))
            {
                var replies = Server.ProcessLine(line);
                if (replies.Count == 0) continue;
                var delay = Server.Faults.ReplyDelay + Manner.DelayFor(replies);
                if (delay > TimeSpan.Zero) _wake.Wait(delay);
                // A link that vanished while the reply was being prepared takes the reply with it.
                if (HangUpRequested || _stopping) return;
                terminal.Write(Manner.Encode(replies));
            }
        }
    }

    private bool HangUpRequested
    {
        get { lock (_gate) return _hangUpRequested; }
    }

    /// <summary>The link vanishes: first the path (so no client opens a device that is going away), then the pseudo-terminal.</summary>
    private void HangUp()
    {
        RemoveLink();
        lock (_gate)
        {
            _terminal?.Dispose();
            _terminal = null;
            _hangUpRequested = false;
            _wake.Reset();
        }
        _hungUp.Set();
    }

    private void WaitForRestore()
    {
        long remainingTicks;
        lock (_gate) remainingTicks = _restoreAtTimestamp - Stopwatch.GetTimestamp();
        if (remainingTicks > 0)
        {
            var remaining = TimeSpan.FromSeconds((double)remainingTicks / Stopwatch.Frequency);
            _wake.Wait(remaining < PollInterval ? remaining : PollInterval);
            _wake.Reset();
            return;
        }
        var terminal = PseudoTerminal.Open();
        try
        {
            PointLinkAt(terminal.SlavePath);
        }
        catch
        {
            terminal.Dispose();
            throw;
        }
        lock (_gate)
        {
            _terminal = terminal;
            _slavePath = terminal.SlavePath;
        }
    }

    /// <summary>Creates or re-points <see cref="LinkPath"/> in one step: a client never sees a half-made link.</summary>
    private void PointLinkAt(string slavePath)
    {
        var staging = $"{LinkPath}.{Guid.NewGuid():N}";
        File.CreateSymbolicLink(staging, slavePath);
        try
        {
            // rename(2) replaces the old link atomically.
            File.Move(staging, LinkPath, overwrite: true);
        }
        catch
        {
            File.Delete(staging);
            throw;
        }
    }

    private void RemoveLink()
    {
        try
        {
            File.Delete(LinkPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing to remove, or not ours to remove any more; either way no client can be led astray by it.
        }
    }
}

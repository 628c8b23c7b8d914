using System.Text;
using AutonomousBeamline.Control.Operator;
using NetMQ;
using NetMQ.Sockets;

namespace AutonomousBeamline.Operator;

/// <summary>
/// Listens to an operator endpoint's status stream on its own thread and keeps the newest snapshot.
/// A message that is not a snapshot is counted and skipped; the stream goes on.
/// </summary>
public sealed class OperatorStatusSubscriber : IDisposable
{
    private static readonly TimeSpan ReceiveSlice = TimeSpan.FromMilliseconds(50);

    private readonly string _endpoint;
    private readonly OperatorClientCurve? _curve;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private ExperimentSnapshot? _latest;
    private long _receivedAtTicks;
    private long _received;
    private long _rejected;
    private string? _lastProblem;

    public OperatorStatusSubscriber(string statusEndpoint, OperatorClientCurve? curve = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(statusEndpoint);
        _endpoint = statusEndpoint;
        _curve = curve;
        if (curve is not null)
        {
            // Key problems surface here, not silently on the listening thread.
            OperatorCurveKeys.Certificate(curve.ClientSecretKey, "console's secret key");
            OperatorCurveKeys.PublicKeyBytes(curve.ServerPublicKey, "endpoint's public key");
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "operator-status" };
        _thread.Start();
    }

    /// <summary>Raised on the subscriber's thread for every snapshot received.</summary>
    public event Action<ExperimentSnapshot>? SnapshotReceived;

    public ExperimentSnapshot? Latest => Volatile.Read(ref _latest);

    /// <summary>Wall-clock time the newest snapshot arrived (to show a stale stream).</summary>
    public DateTimeOffset ReceivedAt => new(Interlocked.Read(ref _receivedAtTicks), TimeSpan.Zero);

    public long Received => Interlocked.Read(ref _received);

    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Why the newest rejected message was rejected.</summary>
    public string? LastProblem => Volatile.Read(ref _lastProblem);

    private void Run()
    {
        using var socket = new SubscriberSocket();
        socket.Options.Linger = TimeSpan.Zero;
        if (_curve is not null)
        {
            socket.Options.CurveServerKey = OperatorCurveKeys.PublicKeyBytes(_curve.ServerPublicKey, "endpoint's public key");
            socket.Options.CurveCertificate = OperatorCurveKeys.Certificate(_curve.ClientSecretKey, "console's secret key");
        }
        socket.Connect(_endpoint);
        socket.Subscribe(OperatorProtocol.StatusTopic);
        var message = new NetMQMessage();
        while (!_stop.IsCancellationRequested)
        {
            if (!socket.TryReceiveMultipartMessage(ReceiveSlice, ref message)) continue;
            Handle(message);
            message = new NetMQMessage();
        }
    }

    private void Handle(NetMQMessage message)
    {
        // Subscriptions match prefixes, so "statusX" would pass the filter; the topic must be exact.
        if (message.FrameCount != 2 || message[0].ConvertToString(Encoding.UTF8) != OperatorProtocol.StatusTopic)
        {
            Reject($"expected [\"{OperatorProtocol.StatusTopic}\", JSON], got {message.FrameCount} frame(s)");
            return;
        }
        ExperimentSnapshot snapshot;
        try
        {
            snapshot = OperatorProtocol.DeserializeSnapshot(message[1].ConvertToString(Encoding.UTF8));
        }
        catch (FormatException ex)
        {
            Reject(ex.Message);
            return;
        }
        Volatile.Write(ref _latest, snapshot);
        // Ticks, not the struct: another thread reads it and a DateTimeOffset can tear.
        Interlocked.Exchange(ref _receivedAtTicks, DateTimeOffset.UtcNow.UtcTicks);
        Interlocked.Increment(ref _received);
        try
        {
            SnapshotReceived?.Invoke(snapshot);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Reject($"a snapshot handler failed: {ex.Message}");
        }
    }

    private void Reject(string problem)
    {
        Interlocked.Increment(ref _rejected);
        Volatile.Write(ref _lastProblem, problem);
    }

    public void Dispose()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _thread.Join();
        _stop.Dispose();
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Time;
using AutonomousBeamline.ZeroMq;
using NetMQ;
using NetMQ.Sockets;
using Polly;
using Polly.Retry;

namespace AutonomousBeamline.Instruments.Detector;

public sealed record ZmqDetectorClientOptions
{
    public ZmqRequestClientOptions Transport { get; init; } = new() { IdPrefix = "d" };

    /// <summary>Real (wall-clock) time to wait for a frame once the exposure has passed on the clock.</summary>
    public TimeSpan FrameTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How many times an acquisition is repeated when its frame is rejected or lost.</summary>
    public int Reacquisitions { get; init; } = 1;

    /// <summary>
    /// The most points a frame may carry. A larger message part is refused by the socket before it is allocated (ZeroMQ's
    /// maximum message size), and a header claiming more is rejected: whatever a peer sends, memory stays bounded.
    /// </summary>
    public int MaxFramePoints { get; init; } = 262_144;

    /// <summary>Frames queued on the data socket before the peer is held back (ZeroMQ's receive high-water mark).</summary>
    public int MaxQueuedFrames { get; init; } = 16;
}

public sealed class FrameRejectedEventArgs(string reason, string? requestId, long? frame) : EventArgs
{
    public string Reason { get; } = reason;
    public string? RequestId { get; } = requestId;
    public long? FrameNumber { get; } = frame;
}

/// <summary>
/// Client of the detector server (FACILITY-ICD §3): acquisitions over request/reply, frames from a PULL
/// socket. Only frames that pass validation and belong to a pending acquisition are ever returned.
/// </summary>
/// <remarks>
/// The PULL socket lives on its own thread. An acquisition registers its request id before the request
/// goes out, because the server may push the frame before its reply reaches us.
/// </remarks>
public sealed class ZmqDetectorClient : IDetector
{
    private const string Device = "detector";
    private static readonly TimeSpan ReceiveSlice = TimeSpan.FromMilliseconds(50);

    /// <summary>The kind being acquired, for the <see cref="Reacquiring"/> event raised from the retry.</summary>
    private static readonly ResiliencePropertyKey<string> AcquisitionKind = new("detector.acquisition-kind");

    /// <summary>Room for a frame's JSON header beyond its points.</summary>
    private const int HeaderAllowanceBytes = 64 * 1024;

    private readonly ZmqRequestClient _requests;
    private readonly TimeProvider _time;
    private readonly ZmqDetectorClientOptions _options;
    private readonly string _dataEndpoint;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<Frame>> _pending = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Thread _dataThread;
    private readonly ManualResetEventSlim _connected = new();
    private readonly ResiliencePipeline _reacquire;
    private long _rejectedFrames;
    private long _acceptedFrames;
    private long _reacquisitions;
    private int _disposed;

    public ZmqDetectorClient(string controlEndpoint, string dataEndpoint, TimeProvider timeProvider, ZmqDetectorClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataEndpoint);
        _time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _options = options ?? new ZmqDetectorClientOptions();
        if (_options.FrameTimeout <= TimeSpan.Zero) throw new ArgumentException("FrameTimeout must be positive", nameof(options));
        if (_options.Reacquisitions < 0) throw new ArgumentException("Reacquisitions cannot be negative", nameof(options));
        _dataEndpoint = dataEndpoint;
        _reacquire = BuildReacquisition();
        _requests = new ZmqRequestClient(controlEndpoint, Device, _options.Transport);
        _dataThread = new Thread(ReceiveFrames) { IsBackground = true, Name = "zmq-pull detector" };
        _dataThread.Start();
        _connected.Wait();
    }

    /// <summary>Raised (on the receiving thread) for every frame that is refused; such a frame is never returned.</summary>
    public event EventHandler<FrameRejectedEventArgs>? FrameRejected;

    public long RejectedFrames => Interlocked.Read(ref _rejectedFrames);

    public long AcceptedFrames => Interlocked.Read(ref _acceptedFrames);

    /// <summary>Acquisitions repeated because a frame was rejected or lost.</summary>
    public long Reacquisitions => Interlocked.Read(ref _reacquisitions);

    /// <summary>Raised before an acquisition is repeated because its frame was lost or rejected: the kind and why.</summary>
    public event Action<string, string>? Reacquiring;

    /// <summary>Raised when a control request is sent again after a silent time-out (see <see cref="ZmqRequestClient.Resending"/>).</summary>
    public event Action<string, string, int, string>? Resending
    {
        add => _requests.Resending += value;
        remove => _requests.Resending -= value;
    }

    public ZmqRequestClient Transport => _requests;

    public async Task<DetectorDescription> DescribeAsync(CancellationToken cancellationToken = default)
    {
        var reply = await _requests.RequestAsync("describe", null, cancellationToken).ConfigureAwait(false);
        if (reply["kinds"] is not JsonArray kindArray) throw Malformed("describe", "\"kinds\" is not an array");
        var kinds = kindArray.Select(k => k is JsonValue v && v.TryGetValue<string>(out var s)
            ? s : throw Malformed("describe", "an entry of \"kinds\" is not a string")).ToList();
        UniformAxis? xrd = null;
        if (reply["xrd"] is JsonObject axis)
        {
            var n = Number(axis, "n", "describe");
            if (n != Math.Floor(n) || n <= 0 || n > FrameDecoder.MaxPoints) throw Malformed("describe", "\"xrd.n\" is not a positive integer");
            xrd = new UniformAxis((int)n, String(axis, "x_name", "describe"), String(axis, "x_unit", "describe"),
                Number(axis, "x_start", "describe"), Number(axis, "x_step", "describe"));
        }
        else if (kinds.Contains("xrd"))
        {
            throw Malformed("describe", "\"xrd\" is listed in kinds but has no axis object");
        }
        return new DetectorDescription(kinds, xrd);
    }

    public Task<Frame> AcquireXrdAsync(double exposureS, CancellationToken cancellationToken = default)
    {
        if (!double.IsFinite(exposureS) || exposureS <= 0)
            throw new ArgumentOutOfRangeException(nameof(exposureS), exposureS, "the exposure must be a positive number of seconds");
        return AcquireAsync("xrd", new JsonObject { ["kind"] = "xrd", ["exposure_s"] = exposureS },
            TimeSpan.FromSeconds(exposureS), cancellationToken);
    }

    public Task<Frame> AcquireXasAsync(XasScanRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!double.IsFinite(request.DwellS) || request.DwellS <= 0)
            throw new ArgumentOutOfRangeException(nameof(request), request.DwellS, "the dwell must be a positive number of seconds");
        var fields = new JsonObject { ["kind"] = "xas" };
        int points;
        if (request.EnergiesEv is not null && request.Range is null)
        {
            if (request.EnergiesEv.Count == 0) throw new ArgumentException("the energy list is empty", nameof(request));
            if (request.EnergiesEv.Any(e => !double.IsFinite(e))) throw new ArgumentException("an energy is not a finite number", nameof(request));
            fields["energies_eV"] = new JsonArray(request.EnergiesEv.Select(e => (JsonNode)JsonValue.Create(e)).ToArray());
            points = request.EnergiesEv.Count;
        }
        else if (request.Range is { } range && request.EnergiesEv is null)
        {
            if (!double.IsFinite(range.StartEv) || !double.IsFinite(range.StopEv) || !(range.StepEv > 0) || range.StopEv < range.StartEv)
                throw new ArgumentException("the energy range needs finite start <= stop and a positive step", nameof(request));
            var rangePoints = Math.Floor((range.StopEv - range.StartEv) / range.StepEv + 1e-9) + 1;
            if (rangePoints > FrameDecoder.MaxPoints)
                throw new ArgumentException(FormattableString.Invariant($"the energy range has {rangePoints} points, more than {FrameDecoder.MaxPoints}"), nameof(request));
            fields["range"] = new JsonObject { ["start"] = range.StartEv, ["stop"] = range.StopEv, ["step"] = range.StepEv };
            points = (int)rangePoints;
        }
        else
        {
            throw new ArgumentException("give either an energy list or a range, not both or neither", nameof(request));
        }
        fields["dwell_s"] = request.DwellS;
        return AcquireAsync("xas", fields, TimeSpan.FromSeconds(request.DwellS * points), cancellationToken);
    }

    private async Task<Frame> AcquireAsync(string kind, JsonObject fields, TimeSpan countingTime, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(AcquisitionKind, kind);
        try
        {
            return await _reacquire.ExecuteAsync(
                async ctx => await AcquireOnceAsync(kind, fields, countingTime, ctx.CancellationToken).ConfigureAwait(false), context).ConfigureAwait(false);
        }
        catch (FrameLostException lost)
        {
            throw new DeviceTimeoutException(Device, $"{kind} acquisition failed after {Attempts} attempt(s): {lost.Message}", lost);
        }
        catch (FrameRejectedException rejected)
        {
            throw new DeviceException(Device, $"{kind} acquisition failed after {Attempts} attempt(s): {rejected.Message}", rejected);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private int Attempts => _options.Reacquisitions + 1;

    /// <summary>
    /// A frame lost or rejected (broken, or not the one acknowledged) is acquired again at once, up to
    /// <see cref="ZmqDetectorClientOptions.Reacquisitions"/> times. A refusal or silence of the control channel is not:
    /// its client has already resent, and the caller decides what a faulted detector means.
    /// </summary>
    private ResiliencePipeline BuildReacquisition()
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = _time };
        // No reacquisition has nothing to retry (and Polly's retry wants at least one).
        if (_options.Reacquisitions == 0) return builder.Build();
        return builder.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<FrameLostException>().Handle<FrameRejectedException>(),
            MaxRetryAttempts = _options.Reacquisitions,
            Delay = TimeSpan.Zero,
            OnRetry = args =>
            {
                Interlocked.Increment(ref _reacquisitions);
                Reacquiring?.Invoke(args.Context.Properties.GetValue(AcquisitionKind, "?"), args.Outcome.Exception!.Message);
                return default;
            },
        }).Build();
    }

    /// <summary>
    /// One acquisition: the request, the counting time on the clock, then the frame. A frame that does not come throws
    /// <see cref="FrameLostException"/>; one that is broken, or not the acquisition's, <see cref="FrameRejectedException"/>.
    /// </summary>
    private async ValueTask<Frame> AcquireOnceAsync(string kind, JsonObject fields, TimeSpan countingTime, CancellationToken cancellationToken)
    {
        var id = _requests.NewRequestId();
        var arrival = new TaskCompletionSource<Frame>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = arrival;
        try
        {
            var reply = await _requests.RequestAsync(id, "acquire", fields, cancellationToken).ConfigureAwait(false);
            if (reply["frame"] is not JsonValue frameValue || frameValue.GetValueKind() != JsonValueKind.Number ||
                !frameValue.TryGetValue<long>(out var frameNumber))
                throw Malformed("acquire", "\"frame\" is missing or not an integer");

            await _time.SleepAsync(countingTime, cancellationToken).ConfigureAwait(false);
            var frame = await arrival.Task.WaitAsync(_options.FrameTimeout, cancellationToken).ConfigureAwait(false);

            if (frame.Header.Frame != frameNumber)
                throw Report($"frame number {frame.Header.Frame} but the acquisition was acknowledged as frame {frameNumber}", id, frame.Header.Frame);
            if (frame.Header.Kind.ToWire() != kind)
                throw Report($"kind \"{frame.Header.Kind.ToWire()}\" for a \"{kind}\" acquisition", id, frame.Header.Frame);
            return frame;
        }
        catch (TimeoutException)
        {
            throw new FrameLostException(
                $"no {kind} frame for request {id} within {_options.FrameTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s after the counting time");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>The acquisition's frame did not arrive in time (as opposed to its request, which the control client retries).</summary>
    private sealed class FrameLostException(string message) : DeviceTimeoutException(ZmqDetectorClient.Device, message);

    private void ReceiveFrames()
    {
        using var pull = new PullSocket();
        pull.Options.Linger = TimeSpan.Zero;
        // Bounds set before connecting: an oversized part drops the peer's connection instead of filling memory.
        pull.Options.MaxMsgSize = (long)_options.MaxFramePoints * sizeof(float) + HeaderAllowanceBytes;
        pull.Options.ReceiveHighWatermark = _options.MaxQueuedFrames;
        pull.Connect(_dataEndpoint);
        _connected.Set();
        while (!_shutdown.IsCancellationRequested)
        {
            NetMQMessage? message = null;
            if (!pull.TryReceiveMultipartMessage(ReceiveSlice, ref message) || message is null) continue;
            try
            {
                Accept(message.Select(f => f.ToByteArray()).ToList());
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Whatever a peer sends must not end the stream: count it as a rejected frame.
                Report($"undecodable message ({ex.GetType().Name}: {ex.Message})", null, null);
            }
        }
    }

    private void Accept(IReadOnlyList<byte[]> parts)
    {
        Frame frame;
        try
        {
            frame = FrameDecoder.Decode(parts, _options.MaxFramePoints);
        }
        catch (FrameRejectedException rejected)
        {
            // A broken frame that names a pending request ends that attempt now rather than at its time-out.
            if (rejected.RequestId is not null && _pending.TryGetValue(rejected.RequestId, out var waiting))
                waiting.TrySetException(rejected);
            Report(rejected.Reason, rejected.RequestId, rejected.FrameNumber);
            return;
        }
        if (!_pending.TryGetValue(frame.Header.RequestId, out var arrival) || !arrival.TrySetResult(frame))
        {
            Report($"no pending acquisition for request_id \"{frame.Header.RequestId}\"", frame.Header.RequestId, frame.Header.Frame);
            return;
        }
        Interlocked.Increment(ref _acceptedFrames);
    }

    private FrameRejectedException Report(string reason, string? requestId, long? frame)
    {
        Interlocked.Increment(ref _rejectedFrames);
        try
        {
            FrameRejected?.Invoke(this, new FrameRejectedEventArgs(reason, requestId, frame));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A faulty subscriber must not stop the frame stream; the counter still records the rejection.
        }
        return new FrameRejectedException(reason, requestId, frame);
    }

    private static string String(JsonObject obj, string field, string cmd) =>
        obj[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw Malformed(cmd, $"\"{field}\" is missing or not a string");

    private static double Number(JsonObject obj, string field, string cmd) =>
        obj[field] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var d) && double.IsFinite(d)
            ? d
            : throw Malformed(cmd, $"\"{field}\" is missing or not a finite number");

    private static DeviceException Malformed(string cmd, string what) => new(Device, $"malformed reply to '{cmd}': {what}");

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _shutdown.Cancel();
        _dataThread.Join();
        foreach (var waiting in _pending.Values) waiting.TrySetException(new ObjectDisposedException(nameof(ZmqDetectorClient)));
        await _requests.DisposeAsync().ConfigureAwait(false);
        _shutdown.Dispose();
        _connected.Dispose();
    }
}

using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Simulators.Physics;
using AutonomousBeamline.Simulators.Zmq;
using NetMQ;
using NetMQ.Sockets;

namespace AutonomousBeamline.Simulators.Detector;

/// <summary>Ways the fault switch <see cref="DetectorServer.CorruptNextFrames"/> breaks a frame.</summary>
public enum FrameCorruption
{
    /// <summary>The intensity payload loses its last value.</summary>
    TruncatedPayload,
    /// <summary>The header's <c>n</c> is one more than the payload holds.</summary>
    WrongN,
    /// <summary>The first intensity is NaN.</summary>
    NotANumber,
    /// <summary>The frame names a request nobody made.</summary>
    ForeignRequestId,
}

public sealed record DetectorServerOptions
{
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Control (request/reply) port; 0 = random. The ICD default is 5557.</summary>
    public int ControlPort { get; init; }

    /// <summary>Data (PUSH) port; 0 = random. The ICD default is 5558.</summary>
    public int DataPort { get; init; }

    /// <summary>Axis of the beamline view that is the electrode's x (mm).</summary>
    public string XAxis { get; init; } = "sample_x";

    /// <summary>Axis of the beamline view that is the electrode's y (mm).</summary>
    public string YAxis { get; init; } = "sample_y";

    /// <summary>Side of the square beam footprint on the electrode (mm).</summary>
    public double FootprintMm { get; init; } = 0.05;

    /// <summary>Ring current that gives a signal scale of 1. Null takes it from the view when it is a <see cref="MotionStage"/>.</summary>
    public double? NominalBeamMa { get; init; }

    public int Seed { get; init; } = 1;

    public double MaxExposureS { get; init; } = 3600;

    public int MaxXasPoints { get; init; } = 100_000;
}

/// <summary>
/// The detector server of FACILITY-ICD §3: acquisitions requested over a ROUTER control socket,
/// frames (JSON header, float32 intensities, optional float32 x) pushed on a PUSH data socket.
/// </summary>
/// <remarks>
/// A frame is pushed as soon as it is requested, stamped with the request's time: the client is the
/// one that waits out the exposure on the clock, so the server needs no timers and stays passive on a
/// virtual clock. Both sockets live on the poller thread.
/// </remarks>
public sealed class DetectorServer : JsonRequestServer
{
    private static readonly TimeSpan PushTimeout = TimeSpan.FromMilliseconds(500);

    private readonly IBeamlineView _view;
    private readonly SampleTruth _truth;
    private readonly IXrdRenderer _xrd;
    private readonly IXasRenderer _xas;
    private readonly TimeProvider _time;
    private readonly DetectorServerOptions _options;
    private readonly double _nominalBeamMa;
    private readonly PushSocket _push;
    private readonly Random _rng;
    private long _nextFrame;
    private int _dropNextFrames;
    // Queued, not overwritten: two corruptions asked for in a row break two frames, in that order.
    private readonly System.Collections.Concurrent.ConcurrentQueue<FrameCorruption> _pendingCorruptions = new();
    private volatile string? _fault;
    private long _framesSent;
    private long _framesDropped;

    public DetectorServer(IBeamlineView view, SampleTruth sampleTruth, IXrdRenderer xrdRenderer, IXasRenderer xasRenderer,
        TimeProvider timeProvider, DetectorServerOptions? options = null)
        : base((options ?? new DetectorServerOptions()).Host, (options ?? new DetectorServerOptions()).ControlPort)
    {
        _view = view ?? throw new ArgumentNullException(nameof(view));
        _truth = sampleTruth ?? throw new ArgumentNullException(nameof(sampleTruth));
        _xrd = xrdRenderer ?? throw new ArgumentNullException(nameof(xrdRenderer));
        _xas = xasRenderer ?? throw new ArgumentNullException(nameof(xasRenderer));
        _time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _options = options ?? new DetectorServerOptions();
        _nominalBeamMa = _options.NominalBeamMa ?? (view as MotionStage)?.NominalBeamMa
            ?? throw new ArgumentException("NominalBeamMa must be given when the view is not a MotionStage", nameof(options));
        if (!(_nominalBeamMa > 0)) throw new ArgumentException("NominalBeamMa must be positive", nameof(options));
        _rng = new Random(_options.Seed);
        _push = new PushSocket();
        _push.Options.Linger = TimeSpan.Zero;
        try
        {
            DataPort = Bind(_push, _options.Host, _options.DataPort);
        }
        catch
        {
            // The control socket is already bound; release it too, or the port stays taken.
            Dispose();
            throw;
        }
    }

    public int DataPort { get; }

    public string DataEndpoint => $"tcp://{Host}:{DataPort}";

    public long FramesSent => Interlocked.Read(ref _framesSent);

    /// <summary>Frames acquired but never pushed (fault switch, or no puller connected).</summary>
    public long FramesDropped => Interlocked.Read(ref _framesDropped);

    /// <summary>Fault switch: acknowledge the next <paramref name="count"/> acquisitions but never push their frames.</summary>
    public void DropNextFrames(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Interlocked.Exchange(ref _dropNextFrames, count);
    }

    /// <summary>Fault switch: acknowledge the next <paramref name="count"/> acquisitions but push broken frames (after any already asked for).</summary>
    public void CorruptNextFrames(FrameCorruption corruption, int count = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        for (var i = 0; i < count; i++) _pendingCorruptions.Enqueue(corruption);
    }

    /// <summary>Puts the detector into fault: acquisitions are refused with FAULT until <see cref="ClearFault"/>.</summary>
    public void InjectFault(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        _fault = reason;
    }

    public void ClearFault() => _fault = null;

    protected override bool IsReplayable(string cmd) => cmd == "acquire";

    protected override JsonObject Handle(string cmd, JsonObject request) => cmd switch
    {
        "describe" => Describe(),
        "acquire" => Acquire(request),
        _ => throw new RequestRefusedException(FacilityErrorCode.BadRequest, $"unknown cmd '{cmd}' (expected describe or acquire)"),
    };

    private JsonObject Describe()
    {
        var axis = _xrd.Axis;
        return new JsonObject
        {
            ["kinds"] = new JsonArray("xrd", "xas"),
            ["xrd"] = new JsonObject
            {
                ["n"] = axis.N,
                ["x_name"] = axis.Name,
                ["x_unit"] = axis.Unit,
                ["x_start"] = axis.Start,
                ["x_step"] = axis.Step,
            },
        };
    }

    private JsonObject Acquire(JsonObject request)
    {
        if (_fault is { } fault) throw new RequestRefusedException(FacilityErrorCode.Fault, $"detector in fault: {fault}");
        var id = RequireString(request, "id");
        var kind = RequireString(request, "kind");
        return kind switch
        {
            "xrd" => AcquireXrd(id, request),
            "xas" => AcquireXas(id, request),
            _ => throw new RequestRefusedException(FacilityErrorCode.BadRequest, $"\"kind\" must be \"xrd\" or \"xas\", not '{kind}'"),
        };
    }

    private JsonObject AcquireXrd(string id, JsonObject request)
    {
        var exposure = RequirePositive(request, "exposure_s");
        if (exposure > _options.MaxExposureS)
            throw new RequestRefusedException(FacilityErrorCode.OutOfRange,
                FormattableString.Invariant($"exposure {exposure} s exceeds the limit of {_options.MaxExposureS} s"));
        var (now, positions, fraction, beam, scale) = Snapshot();
        var axis = _xrd.Axis;
        var intensities = _xrd.Render(fraction, exposure, scale, _rng);
        if (intensities.Length != axis.N)
            throw new InvalidOperationException($"the XRD renderer returned {intensities.Length} points, its axis has {axis.N}");
        var frame = ++_nextFrame;
        var header = Header(frame, id, "xrd", axis.N, now, positions, beam);
        header["x"] = "uniform";
        header["x_name"] = axis.Name;
        header["x_unit"] = axis.Unit;
        header["x_start"] = axis.Start;
        header["x_step"] = axis.Step;
        header["exposure_s"] = exposure;
        Reorder(header);
        Push(header, intensities, null);
        return new JsonObject { ["frame"] = frame };
    }

    private JsonObject AcquireXas(string id, JsonObject request)
    {
        var dwell = RequirePositive(request, "dwell_s");
        var hasList = request.ContainsKey("energies_eV");
        var hasRange = request.ContainsKey("range");
        if (hasList == hasRange)
            throw new RequestRefusedException(FacilityErrorCode.BadRequest, "give exactly one of \"energies_eV\" and \"range\"");

        double[] energies;
        double? start = null, step = null;
        if (hasList)
        {
            if (request["energies_eV"] is not JsonArray list || list.Count == 0)
                throw new RequestRefusedException(FacilityErrorCode.BadRequest, "\"energies_eV\" must be a non-empty array of numbers");
            if (list.Count > _options.MaxXasPoints)
                throw new RequestRefusedException(FacilityErrorCode.OutOfRange, $"{list.Count} energies exceed the limit of {_options.MaxXasPoints}");
            energies = list.Select((e, i) => ReadNumber(e, $"energies_eV[{i}]")).ToArray();
        }
        else
        {
            var range = RequireObject(request, "range");
            var first = ReadNumber(range["start"], "range.start");
            var last = ReadNumber(range["stop"], "range.stop");
            var increment = ReadNumber(range["step"], "range.step");
            if (!(increment > 0) || last < first)
                throw new RequestRefusedException(FacilityErrorCode.BadRequest, "range needs start <= stop and a positive step");
            // Counted in double first: a tiny step must not overflow the integer it ends up in.
            var count = Math.Floor((last - first) / increment + 1e-9) + 1;
            if (count > _options.MaxXasPoints)
                throw new RequestRefusedException(FacilityErrorCode.OutOfRange,
                    FormattableString.Invariant($"the range has {count} points, the limit is {_options.MaxXasPoints}"));
            energies = Enumerable.Range(0, (int)count).Select(i => first + i * increment).ToArray();
            start = first;
            step = increment;
        }

        var (now, positions, fraction, beam, scale) = Snapshot();
        var mu = _xas.Render(energies, fraction, dwell, scale, _rng);
        if (mu.Length != energies.Length)
            throw new InvalidOperationException($"the XAS renderer returned {mu.Length} points for {energies.Length} energies");
        var frame = ++_nextFrame;
        var header = Header(frame, id, "xas", energies.Length, now, positions, beam);
        header["x"] = start is null ? "explicit" : "uniform";
        header["x_name"] = "energy";
        header["x_unit"] = "eV";
        if (start is not null)
        {
            header["x_start"] = start;
            header["x_step"] = step;
        }
        // The whole scan's counting time; the dwell per point is kept as an addition old peers can ignore.
        header["exposure_s"] = dwell * energies.Length;
        header["dwell_s"] = dwell;
        Reorder(header);
        Push(header, mu, start is null ? energies.Select(e => (float)e).ToArray() : null);
        return new JsonObject { ["frame"] = frame };
    }

    private (DateTimeOffset Now, IReadOnlyDictionary<string, double> Positions, double Fraction, double BeamMa, double Scale) Snapshot()
    {
        var now = _time.GetUtcNow();
        var positions = _view.PositionsAt(now);
        if (!positions.TryGetValue(_options.XAxis, out var x) || !positions.TryGetValue(_options.YAxis, out var y))
            throw new RequestRefusedException(FacilityErrorCode.Fault,
                $"the beamline has no axes '{_options.XAxis}' and '{_options.YAxis}' to locate the sample");
        var fraction = _truth.FePO4FractionOverFootprint(x, y, now, _options.FootprintMm);
        var beam = _view.BeamCurrentMaAt(now);
        var scale = _view.ShutterOpen ? Math.Max(0, beam) / _nominalBeamMa : 0.0;
        return (now, positions, fraction, beam, scale);
    }

    private static JsonObject Header(long frame, string requestId, string kind, int n, DateTimeOffset now,
        IReadOnlyDictionary<string, double> positions, double beamMa)
    {
        var positionObject = new JsonObject();
        foreach (var (axis, value) in positions) positionObject[axis] = value;
        return new JsonObject
        {
            ["htype"] = "pattern-1.0",
            ["frame"] = frame,
            ["request_id"] = requestId,
            ["kind"] = kind,
            ["n"] = n,
            ["dtype"] = "<f4",
            ["t_start"] = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            ["positions"] = positionObject,
            ["beam_current_mA"] = beamMa,
        };
    }

    /// <summary>Puts the fields in the ICD example's order, which makes frames easy to compare by eye.</summary>
    private static void Reorder(JsonObject header)
    {
        string[] order = ["htype", "frame", "request_id", "kind", "n", "dtype", "x", "x_name", "x_unit", "x_start", "x_step",
            "exposure_s", "dwell_s", "t_start", "positions", "beam_current_mA"];
        var fields = header.ToList();
        header.Clear();
        foreach (var key in order)
        {
            var field = fields.FirstOrDefault(f => f.Key == key);
            if (field.Key is not null) header[key] = field.Value;
        }
    }

    private void Push(JsonObject header, float[] intensities, float[]? x)
    {
        if (TakeOne(ref _dropNextFrames))
        {
            Interlocked.Increment(ref _framesDropped);
            return;
        }
        var payload = ToLittleEndian(intensities);
        if (_pendingCorruptions.TryDequeue(out var corruption))
        {
            switch (corruption)
            {
                case FrameCorruption.TruncatedPayload:
                    payload = payload[..^sizeof(float)];
                    break;
                case FrameCorruption.WrongN:
                    header["n"] = header["n"]!.GetValue<int>() + 1;
                    break;
                case FrameCorruption.NotANumber:
                    BinaryPrimitives.WriteSingleLittleEndian(payload, float.NaN);
                    break;
                case FrameCorruption.ForeignRequestId:
                    header["request_id"] = "stray-" + header["request_id"]!.GetValue<string>();
                    break;
            }
        }
        if (Manner.ExtraFields) header["detector_temp_c"] = 21.5;
        if (Manner.Chance(Manner.PositionsLeftOut)) header.Remove("positions");
        var parts = new List<byte[]> { Encoding.UTF8.GetBytes(header.ToJsonString()), payload };
        if (x is not null) parts.Add(ToLittleEndian(x));
        // A foreign stream may deliver the previous request's frame again, after its acquisition is over.
        if (_previousFrame is { } previous && Manner.Chance(Manner.FrameResent)) _push.TrySendMultipartBytes(PushTimeout, previous);
        _previousFrame = parts;
        if (_push.TrySendMultipartBytes(PushTimeout, parts)) Interlocked.Increment(ref _framesSent);
        else Interlocked.Increment(ref _framesDropped);
    }

    private List<byte[]>? _previousFrame;

    internal static byte[] ToLittleEndian(float[] values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (var i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        return bytes;
    }

    private static double RequirePositive(JsonObject request, string field)
    {
        var value = RequireNumber(request, field);
        if (!(value > 0)) throw new RequestRefusedException(FacilityErrorCode.BadRequest, $"\"{field}\" must be positive");
        return value;
    }

    protected override void DisposeSockets() => _push.Dispose();
}

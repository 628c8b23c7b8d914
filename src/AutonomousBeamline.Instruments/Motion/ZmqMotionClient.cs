using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Time;
using AutonomousBeamline.ZeroMq;

namespace AutonomousBeamline.Instruments.Motion;

/// <summary>The travel this experiment allows an axis, usually narrower than what the server offers.</summary>
public sealed record AxisSoftLimit(double Min, double Max);

public sealed record ZmqMotionClientOptions
{
    public ZmqRequestClientOptions Transport { get; init; } = new() { IdPrefix = "m" };

    /// <summary>Per-axis soft limits, checked before anything is sent. Axes not listed are limited only by the server.</summary>
    public IReadOnlyDictionary<string, AxisSoftLimit> SoftLimits { get; init; } = new Dictionary<string, AxisSoftLimit>();

    /// <summary>Per-axis tolerance for "arrived"; axes not listed use <see cref="DefaultTolerance"/>.</summary>
    public IReadOnlyDictionary<string, double> Tolerances { get; init; } = new Dictionary<string, double>();

    public double DefaultTolerance { get; init; } = 1e-3;

    /// <summary>Time between status polls while a move runs (on the injected clock).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>A move that has not completed within eta × this factor + <see cref="MoveTimeoutMargin"/> (clock time) fails.</summary>
    public double MoveTimeoutFactor { get; init; } = 2.0;

    public TimeSpan MoveTimeoutMargin { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Consecutive polls that may read "idle" with an axis off target before the move is declared failed.</summary>
    public int IdleOffTargetPolls { get; init; } = 3;
}

/// <summary>Client of the beamline motion server (FACILITY-ICD §2).</summary>
public sealed class ZmqMotionClient : IMotion
{
    private const string Device = "motion";

    private readonly ZmqRequestClient _requests;
    private readonly TimeProvider _time;
    private readonly ZmqMotionClientOptions _options;

    public ZmqMotionClient(string endpoint, TimeProvider timeProvider, ZmqMotionClientOptions? options = null)
    {
        _time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _options = options ?? new ZmqMotionClientOptions();
        foreach (var (axis, limit) in _options.SoftLimits)
        {
            if (!double.IsFinite(limit.Min) || !double.IsFinite(limit.Max) || limit.Max < limit.Min)
                throw new ArgumentException($"soft limit of '{axis}' [{limit.Min}, {limit.Max}] is not a range", nameof(options));
        }
        foreach (var (axis, tolerance) in _options.Tolerances)
        {
            if (!(tolerance > 0)) throw new ArgumentException($"tolerance of '{axis}' must be positive", nameof(options));
        }
        if (!(_options.DefaultTolerance > 0)) throw new ArgumentException("DefaultTolerance must be positive", nameof(options));
        if (_options.PollInterval <= TimeSpan.Zero) throw new ArgumentException("PollInterval must be positive", nameof(options));
        _requests = new ZmqRequestClient(endpoint, Device, _options.Transport);
    }

    /// <summary>The request transport, for diagnostics (resends, discarded replies).</summary>
    public ZmqRequestClient Transport => _requests;

    public async Task<MotionDescription> DescribeAsync(CancellationToken cancellationToken = default)
    {
        var reply = await _requests.RequestAsync("describe", null, cancellationToken).ConfigureAwait(false);
        var axes = new List<AxisDescription>();
        if (reply["axes"] is not JsonArray axisArray) throw Malformed("describe", "\"axes\" is not an array");
        foreach (var node in axisArray)
        {
            if (node is not JsonObject axis) throw Malformed("describe", "an entry of \"axes\" is not an object");
            axes.Add(new AxisDescription(
                String(axis, "name", "describe"),
                String(axis, "unit", "describe"),
                Number(axis, "min", "describe"),
                Number(axis, "max", "describe"),
                Number(axis, "speed", "describe")));
        }
        var shutter = reply["shutter"] is JsonValue s && s.TryGetValue<bool>(out var hasShutter)
            ? hasShutter
            : throw Malformed("describe", "\"shutter\" is not true/false");
        return new MotionDescription(axes, shutter);
    }

    public async Task<MotionStatus> MoveAsync(IReadOnlyDictionary<string, double> targets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Count == 0) throw new ArgumentException("a move needs at least one target", nameof(targets));
        foreach (var (axis, target) in targets)
        {
            if (!double.IsFinite(target)) throw new ArgumentException($"target of '{axis}' is not a finite number", nameof(targets));
            if (_options.SoftLimits.TryGetValue(axis, out var limit) && (target < limit.Min || target > limit.Max))
                throw new ArgumentOutOfRangeException(nameof(targets), target,
                    FormattableString.Invariant($"'{axis}' target {target} is outside the soft limits [{limit.Min}, {limit.Max}]"));
        }

        var targetObject = new JsonObject();
        foreach (var (axis, target) in targets) targetObject[axis] = target;
        var reply = await _requests.RequestAsync("move", new JsonObject { ["targets"] = targetObject }, cancellationToken).ConfigureAwait(false);
        var eta = reply["eta_s"] is null ? 0.0 : Number(reply, "eta_s", "move");
        if (eta < 0) throw Malformed("move", "\"eta_s\" is negative");

        var started = _time.GetUtcNow();
        var bound = TimeSpan.FromSeconds(eta * _options.MoveTimeoutFactor) + _options.MoveTimeoutMargin;
        await _time.SleepAsync(TimeSpan.FromSeconds(eta), cancellationToken).ConfigureAwait(false);
        var idleOffTarget = 0;
        while (true)
        {
            var status = await GetStatusAsync(cancellationToken).ConfigureAwait(false);
            if (status.State == MotionState.Fault)
                throw new DeviceException(Device, $"the stage reported a fault during the move to {Describe(targets)}");
            var offTarget = OffTarget(targets, status.Positions);
            if (status.State == MotionState.Idle)
            {
                if (offTarget is null) return status;
                if (++idleOffTarget >= _options.IdleOffTargetPolls)
                    throw new DeviceException(Device, $"the stage is idle but {offTarget}");
            }
            else
            {
                idleOffTarget = 0;
            }
            if (_time.GetUtcNow() - started > bound)
                throw new DeviceTimeoutException(Device,
                    $"the move to {Describe(targets)} did not complete within {bound.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s ({offTarget ?? "still moving"})");
            await _time.SleepAsync(_options.PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<MotionStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var reply = await _requests.RequestAsync("status", null, cancellationToken).ConfigureAwait(false);
        var state = String(reply, "state", "status") switch
        {
            "idle" => MotionState.Idle,
            "moving" => MotionState.Moving,
            "fault" => MotionState.Fault,
            // A state this client does not know ("settling", "homing") is not idle: a move waits for "idle" within its
            // bound, as it would for "moving"; it is not a reason to fail the status.
            _ => MotionState.Moving,
        };
        if (reply["positions"] is not JsonObject positionObject) throw Malformed("status", "\"positions\" is not an object");
        var positions = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (axis, _) in positionObject) positions[axis] = Number(positionObject, axis, "status");
        var shutter = ParseShutter(String(reply, "shutter", "status"), "status");
        var beam = Number(reply, "beam_current_mA", "status");
        // No beam is 0 mA; below that is not a beam current but a broken reading, and must not pass for a beam loss.
        if (beam < 0) throw Malformed("status", FormattableString.Invariant($"\"beam_current_mA\" is {beam}, an impossible (negative) current"));
        return new MotionStatus(state, positions, shutter, beam) { Interlock = Interlock(reply) };
    }

    public async Task StopAsync(CancellationToken cancellationToken = default) =>
        await _requests.RequestAsync("stop", null, cancellationToken).ConfigureAwait(false);

    public async Task SetShutterAsync(bool open, CancellationToken cancellationToken = default)
    {
        var wanted = open ? "open" : "closed";
        var reply = await _requests.RequestAsync("shutter", new JsonObject { ["state"] = wanted }, cancellationToken).ConfigureAwait(false);
        if (ParseShutter(String(reply, "shutter", "shutter"), "shutter") != open)
            throw new DeviceException(Device, $"asked for the shutter {wanted}, the server reports it {reply["shutter"]}");
    }

    /// <summary>Raised when a request is sent again after a silent time-out (see <see cref="ZmqRequestClient.Resending"/>).</summary>
    public event Action<string, string, int, string>? Resending
    {
        add => _requests.Resending += value;
        remove => _requests.Resending -= value;
    }

    public ValueTask DisposeAsync() => _requests.DisposeAsync();

    private string? OffTarget(IReadOnlyDictionary<string, double> targets, IReadOnlyDictionary<string, double> positions)
    {
        foreach (var (axis, target) in targets)
        {
            if (!positions.TryGetValue(axis, out var position)) return $"'{axis}' is missing from the status";
            var tolerance = _options.Tolerances.TryGetValue(axis, out var t) ? t : _options.DefaultTolerance;
            if (Math.Abs(position - target) > tolerance)
                return FormattableString.Invariant($"'{axis}' reads {position}, target {target} ± {tolerance}");
        }
        return null;
    }

    private static string Describe(IReadOnlyDictionary<string, double> targets) =>
        "{" + string.Join(", ", targets.Select(t => FormattableString.Invariant($"{t.Key}={t.Value}"))) + "}";

    private static bool ParseShutter(string text, string cmd) => text switch
    {
        "open" => true,
        "closed" => false,
        _ => throw Malformed(cmd, $"\"shutter\" is '{text}', expected open or closed"),
    };

    private static string String(JsonObject obj, string field, string cmd) =>
        obj[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw Malformed(cmd, $"\"{field}\" is missing or not a string");

    private static double Number(JsonObject obj, string field, string cmd) =>
        obj[field] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var d) && double.IsFinite(d)
            ? d
            : throw Malformed(cmd, $"\"{field}\" is missing or not a finite number");

    /// <summary>
    /// The beamline interlock, an extension of the ICD's status (docs/icd-extensions.md): <c>{"ok": bool, "reason": text}</c>,
    /// or a bare boolean. A server that does not report one leaves it out; one whose report cannot be read is refused,
    /// because an interlock that cannot be read must not pass for one that is ok.
    /// </summary>
    private static InterlockState? Interlock(JsonObject reply) => reply["interlock"] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<bool>(out var ok) => new InterlockState(ok, ok ? "" : "interlock not ok"),
        JsonObject o when o["ok"] is JsonValue ok && ok.TryGetValue<bool>(out var isOk) =>
            new InterlockState(isOk, o["reason"] is JsonValue r && r.TryGetValue<string>(out var why) && why.Length > 0 ? why : isOk ? "" : "interlock not ok"),
        _ => throw Malformed("status", "\"interlock\" is neither true/false nor {\"ok\": true/false, \"reason\": text}"),
    };

    private static DeviceException Malformed(string cmd, string what) => new(Device, $"malformed reply to '{cmd}': {what}");
}

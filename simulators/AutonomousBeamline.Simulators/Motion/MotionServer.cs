using System.Text.Json.Nodes;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Simulators.Physics;
using AutonomousBeamline.Simulators.Zmq;

namespace AutonomousBeamline.Simulators.Motion;

public sealed record MotionServerOptions
{
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 binds a random free port (see <see cref="JsonRequestServer.Port"/>); the ICD default is 5555.</summary>
    public int Port { get; init; }

    /// <summary>Behind a ROUTER→DEALER broker, as a facility with a broker in front of its servers (see <see cref="JsonRequestServer"/>).</summary>
    public bool Brokered { get; init; }
}

/// <summary>The beamline motion server of FACILITY-ICD §2 over a <see cref="MotionStage"/>.</summary>
public sealed class MotionServer : JsonRequestServer
{
    private readonly MotionStage _stage;
    private readonly TimeProvider _time;

    public MotionServer(MotionStage stage, TimeProvider timeProvider, MotionServerOptions? options = null)
        : base((options ?? new MotionServerOptions()).Host, (options ?? new MotionServerOptions()).Port, (options ?? new MotionServerOptions()).Brokered)
    {
        _stage = stage ?? throw new ArgumentNullException(nameof(stage));
        _time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
    }

    public MotionStage Stage => _stage;

    protected override bool IsReplayable(string cmd) => cmd == "move";

    protected override JsonObject Handle(string cmd, JsonObject request) => cmd switch
    {
        "describe" => Describe(),
        "move" => Move(request),
        "status" => Status(),
        "stop" => Stop(),
        "shutter" => Shutter(request),
        _ => throw new RequestRefusedException(FacilityErrorCode.BadRequest,
            $"unknown cmd '{cmd}' (expected describe, move, status, stop or shutter)"),
    };

    private JsonObject Describe()
    {
        var axes = new JsonArray();
        foreach (var axis in _stage.Axes)
        {
            axes.Add(new JsonObject
            {
                ["name"] = axis.Name,
                ["unit"] = axis.Unit,
                ["min"] = axis.Min,
                ["max"] = axis.Max,
                ["speed"] = axis.Speed,
            });
        }
        return new JsonObject { ["axes"] = axes, ["shutter"] = true };
    }

    private JsonObject Move(JsonObject request)
    {
        var targetsNode = RequireObject(request, "targets");
        var targets = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (axis, value) in targetsNode)
            targets[axis] = ReadNumber(value, $"target of '{axis}'");
        var eta = _stage.StartMove(targets);
        return new JsonObject { ["state"] = "moving", ["eta_s"] = eta.TotalSeconds };
    }

    private JsonObject Status()
    {
        var now = _time.GetUtcNow();
        var positions = new JsonObject();
        foreach (var (axis, position) in _stage.PositionsAt(now)) positions[axis] = position;
        return new JsonObject
        {
            ["state"] = StateText(_stage.StateAt(now)),
            ["positions"] = positions,
            ["shutter"] = _stage.ShutterOpen ? "open" : "closed",
            ["beam_current_mA"] = _stage.BeamCurrentMaAt(now),
            // An extension an old client ignores (docs/icd-extensions.md): whether frames may be taken as far as the interlock goes.
            ["interlock"] = new JsonObject { ["ok"] = _stage.InterlockReason is null, ["reason"] = _stage.InterlockReason ?? "" },
        };
    }

    private JsonObject Stop()
    {
        _stage.Stop();
        return new JsonObject { ["state"] = StateText(_stage.StateAt(_time.GetUtcNow())) };
    }

    private JsonObject Shutter(JsonObject request)
    {
        var state = RequireString(request, "state");
        var open = state switch
        {
            "open" => true,
            "closed" => false,
            _ => throw new RequestRefusedException(FacilityErrorCode.BadRequest, $"\"state\" must be \"open\" or \"closed\", not '{state}'"),
        };
        _stage.SetShutter(open);
        return new JsonObject { ["shutter"] = open ? "open" : "closed" };
    }

    private static string StateText(MotionState state) => state switch
    {
        MotionState.Idle => "idle",
        MotionState.Moving => "moving",
        _ => "fault",
    };
}

namespace AutonomousBeamline.Core.Devices;

public sealed record AxisDescription(string Name, string Unit, double Min, double Max, double Speed);

public sealed record MotionDescription(IReadOnlyList<AxisDescription> Axes, bool HasShutter);

public enum MotionState { Idle, Moving, Fault }

public sealed record MotionStatus(
    MotionState State,
    IReadOnlyDictionary<string, double> Positions,
    bool ShutterOpen,
    double BeamCurrentMa)
{
    /// <summary>The beamline's interlock, where the server reports one (an extension of the ICD); null when it does not.</summary>
    public InterlockState? Interlock { get; init; }
}

/// <summary>Whether the beamline's interlock lets frames be taken; <see cref="Reason"/> says why not.</summary>
public sealed record InterlockState(bool Ok, string Reason);

/// <summary>The beamline motion server (FACILITY-ICD §2): axes, the experimental shutter and the beam current.</summary>
public interface IMotion : IAsyncDisposable
{
    Task<MotionDescription> DescribeAsync(CancellationToken cancellationToken = default);

    /// <summary>Starts a move and waits (on the injected clock) until every target axis is idle and within tolerance.</summary>
    Task<MotionStatus> MoveAsync(IReadOnlyDictionary<string, double> targets, CancellationToken cancellationToken = default);

    Task<MotionStatus> GetStatusAsync(CancellationToken cancellationToken = default);

    Task StopAsync(CancellationToken cancellationToken = default);

    Task SetShutterAsync(bool open, CancellationToken cancellationToken = default);
}

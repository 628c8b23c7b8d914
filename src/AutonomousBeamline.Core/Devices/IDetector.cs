using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Core.Devices;

/// <summary>An evenly spaced x axis: x[i] = Start + i * Step.</summary>
public sealed record UniformAxis(int N, string Name, string Unit, double Start, double Step)
{
    public double this[int i] => Start + i * Step;
}

public sealed record DetectorDescription(IReadOnlyList<string> Kinds, UniformAxis? Xrd);

/// <summary>The JSON header of a data frame (FACILITY-ICD §3).</summary>
public sealed record FrameHeader
{
    public required long Frame { get; init; }
    public required string RequestId { get; init; }
    public required FrameKind Kind { get; init; }
    public required int N { get; init; }
    /// <summary>"uniform" or "explicit".</summary>
    public required string XMode { get; init; }
    public string? XName { get; init; }
    public string? XUnit { get; init; }
    public double? XStart { get; init; }
    public double? XStep { get; init; }
    public double? ExposureS { get; init; }
    public required DateTimeOffset TStart { get; init; }
    public IReadOnlyDictionary<string, double> Positions { get; init; } = new Dictionary<string, double>();
    public required double BeamCurrentMa { get; init; }
}

/// <summary>One reduced 1D pattern or spectrum. <see cref="X"/> is null when the header's axis is uniform.</summary>
public sealed record Frame(FrameHeader Header, float[] Intensities, float[]? X)
{
    public double XAt(int i) => X is not null ? X[i] : Header.XStart!.Value + i * Header.XStep!.Value;
}

/// <summary>An XAS scan: an explicit energy list, or a start/stop/step range.</summary>
public sealed record XasScanRequest(IReadOnlyList<double>? EnergiesEv, EnergyRange? Range, double DwellS);

public sealed record EnergyRange(double StartEv, double StopEv, double StepEv);

/// <summary>The detector server (FACILITY-ICD §3): acquisition over request/reply, frames over a push stream.</summary>
public interface IDetector : IAsyncDisposable
{
    Task<DetectorDescription> DescribeAsync(CancellationToken cancellationToken = default);

    /// <summary>Acquires one diffraction pattern and returns its validated frame.</summary>
    Task<Frame> AcquireXrdAsync(double exposureS, CancellationToken cancellationToken = default);

    /// <summary>Acquires one absorption spectrum and returns its validated frame.</summary>
    Task<Frame> AcquireXasAsync(XasScanRequest request, CancellationToken cancellationToken = default);
}

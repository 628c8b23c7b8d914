// Shared by the test projects that need a simulator without its physics (linked into each csproj).
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Tests.Shared;

/// <summary>A cell frozen at one state of charge.</summary>
public sealed class FixedCell(double stateOfCharge, double cRate = 0) : ICellTruth
{
    public CellSnapshot At(DateTimeOffset t) => new(stateOfCharge, cRate);
}

/// <summary>An XRD "renderer" whose output encodes its inputs, so tests can read back what the server asked for.</summary>
public sealed class RecordingXrdRenderer : IXrdRenderer
{
    public UniformAxis Axis { get; } = new(64, "two_theta", "deg", 5.0, 0.5);
    public List<(double Fraction, double ExposureS, double SignalScale)> Calls { get; } = new();

    public float[] Render(double fePO4Fraction, double exposureS, double signalScale, Random rng)
    {
        lock (Calls) Calls.Add((fePO4Fraction, exposureS, signalScale));
        return Enumerable.Range(0, Axis.N).Select(i => (float)(1000 * signalScale * fePO4Fraction + i)).ToArray();
    }
}

public sealed class RecordingXasRenderer : IXasRenderer
{
    public List<(IReadOnlyList<double> Energies, double Fraction, double DwellS, double SignalScale)> Calls { get; } = new();

    public float[] Render(IReadOnlyList<double> energiesEv, double fePO4Fraction, double dwellS, double signalScale, Random rng)
    {
        lock (Calls) Calls.Add((energiesEv.ToList(), fePO4Fraction, dwellS, signalScale));
        return energiesEv.Select(e => (float)(signalScale * fePO4Fraction + (e - 7100) * 1e-3)).ToArray();
    }
}

using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Simulators.Physics;

/// <summary>The cell's average state at a moment, as the electrochemistry simulator integrates it.</summary>
public readonly record struct CellSnapshot(double StateOfCharge, double CRate);

/// <summary>The electrochemical cell as the other simulators need to see it.</summary>
public interface ICellTruth
{
    /// <summary>The cell's state of charge and the C-rate it is being driven at, at time <paramref name="t"/>.</summary>
    CellSnapshot At(DateTimeOffset t);
}

/// <summary>What the beamline looks like at a moment: where the sample is, the shutter and the beam.</summary>
public interface IBeamlineView
{
    IReadOnlyDictionary<string, double> PositionsAt(DateTimeOffset t);
    bool ShutterOpen { get; }
    double BeamCurrentMaAt(DateTimeOffset t);
}

/// <summary>Renders a diffraction pattern for a given local FePO4 fraction.</summary>
public interface IXrdRenderer
{
    UniformAxis Axis { get; }

    /// <summary>
    /// A pattern with counting noise. <paramref name="signalScale"/> is 1 for the nominal beam with the
    /// shutter open, proportionally less for a weaker beam, and 0 with the shutter closed or no beam.
    /// </summary>
    float[] Render(double fePO4Fraction, double exposureS, double signalScale, Random rng);
}

/// <summary>Renders a normalised Fe K-edge absorption spectrum (mu) for a given local Fe3+ (FePO4) fraction.</summary>
public interface IXasRenderer
{
    /// <summary>mu at each energy, with counting noise that shrinks with <paramref name="dwellS"/> and <paramref name="signalScale"/>.</summary>
    float[] Render(IReadOnlyList<double> energiesEv, double fePO4Fraction, double dwellS, double signalScale, Random rng);
}

namespace AutonomousBeamline.Storage;

/// <summary>The cell on the bench as the experiment file describes it.</summary>
/// <param name="Chemistry">Positive against negative electrode, as the config writes it (<c>LFP/Li</c>).</param>
public sealed record CellDescription(
    string Chemistry, double NominalCapacityAh, double VoltageMinV, double VoltageMaxV, double MaxCRate,
    double? TemperatureMinC = null, double? TemperatureMaxC = null);

/// <summary>The beamline's source and monochromator. The X-ray wavelength is the one the detector's 2θ axis is on.</summary>
public sealed record BeamlineDescription(double WavelengthAngstrom, string SourceName = "synchrotron", string SourceType = "Synchrotron X-ray Source",
    string Probe = "x-ray")
{
    /// <summary>hc in keV·Å: E = hc / λ.</summary>
    private const double HcKeVAngstrom = 12.398419843320026;

    public double EnergyKeV => HcKeVAngstrom / WavelengthAngstrom;
}

/// <summary>
/// What the run's files do not say about themselves but the standard files must (the sample, the beamline, who ran it):
/// the program builds it from the run's config.yaml.
/// </summary>
public sealed record RunDescription(string Mode, string Operator, CellDescription Cell, BeamlineDescription Beamline)
{
    /// <summary>The sample's name in NeXus and the metadata: the cell's chemistry.</summary>
    public string SampleName => $"{Cell.Chemistry} cell";
}

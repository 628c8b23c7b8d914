using AutonomousBeamline.Configuration;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Core.Materials;
using AutonomousBeamline.Storage;

namespace AutonomousBeamline.Cli.Composition;

/// <summary>The run's description for its standard files (NeXus, event documents, metadata), from the config.</summary>
internal static class RunDescriptions
{
    public static RunDescription From(ExperimentConfig config, RunMode mode) => new(
        mode.Name(),
        config.Experiment.Operator,
        new CellDescription(config.Cell.Chemistry, config.Cell.NominalCapacityAh, config.Cell.VoltageMinV, config.Cell.VoltageMaxV,
            config.Cell.MaxCRate, config.Cell.TemperatureMinC, config.Cell.TemperatureMaxC),
        // The one place the beamline's wavelength is read: the config's beamline section takes over here once it exists.
        new BeamlineDescription(BatteryMaterials.DefaultWavelengthAngstrom));
}

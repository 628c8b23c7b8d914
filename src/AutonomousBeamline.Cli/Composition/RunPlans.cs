using AutonomousBeamline.Configuration;
using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Control.Plan;

namespace AutonomousBeamline.Cli.Composition;

/// <summary>
/// The experiment file, validated, as the run engine takes it: typed, in SI units, every string discriminator turned
/// into its enum. The engine never sees the YAML schema, so a change of the file's layout stops here.
/// </summary>
internal static class RunPlans
{
    /// <exception cref="ArgumentException">The config names something the engine does not know (a validated config never does).</exception>
    public static RunPlan From(ExperimentConfig c, RunMode mode)
    {
        var cell = c.Cell;
        var acquisition = c.Acquisition;
        var window = c.Search.EnergyWindows.FirstOrDefault(w => w.Name == acquisition.EnergyWindow) ?? c.Search.EnergyWindows.FirstOrDefault();
        return new RunPlan
        {
            Experiment = c.Experiment.Name,
            Seed = c.Experiment.Seed,
            Mode = mode,
            Cell = new CellLimits(cell.NominalCapacityAh, cell.VoltageMinV, cell.VoltageMaxV, cell.MaxCRate,
                cell.MaxCurrentA ?? cell.MaxCRate * cell.NominalCapacityAh, cell.InitialStateOfCharge),
            SafeState = cell.SafeState switch
            {
                "output_off" => SafeState.OutputOff,
                "open_circuit_rest" => SafeState.OpenCircuitRest,
                var other => throw new ArgumentException($"cell.safe_state '{other}' is not a safe state"),
            },
            Protocol = Protocol(c.Protocol),
            Axes = new AxisRoles(c.Axes.X, c.Axes.Y, c.Axes.Z, c.Axes.Energy),
            Roi = new RoiPlan(c.Search.Roi.XMinMm, c.Search.Roi.XMaxMm, c.Search.Roi.YMinMm, c.Search.Roi.YMaxMm, c.Search.Roi.StepMm),
            Acquisition = new AcquisitionPlan
            {
                Kinds = acquisition.Kind switch
                {
                    "xrd" => AcquisitionKinds.Xrd,
                    "xas" => AcquisitionKinds.Xas,
                    "xrd+xas" => AcquisitionKinds.XrdAndXas,
                    var other => throw new ArgumentException($"acquisition.kind '{other}' is not a kind of acquisition"),
                },
                ExposureS = acquisition.ExposureS,
                XasEvery = acquisition.XasEvery,
                DwellS = acquisition.DwellS,
                EnergyWindow = window is null ? null : new EnergyWindowPlan(window.Name, window.StartEv, window.StopEv, window.StepEv),
                Strategy = Strategy(acquisition.Strategy),
                DoseBudgetS = acquisition.DoseBudgetS,
                UnusableData = new UnusableDataPolicy(acquisition.UnusableFramesPerSpot, acquisition.UnusableFramesInARow,
                    acquisition.UnusableRateWindow, acquisition.UnusableRateMax, acquisition.UnusableOperatorWaitS),
            },
            Beam = new BeamPlan(acquisition.BeamThresholdMa, acquisition.BeamSettleS, acquisition.BeamPollS),
            Budget = new Budget(c.Budget.Frames, c.Budget.BeamTimeS),
            ApprovalWindowS = c.Operator.ApprovalWindowS,
            CRates = c.Search.CRates,
            TemperatureWindowC = cell is { TemperatureMinC: { } tMin, TemperatureMaxC: { } tMax } ? new TemperatureWindow(tMin, tMax, cell.TemperatureSettleS) : null,
        };
    }

    public static RoiStrategy Strategy(string spelling) => spelling switch
    {
        "learner" => RoiStrategy.Learner,
        "raster" => RoiStrategy.Raster,
        "random" => RoiStrategy.Random,
        _ => throw new ArgumentException($"acquisition.strategy '{spelling}' is not a strategy"),
    };

    public static CyclingProtocol Protocol(ProtocolSection section) => new(
        section.Steps.Select(Step).ToList(),
        section.Cycles,
        TimeSpan.FromSeconds(section.SamplePeriodS))
    {
        CRateByCycle = section.CRateByCycle?.ToList() ?? [],
    };

    public static ProtocolStep Step(ProtocolStepConfig s)
    {
        var kind = StepKinds.Parse(s.Type, s.Name);
        if (kind == StepKind.Loop)
            return new ProtocolStep { Name = s.Name, Kind = kind, Repeat = s.Repeat ?? 1, Steps = (s.Steps ?? []).Select(Step).ToList() };
        return new ProtocolStep
        {
            Name = s.Name,
            Kind = kind,
            CRate = s.CRate ?? 0,
            CurrentA = s.CurrentA,
            HoldVoltageV = s.VoltageV ?? 0,
            CutoffVoltageV = s.Until.VoltageV,
            CutoffCurrentA = s.HoldUntilCurrentA ?? s.Until.CurrentA,
            MaxDuration = TimeSpan.FromSeconds(s.Until.DurationS ?? throw new ArgumentException($"protocol step '{s.Name}' has no duration limit")),
            MaxChargeAh = s.Until.ChargeAh,
            DvDtThresholdVPerS = s.DvDtVPerS,
            DvDtWindow = TimeSpan.FromSeconds(s.DvDtWindowS ?? 60),
            PulseDuration = TimeSpan.FromSeconds(s.PulseS ?? 0),
            RestDuration = TimeSpan.FromSeconds(s.RestS ?? 0),
            MaxPulses = s.MaxPulses ?? 0,
            SamplePeriod = s.SamplePeriodS is { } period ? TimeSpan.FromSeconds(period) : null,
        };
    }
}

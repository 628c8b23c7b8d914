using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.Configuration;

/// <summary>
/// The rules a config must keep before anything touches a cell. Paths are the YAML spellings so
/// that the loader can point at the line.
/// </summary>
public static class ConfigValidator
{
    public static readonly string[] StepTypes = ["cc", "cv", "rest"];
    public static readonly string[] Strategies = ["learner", "raster", "random"];
    public static readonly string[] SafeStates = ["output_off", "open_circuit_rest"];


    public static List<ConfigError> Validate(ExperimentConfig c)
    {
        var errors = new List<ConfigError>();
        void Fail(string path, string message) => errors.Add(new ConfigError(path, 0, message));
        void Positive(string path, double value, string what)
        {
            if (!(value > 0) || !double.IsFinite(value)) Fail(path, $"{what} must be a positive number, got {value}");
        }

        if (string.IsNullOrWhiteSpace(c.Experiment.Name)) Fail("experiment.name", "is required");

        var cell = c.Cell;
        if (string.IsNullOrWhiteSpace(cell.Chemistry)) Fail("cell.chemistry", "is required (e.g. LFP/Li)");
        Positive("cell.nominal_capacity_ah", cell.NominalCapacityAh, "the nominal capacity");
        Positive("cell.voltage_max_v", cell.VoltageMaxV, "the upper voltage limit");
        if (cell.VoltageMinV < 0) Fail("cell.voltage_min_v", $"must not be negative, got {cell.VoltageMinV}");
        if (cell.VoltageMaxV <= cell.VoltageMinV)
            Fail("cell.voltage_max_v", $"must be above voltage_min_v ({cell.VoltageMinV} V), got {cell.VoltageMaxV} V");
        Positive("cell.max_c_rate", cell.MaxCRate, "the maximum C-rate");
        if (cell.MaxCurrentA is { } maxI) Positive("cell.max_current_a", maxI, "the maximum current");
        if (cell.InitialStateOfCharge is < 0 or > 1)
            Fail("cell.initial_state_of_charge", $"must be between 0 and 1, got {cell.InitialStateOfCharge}");
        if (!SafeStates.Contains(cell.SafeState))
            Fail("cell.safe_state", $"must be one of {string.Join(", ", SafeStates)}, got '{cell.SafeState}'");

        var p = c.Protocol;
        Positive("protocol.sample_period_s", p.SamplePeriodS, "the sampling period");
        if (p.Cycles < 1) Fail("protocol.cycles", $"must be at least 1, got {p.Cycles}");
        if (p.Steps.Count == 0) Fail("protocol.steps", "needs at least one step");
        for (var i = 0; i < p.Steps.Count; i++) ValidateStep(p.Steps[i], $"protocol.steps[{i}]", cell, Fail);

        var d = c.Devices;
        switch (d.Potentiostat.Transport)
        {
            case "serial":
                if (d.Potentiostat.Baud <= 0) Fail("devices.potentiostat.baud", $"must be positive, got {d.Potentiostat.Baud}");
                break;
            case "tcp":
                if (d.Potentiostat.Port is <= 0 or > 65535) Fail("devices.potentiostat.port", $"must be a TCP port 1-65535, got {d.Potentiostat.Port}");
                break;
            default:
                Fail("devices.potentiostat.transport", $"must be 'serial' or 'tcp', got '{d.Potentiostat.Transport}'");
                break;
        }
        Positive("devices.potentiostat.timeout_s", d.Potentiostat.TimeoutS, "the time-out");
        CheckEndpoint("devices.motion.endpoint", d.Motion.Endpoint, Fail);
        CheckEndpoint("devices.detector.control", d.Detector.Control, Fail);
        CheckEndpoint("devices.detector.data", d.Detector.Data, Fail);
        Positive("devices.motion.timeout_s", d.Motion.TimeoutS, "the time-out");
        Positive("devices.detector.timeout_s", d.Detector.TimeoutS, "the time-out");

        if (string.IsNullOrWhiteSpace(c.Axes.X)) Fail("axes.x", "must name the motion axis for x");
        if (string.IsNullOrWhiteSpace(c.Axes.Y)) Fail("axes.y", "must name the motion axis for y");
        if (c.Axes.X == c.Axes.Y) Fail("axes.y", $"must differ from axes.x ('{c.Axes.X}')");

        var roi = c.Search.Roi;
        if (roi.XMaxMm <= roi.XMinMm) Fail("search.roi.x_max_mm", $"must be above x_min_mm ({roi.XMinMm}), got {roi.XMaxMm}");
        if (roi.YMaxMm <= roi.YMinMm) Fail("search.roi.y_max_mm", $"must be above y_min_mm ({roi.YMinMm}), got {roi.YMaxMm}");
        Positive("search.roi.step_mm", roi.StepMm, "the grid step");
        if (roi.StepMm > 0 && roi.XMaxMm > roi.XMinMm && roi.YMaxMm > roi.YMinMm)
        {
            var points = ((roi.XMaxMm - roi.XMinMm) / roi.StepMm + 1) * ((roi.YMaxMm - roi.YMinMm) / roi.StepMm + 1);
            if (points > 1_000_000) Fail("search.roi.step_mm", $"gives {points:0} grid points; at most 1,000,000 are allowed");
        }
        for (var i = 0; i < c.Search.CRates.Count; i++)
        {
            var rate = c.Search.CRates[i];
            if (!(rate > 0) || rate > cell.MaxCRate)
                Fail($"search.c_rates[{i}]", $"must be above 0 and at most cell.max_c_rate ({cell.MaxCRate}), got {rate}");
        }
        for (var i = 0; i < c.Search.EnergyWindows.Count; i++)
        {
            var w = c.Search.EnergyWindows[i];
            var path = $"search.energy_windows[{i}]";
            if (string.IsNullOrWhiteSpace(w.Name)) Fail($"{path}.name", "is required");
            if (w.StopEv <= w.StartEv) Fail($"{path}.stop_ev", $"must be above start_ev ({w.StartEv}), got {w.StopEv}");
            Positive($"{path}.step_ev", w.StepEv, "the energy step");
        }

        var a = c.Acquisition;
        if (a.Kind != "xrd") Fail("acquisition.kind", $"must be 'xrd', got '{a.Kind}'");
        Positive("acquisition.exposure_s", a.ExposureS, "the exposure");
        if (!Strategies.Contains(a.Strategy))
            Fail("acquisition.strategy", $"must be one of {string.Join(", ", Strategies)}, got '{a.Strategy}'");
        if (a.BeamThresholdMa < 0) Fail("acquisition.beam_threshold_ma", $"must not be negative, got {a.BeamThresholdMa}");
        if (a.BeamSettleS < 0) Fail("acquisition.beam_settle_s", $"must not be negative, got {a.BeamSettleS}");
        Positive("acquisition.beam_poll_s", a.BeamPollS, "the beam polling period");

        var op = c.Operator;
        if (op.Endpoint.Length > 0) CheckEndpoint("operator.endpoint", op.Endpoint, Fail);
        if (op.ApprovalWindowS is < 0 or > 3600 || !double.IsFinite(op.ApprovalWindowS))
            Fail("operator.approval_window_s", $"must be between 0 and 3600 s, got {op.ApprovalWindowS}");

        if (c.Budget.Frames < 1) Fail("budget.frames", $"must be at least 1, got {c.Budget.Frames}");
        Positive("budget.beam_time_s", c.Budget.BeamTimeS, "the beam-time budget");
        if (string.IsNullOrWhiteSpace(c.Output.Directory)) Fail("output.directory", "is required");

        var s = c.Simulation;
        if (s.HeterogeneityBase < 0) Fail("simulation.heterogeneity_base", "must not be negative");
        if (s.HeterogeneityPerCRate < 0) Fail("simulation.heterogeneity_per_c_rate", "must not be negative");
        Positive("simulation.beam_current_ma", s.BeamCurrentMa, "the beam current");
        Positive("simulation.axis_speed_mm_per_s", s.AxisSpeedMmPerS, "the axis speed");
        if (s.FootprintMm < 0) Fail("simulation.footprint_mm", "must not be negative");
        for (var i = 0; i < s.BeamDumps.Count; i++)
        {
            if (s.BeamDumps[i].AtS < 0) Fail($"simulation.beam_dumps[{i}].at_s", $"must not be negative, got {s.BeamDumps[i].AtS}");
            Positive($"simulation.beam_dumps[{i}].duration_s", s.BeamDumps[i].DurationS, "a beam dump's duration");
        }
        for (var i = 0; i < s.Faults.Count; i++)
        {
            var f = s.Faults[i];
            var path = $"simulation.faults[{i}]";
            if (f.AtS < 0) Fail($"{path}.at_s", $"must not be negative, got {f.AtS}");
            if (!SimulatedFaultKinds.ByDevice.TryGetValue(f.Device, out var kinds))
                Fail($"{path}.device", $"must be one of {string.Join(", ", SimulatedFaultKinds.ByDevice.Keys)}, got '{f.Device}'");
            else if (!kinds.Contains(f.Kind))
                Fail($"{path}.kind", $"a {f.Device} fault must be one of {string.Join(", ", kinds)}, got '{f.Kind}'");
            if (f.Count < 1) Fail($"{path}.count", $"must be at least 1, got {f.Count}");
            Positive($"{path}.duration_s", f.DurationS, "the fault's duration");
        }
        return errors;
    }

    private static void ValidateStep(ProtocolStepConfig step, string path, CellSection cell, Action<string, string> fail)
    {
        if (string.IsNullOrWhiteSpace(step.Name)) fail($"{path}.name", "is required");
        var u = step.Until;
        if (u.DurationS is null) fail($"{path}.until.duration_s", "every step needs a time limit, so that no step can run forever");
        else if (!(u.DurationS > 0)) fail($"{path}.until.duration_s", $"must be positive, got {u.DurationS}");
        if (u.ChargeAh is { } q && !(q > 0)) fail($"{path}.until.charge_ah", $"must be positive, got {q}");
        switch (step.Type)
        {
            case "cc":
                if (step.CRate is not { } rate || rate == 0) { fail($"{path}.c_rate", "a cc step needs a non-zero signed C-rate (+ charges)"); break; }
                if (Math.Abs(rate) > cell.MaxCRate) fail($"{path}.c_rate", $"|{rate}| exceeds cell.max_c_rate ({cell.MaxCRate})");
                if (u.VoltageV is not { } cut) { fail($"{path}.until.voltage_v", "a cc step needs a voltage cut-off"); break; }
                if (cut > cell.VoltageMaxV || cut < cell.VoltageMinV)
                    fail($"{path}.until.voltage_v", $"{cut} V is outside the cell window [{cell.VoltageMinV}, {cell.VoltageMaxV}] V");
                break;
            case "cv":
                if (step.VoltageV is not { } v) { fail($"{path}.voltage_v", "a cv step needs the voltage to hold"); break; }
                if (v > cell.VoltageMaxV || v < cell.VoltageMinV)
                    fail($"{path}.voltage_v", $"{v} V is outside the cell window [{cell.VoltageMinV}, {cell.VoltageMaxV}] V");
                if (u.CurrentA is { } i && !(i > 0)) fail($"{path}.until.current_a", $"must be positive, got {i}");
                break;
            case "rest":
                break;
            default:
                fail($"{path}.type", $"must be one of {string.Join(", ", StepTypes)}, got '{step.Type}'");
                break;
        }
    }

    private static void CheckEndpoint(string path, string endpoint, Action<string, string> fail)
    {
        if (!endpoint.StartsWith("tcp://", StringComparison.Ordinal) || endpoint.LastIndexOf(':') <= "tcp://".Length)
            fail(path, $"must be a ZeroMQ TCP endpoint like tcp://127.0.0.1:5555, got '{endpoint}'");
    }
}

namespace AutonomousBeamline.Configuration;

/// <summary>
/// The rules a config must keep before anything touches a cell. Paths are the YAML spellings so
/// that the loader can point at the line.
/// </summary>
public static class ConfigValidator
{
    public static readonly string[] StepTypes = ["cc", "cv", "cccv", "rest", "gitt", "loop"];
    public static readonly string[] Strategies = ["learner", "raster", "random"];
    public static readonly string[] AcquisitionKinds = ["xrd", "xas", "xrd+xas"];
    public static readonly string[] SafeStates = ["output_off", "open_circuit_rest"];

    /// <param name="faultKinds">
    /// The faults each device's simulator can commit, for <c>simulation.faults</c>. The vocabulary belongs to the
    /// simulators, which this project does not see: a caller that runs them passes their table and a fault naming an
    /// unknown device or kind is refused here, with its line. Without one (a caller that never injects faults) only
    /// the times, counts and durations of the faults are checked.
    /// </param>
    public static List<ConfigError> Validate(ExperimentConfig c, IReadOnlyDictionary<string, string[]>? faultKinds = null)
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
        if (cell.TemperatureMinC is null != cell.TemperatureMaxC is null)
            Fail(cell.TemperatureMinC is null ? "cell.temperature_min_c" : "cell.temperature_max_c", "give both ends of the temperature window, or neither");
        else if (cell.TemperatureMinC is { } tMin && cell.TemperatureMaxC is { } tMax && !(tMin < tMax && tMin >= -50 && tMax <= 150))
            Fail("cell.temperature_max_c", $"the temperature window must have min < max inside [-50, 150] °C, got [{tMin}, {tMax}]");
        if (cell.TemperatureSettleS is < 0 or > 86400) Fail("cell.temperature_settle_s", $"must be 0 to 86400 s, got {cell.TemperatureSettleS}");

        var p = c.Protocol;
        Positive("protocol.sample_period_s", p.SamplePeriodS, "the sampling period");
        if (p.Cycles < 1) Fail("protocol.cycles", $"must be at least 1, got {p.Cycles}");
        if (p.Steps.Count == 0) Fail("protocol.steps", "needs at least one step");
        for (var i = 0; i < p.Steps.Count; i++) ValidateStep(p.Steps[i], $"protocol.steps[{i}]", cell, Fail, 0);
        ValidateProtocolSize(p, Fail);
        ValidateCRateByCycle(p, cell, Fail);

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
        if (d.Potentiostat.ReconnectS is < 0 or > 3600) Fail("devices.potentiostat.reconnect_s", $"must be 0 to 3600 s, got {d.Potentiostat.ReconnectS}");
        Positive("devices.motion.timeout_s", d.Motion.TimeoutS, "the time-out");
        Positive("devices.detector.timeout_s", d.Detector.TimeoutS, "the time-out");
        if (c.Simulation.Profile is not ("native" or "foreign"))
            Fail("simulation.profile", $"must be native or foreign, got '{c.Simulation.Profile}'");
        if (d.Detector.MaxFramePoints is < 16 or > 16 * 1024 * 1024)
            Fail("devices.detector.max_frame_points", $"must be 16 to {16 * 1024 * 1024} points, got {d.Detector.MaxFramePoints}");

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
        if (!AcquisitionKinds.Contains(a.Kind)) Fail("acquisition.kind", $"must be one of {string.Join(", ", AcquisitionKinds)}, got '{a.Kind}'");
        if (a.Kind.Contains("xas"))
        {
            if (c.Search.EnergyWindows.Count == 0) Fail("search.energy_windows", $"acquisition.kind '{a.Kind}' needs at least one energy window");
            else if (a.EnergyWindow is { } name && c.Search.EnergyWindows.All(w => w.Name != name))
                Fail("acquisition.energy_window", $"no energy window is named '{name}'; there are {string.Join(", ", c.Search.EnergyWindows.Select(w => w.Name))}");
            Positive("acquisition.dwell_s", a.DwellS, "the dwell per energy point");
            if (a.XasEvery < 1) Fail("acquisition.xas_every", $"must be at least 1, got {a.XasEvery}");
        }
        Positive("acquisition.exposure_s", a.ExposureS, "the exposure");
        if (!Strategies.Contains(a.Strategy))
            Fail("acquisition.strategy", $"must be one of {string.Join(", ", Strategies)}, got '{a.Strategy}'");
        if (a.BeamThresholdMa < 0) Fail("acquisition.beam_threshold_ma", $"must not be negative, got {a.BeamThresholdMa}");
        if (a.DoseBudgetS is { } dose && !(dose >= a.ExposureS))
            Fail("acquisition.dose_budget_s", $"must allow at least one exposure ({a.ExposureS} s), got {dose}");
        if (a.BeamSettleS < 0) Fail("acquisition.beam_settle_s", $"must not be negative, got {a.BeamSettleS}");
        Positive("acquisition.beam_poll_s", a.BeamPollS, "the beam polling period");
        if (a.UnusableFramesInARow < 1) Fail("acquisition.unusable_frames_in_a_row", $"must be at least 1, got {a.UnusableFramesInARow}");
        if (a.UnusableFramesPerSpot < 1) Fail("acquisition.unusable_frames_per_spot", $"must be at least 1, got {a.UnusableFramesPerSpot}");
        if (a.UnusableRateWindow < 1) Fail("acquisition.unusable_rate_window", $"must be at least 1 frame, got {a.UnusableRateWindow}");
        if (!(a.UnusableRateMax is > 0 and <= 1)) Fail("acquisition.unusable_rate_max", Inv($"must be a share in (0, 1], got {a.UnusableRateMax}"));
        if (!(a.UnusableOperatorWaitS is > 0 and <= 7 * 86_400))
            Fail("acquisition.unusable_operator_wait_s", Inv($"must be more than 0 and at most a week (604800 s), got {a.UnusableOperatorWaitS}"));

        var op = c.Operator;
        if (op.ApprovalWindowS is < 0 or > 3600 || !double.IsFinite(op.ApprovalWindowS))
            Fail("operator.approval_window_s", $"must be between 0 and 3600 s, got {op.ApprovalWindowS}");

        if (c.Budget.Frames < 1) Fail("budget.frames", $"must be at least 1, got {c.Budget.Frames}");
        Positive("budget.beam_time_s", c.Budget.BeamTimeS, "the beam-time budget");
        if (string.IsNullOrWhiteSpace(c.Output.Directory)) Fail("output.directory", "is required");
        if (c.Output.Hdf5BlockFrames is < 1 or > 100_000) Fail("output.hdf5_block_frames", $"must be 1 to 100000, got {c.Output.Hdf5BlockFrames}");

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
            if (faultKinds is not null)
            {
                if (!faultKinds.TryGetValue(f.Device, out var kinds))
                    Fail($"{path}.device", $"must be one of {string.Join(", ", faultKinds.Keys)}, got '{f.Device}'");
                else if (!kinds.Contains(f.Kind))
                    Fail($"{path}.kind", $"a {f.Device} fault must be one of {string.Join(", ", kinds)}, got '{f.Kind}'");
            }
            if (f.Count < 1) Fail($"{path}.count", $"must be at least 1, got {f.Count}");
            Positive($"{path}.duration_s", f.DurationS, "the fault's duration");
        }
        if (d.Potentiostat.Transport == "tcp" && string.IsNullOrWhiteSpace(d.Potentiostat.Host))
            Fail("devices.potentiostat.host", "a tcp potentiostat needs its host");

        // The rules of their own, one line each; new sections add theirs here.
        EndpointRules.Check(c, Fail);
        RangeRules.Check(c, Fail);
        TextRules.Check(c, Fail);
        ScienceValidator.Validate(c, Fail);
        // One problem per field: the first rule that fails says it best.
        return errors.DistinctBy(e => e.Path).ToList();
    }

    /// <summary>Loops may nest, but not without end: deeper than this is a mistake, not a protocol.</summary>
    public const int MaxLoopDepth = 4;

    /// <summary>The most step runs a protocol may unroll to (cycles × loop repeats × steps).</summary>
    public const long MaxScheduledSteps = 100_000;

    private static void ValidateStep(ProtocolStepConfig step, string path, CellSection cell, Action<string, string> fail, int depth)
    {
        if (string.IsNullOrWhiteSpace(step.Name)) fail($"{path}.name", "is required");
        var u = step.Until;
        var type = step.Type;
        void NotUsed(string field, bool present)
        {
            if (present) fail($"{path}.{field}", Inv($"is not used by a {type} step"));
        }
        void PositiveIfGiven(string field, double? value)
        {
            if (value is { } v && (!(v > 0) || !double.IsFinite(v))) fail($"{path}.{field}", Inv($"must be a positive number, got {v}"));
        }
        void InWindow(string field, double v)
        {
            if (v > cell.VoltageMaxV || v < cell.VoltageMinV)
                fail($"{path}.{field}", Inv($"{v} V is outside the cell window [{cell.VoltageMinV}, {cell.VoltageMaxV}] V"));
        }
        var maxCurrentA = Math.Min(cell.MaxCurrentA ?? double.PositiveInfinity, cell.MaxCRate * cell.NominalCapacityAh);
        // The signed source current of a cc, cccv or gitt step; null when missing or refused.
        double? SourceCurrent()
        {
            if (step.CRate is not null && step.CurrentA is not null)
            {
                fail($"{path}.current_a", "give either c_rate or current_a, not both");
                return null;
            }
            if (step.CurrentA is { } current)
            {
                if (current == 0 || !double.IsFinite(current)) { fail($"{path}.current_a", Inv($"must be a non-zero signed current (+ charges), got {current}")); return null; }
                if (Math.Abs(current) > maxCurrentA) { fail($"{path}.current_a", Inv($"|{current}| A exceeds the cell's maximum current ({maxCurrentA} A)")); return null; }
                return current;
            }
            if (step.CRate is not { } rate || rate == 0 || !double.IsFinite(rate))
            {
                fail($"{path}.c_rate", Inv($"a {type} step needs a non-zero signed C-rate (+ charges) or current_a"));
                return null;
            }
            if (Math.Abs(rate) > cell.MaxCRate) { fail($"{path}.c_rate", Inv($"|{rate}| exceeds cell.max_c_rate ({cell.MaxCRate})")); return null; }
            if (Math.Abs(rate) * cell.NominalCapacityAh > maxCurrentA)
            {
                fail($"{path}.c_rate", Inv($"|{rate}| C is {Math.Abs(rate) * cell.NominalCapacityAh} A, above cell.max_current_a ({maxCurrentA} A)"));
                return null;
            }
            return rate * cell.NominalCapacityAh;
        }

        if (type == "loop")
        {
            if (step.Repeat is not { } repeat) fail($"{path}.repeat", "a loop needs repeat, the number of times its steps run");
            else if (repeat < 1) fail($"{path}.repeat", Inv($"must be at least 1, got {repeat}"));
            if (step.Steps is not { Count: > 0 }) fail($"{path}.steps", "a loop needs at least one step");
            if (depth + 1 > MaxLoopDepth) fail($"{path}.steps", Inv($"loops nest deeper than {MaxLoopDepth}"));
            else
                for (var j = 0; j < (step.Steps?.Count ?? 0); j++) ValidateStep(step.Steps![j], $"{path}.steps[{j}]", cell, fail, depth + 1);
            NotUsed("c_rate", step.CRate is not null);
            NotUsed("current_a", step.CurrentA is not null);
            NotUsed("voltage_v", step.VoltageV is not null);
            NotUsed("hold_until_current_a", step.HoldUntilCurrentA is not null);
            NotUsed("dv_dt_v_per_s", step.DvDtVPerS is not null);
            NotUsed("dv_dt_window_s", step.DvDtWindowS is not null);
            NotUsed("pulse_s", step.PulseS is not null);
            NotUsed("rest_s", step.RestS is not null);
            NotUsed("max_pulses", step.MaxPulses is not null);
            NotUsed("sample_period_s", step.SamplePeriodS is not null);
            if (u.VoltageV is not null || u.CurrentA is not null || u.DurationS is not null || u.ChargeAh is not null)
                fail($"{path}.until", "a loop ends after repeat passes; put the limits on its steps");
            return;
        }

        if (u.DurationS is null) fail($"{path}.until.duration_s", "every step needs a time limit, so that no step can run forever");
        else if (!(u.DurationS > 0) || !double.IsFinite(u.DurationS.Value)) fail($"{path}.until.duration_s", Inv($"must be positive, got {u.DurationS}"));
        PositiveIfGiven("until.charge_ah", u.ChargeAh);
        PositiveIfGiven("sample_period_s", step.SamplePeriodS);
        NotUsed("repeat", step.Repeat is not null);
        NotUsed("steps", step.Steps is not null);
        if (type != "cv" && type != "cccv") NotUsed("hold_until_current_a", step.HoldUntilCurrentA is not null);
        if (type != "cv") NotUsed("until.current_a", u.CurrentA is not null);
        if (type != "rest")
        {
            NotUsed("dv_dt_v_per_s", step.DvDtVPerS is not null);
            NotUsed("dv_dt_window_s", step.DvDtWindowS is not null);
        }
        if (type != "gitt")
        {
            NotUsed("pulse_s", step.PulseS is not null);
            NotUsed("rest_s", step.RestS is not null);
            NotUsed("max_pulses", step.MaxPulses is not null);
        }

        switch (type)
        {
            case "cc":
            {
                SourceCurrent();
                NotUsed("voltage_v", step.VoltageV is not null);
                if (u.VoltageV is not { } cut) { fail($"{path}.until.voltage_v", "a cc step needs a voltage cut-off"); break; }
                InWindow("until.voltage_v", cut);
                break;
            }
            case "cv":
            {
                NotUsed("c_rate", step.CRate is not null);
                NotUsed("current_a", step.CurrentA is not null);
                NotUsed("until.voltage_v", u.VoltageV is not null);
                if (step.VoltageV is not { } v) fail($"{path}.voltage_v", "a cv step needs the voltage to hold");
                else InWindow("voltage_v", v);
                if (step.HoldUntilCurrentA is not null && u.CurrentA is not null)
                    fail($"{path}.hold_until_current_a", "give either hold_until_current_a or until.current_a, not both");
                PositiveIfGiven("hold_until_current_a", step.HoldUntilCurrentA);
                PositiveIfGiven("until.current_a", u.CurrentA);
                break;
            }
            case "cccv":
            {
                var current = SourceCurrent();
                NotUsed("until.voltage_v", u.VoltageV is not null);
                if (step.VoltageV is not { } v) fail($"{path}.voltage_v", "a cccv step needs the voltage to reach and then hold");
                else InWindow("voltage_v", v);
                if (step.HoldUntilCurrentA is not { } hold)
                    fail($"{path}.hold_until_current_a", "a cccv step needs the current below which its hold ends");
                else if (!(hold > 0) || !double.IsFinite(hold)) fail($"{path}.hold_until_current_a", Inv($"must be a positive number, got {hold}"));
                else if (current is { } i && hold >= Math.Abs(i))
                    fail($"{path}.hold_until_current_a", Inv($"{hold} A is not below the constant current ({Math.Abs(i)} A), so the hold would end at once"));
                break;
            }
            case "rest":
            {
                NotUsed("c_rate", step.CRate is not null);
                NotUsed("current_a", step.CurrentA is not null);
                NotUsed("voltage_v", step.VoltageV is not null);
                NotUsed("until.voltage_v", u.VoltageV is not null);
                NotUsed("until.charge_ah", u.ChargeAh is not null);
                PositiveIfGiven("dv_dt_v_per_s", step.DvDtVPerS);
                PositiveIfGiven("dv_dt_window_s", step.DvDtWindowS);
                if (step.DvDtWindowS is not null && step.DvDtVPerS is null)
                    fail($"{path}.dv_dt_window_s", "is only used with dv_dt_v_per_s");
                break;
            }
            case "gitt":
            {
                SourceCurrent();
                NotUsed("voltage_v", step.VoltageV is not null);
                if (step.PulseS is null) fail($"{path}.pulse_s", "a gitt step needs the pulse length");
                else PositiveIfGiven("pulse_s", step.PulseS);
                if (step.RestS is null) fail($"{path}.rest_s", "a gitt step needs the rest after each pulse");
                else PositiveIfGiven("rest_s", step.RestS);
                if (step.MaxPulses is not { } pulses) fail($"{path}.max_pulses", "a gitt step needs the most pulses to give");
                else if (pulses < 1) fail($"{path}.max_pulses", Inv($"must be at least 1, got {pulses}"));
                if (u.VoltageV is not { } limit) fail($"{path}.until.voltage_v", "a gitt step needs the voltage limit that ends the titration");
                else InWindow("until.voltage_v", limit);
                break;
            }
            default:
                fail($"{path}.type", $"must be one of {string.Join(", ", StepTypes)}, got '{step.Type}'");
                break;
        }
    }

    private static void ValidateProtocolSize(ProtocolSection p, Action<string, string> fail)
    {
        static long Count(IEnumerable<ProtocolStepConfig> steps, int depth) =>
            depth > MaxLoopDepth ? 0 : steps.Sum(s => s.Type == "loop"
                ? Math.Min(MaxScheduledSteps + 1, (long)Math.Max(0, s.Repeat ?? 0) * Count(s.Steps ?? [], depth + 1))
                : 1L);
        var total = Math.Min(MaxScheduledSteps + 1, Count(p.Steps, 0) * (long)Math.Max(0, p.Cycles));
        if (total > MaxScheduledSteps)
            fail("protocol.cycles", Inv($"cycles and loop repeats unroll to more than {MaxScheduledSteps:N0} step runs"));
    }

    private static void ValidateCRateByCycle(ProtocolSection p, CellSection cell, Action<string, string> fail)
    {
        if (p.CRateByCycle is not { } rates) return;
        if (rates.Count == 0) fail("protocol.c_rate_by_cycle", "is empty; leave it out to use the steps' own rates");
        if (rates.Count > p.Cycles)
            fail("protocol.c_rate_by_cycle", Inv($"has {rates.Count} entries but the protocol runs {p.Cycles} cycle(s)"));
        var maxCurrentA = Math.Min(cell.MaxCurrentA ?? double.PositiveInfinity, cell.MaxCRate * cell.NominalCapacityAh);
        for (var i = 0; i < rates.Count; i++)
        {
            var rate = rates[i];
            if (!(rate > 0) || !double.IsFinite(rate) || rate > cell.MaxCRate)
                fail($"protocol.c_rate_by_cycle[{i}]", Inv($"must be a magnitude above 0 and at most cell.max_c_rate ({cell.MaxCRate}), got {rate}"));
            else if (rate * cell.NominalCapacityAh > maxCurrentA)
                fail($"protocol.c_rate_by_cycle[{i}]", Inv($"{rate} C is {rate * cell.NominalCapacityAh} A, above cell.max_current_a ({maxCurrentA} A)"));
        }
        static bool HasAdjustable(IEnumerable<ProtocolStepConfig> steps) =>
            steps.Any(s => s.Type is "cc" or "cccv" || (s.Type == "loop" && HasAdjustable(s.Steps ?? [])));
        if (!HasAdjustable(p.Steps))
            fail("protocol.c_rate_by_cycle", "applies to cc and cccv steps, and the protocol has none");
    }

    /// <summary>Numbers in messages read the same on every machine.</summary>
    private static string Inv(FormattableString text) => text.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

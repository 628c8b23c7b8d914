using System.Globalization;

namespace AutonomousBeamline.Configuration;

/// <summary>
/// Every number inside a range a real experiment could use. The binder has already refused .nan and .inf; these bounds
/// refuse what would pass as a number and still break a run: a step of 1e-300 eV (a scan of 10^302 points), a time-out
/// of 1e308 s, -1 retries. The bounds are generous on purpose: they catch mistakes, not unusual experiments.
/// </summary>
internal static class RangeRules
{
    /// <summary>The longest any one protocol step, suspension or dump may last (about 116 days).</summary>
    public const double MaxDurationS = 1e7;

    /// <summary>The most points one absorption scan may have.</summary>
    public const double MaxScanPoints = 100_000;

    public static void Check(ExperimentConfig c, Action<string, string> fail)
    {
        void Range(string path, double value, double min, double max, string unit = "", bool minExclusive = false)
        {
            var ok = double.IsFinite(value) && (minExclusive ? value > min : value >= min) && value <= max;
            if (!ok) fail(path, Inv($"must be {(minExclusive ? "above" : "from")} {min} {(minExclusive ? "and at most" : "to")} {max}{(unit.Length > 0 ? " " + unit : "")}, got {value}"));
        }
        void Optional(string path, double? value, double min, double max, string unit = "", bool minExclusive = false)
        {
            if (value is { } v) Range(path, v, min, max, unit, minExclusive);
        }

        var cell = c.Cell;
        Range("cell.nominal_capacity_ah", cell.NominalCapacityAh, 0, 1000, "A·h", minExclusive: true);
        Range("cell.voltage_min_v", cell.VoltageMinV, 0, 10, "V");
        Range("cell.voltage_max_v", cell.VoltageMaxV, 0, 10, "V", minExclusive: true);
        Range("cell.max_c_rate", cell.MaxCRate, 0, 100, "C", minExclusive: true);
        Optional("cell.max_current_a", cell.MaxCurrentA, 0, 1000, "A", minExclusive: true);

        var p = c.Protocol;
        Range("protocol.sample_period_s", p.SamplePeriodS, 0.01, 3600, "s");
        Range("protocol.cycles", p.Cycles, 1, 10_000);
        for (var i = 0; i < p.Steps.Count; i++) Step(p.Steps[i], $"protocol.steps[{i}]", 0);

        var d = c.Devices;
        Range("devices.potentiostat.baud", d.Potentiostat.Baud, 50, 10_000_000);
        Range("devices.potentiostat.timeout_s", d.Potentiostat.TimeoutS, 0, 600, "s", minExclusive: true);
        Range("devices.motion.timeout_s", d.Motion.TimeoutS, 0, 600, "s", minExclusive: true);
        Range("devices.motion.retries", d.Motion.Retries, 0, 100);
        Range("devices.detector.timeout_s", d.Detector.TimeoutS, 0, 600, "s", minExclusive: true);
        Range("devices.detector.retries", d.Detector.Retries, 0, 100);

        var roi = c.Search.Roi;
        Range("search.roi.x_min_mm", roi.XMinMm, -10_000, 10_000, "mm");
        Range("search.roi.x_max_mm", roi.XMaxMm, -10_000, 10_000, "mm");
        Range("search.roi.y_min_mm", roi.YMinMm, -10_000, 10_000, "mm");
        Range("search.roi.y_max_mm", roi.YMaxMm, -10_000, 10_000, "mm");
        Range("search.roi.step_mm", roi.StepMm, 0.001, 10_000, "mm");
        for (var i = 0; i < c.Search.EnergyWindows.Count; i++)
        {
            var w = c.Search.EnergyWindows[i];
            var path = $"search.energy_windows[{i}]";
            Range($"{path}.start_ev", w.StartEv, 0, 1e6, "eV", minExclusive: true);
            Range($"{path}.stop_ev", w.StopEv, 0, 1e6, "eV", minExclusive: true);
            Range($"{path}.step_ev", w.StepEv, 0.001, 1e5, "eV");
            if (w.StepEv >= 0.001 && w.StopEv > w.StartEv && (w.StopEv - w.StartEv) / w.StepEv > MaxScanPoints)
                fail($"{path}.step_ev", Inv($"gives {(w.StopEv - w.StartEv) / w.StepEv:0} energy points; a scan may have at most {MaxScanPoints}"));
        }

        var a = c.Acquisition;
        Range("acquisition.exposure_s", a.ExposureS, 0, 3600, "s", minExclusive: true);
        Range("acquisition.dwell_s", a.DwellS, 0, 3600, "s", minExclusive: true);
        Range("acquisition.xas_every", a.XasEvery, 1, 1_000_000);
        Optional("acquisition.dose_budget_s", a.DoseBudgetS, 0, MaxDurationS, "s", minExclusive: true);
        Range("acquisition.beam_threshold_ma", a.BeamThresholdMa, 0, 10_000, "mA");
        Range("acquisition.beam_settle_s", a.BeamSettleS, 0, 86_400, "s");
        Range("acquisition.beam_poll_s", a.BeamPollS, 0.01, 3600, "s");
        Range("acquisition.unusable_frames_in_a_row", a.UnusableFramesInARow, 1, 1_000_000);

        Range("budget.frames", c.Budget.Frames, 1, 10_000_000);
        Range("budget.beam_time_s", c.Budget.BeamTimeS, 0, 1e8, "s", minExclusive: true);

        var s = c.Simulation;
        Range("simulation.heterogeneity_base", s.HeterogeneityBase, 0, 10);
        Range("simulation.heterogeneity_per_c_rate", s.HeterogeneityPerCRate, 0, 10);
        Range("simulation.beam_current_ma", s.BeamCurrentMa, 0, 10_000, "mA", minExclusive: true);
        Range("simulation.footprint_mm", s.FootprintMm, 0, 100, "mm");
        Range("simulation.axis_speed_mm_per_s", s.AxisSpeedMmPerS, 0, 1000, "mm/s", minExclusive: true);
        for (var i = 0; i < s.BeamDumps.Count; i++)
        {
            Range($"simulation.beam_dumps[{i}].at_s", s.BeamDumps[i].AtS, 0, 1e8, "s");
            Range($"simulation.beam_dumps[{i}].duration_s", s.BeamDumps[i].DurationS, 0, MaxDurationS, "s", minExclusive: true);
        }
        for (var i = 0; i < s.Faults.Count; i++)
        {
            Range($"simulation.faults[{i}].at_s", s.Faults[i].AtS, 0, 1e8, "s");
            Range($"simulation.faults[{i}].count", s.Faults[i].Count, 1, 1_000_000);
            Range($"simulation.faults[{i}].duration_s", s.Faults[i].DurationS, 0, MaxDurationS, "s", minExclusive: true);
        }

        void Step(ProtocolStepConfig step, string path, int depth)
        {
            Optional($"{path}.until.duration_s", step.Until.DurationS, 0, MaxDurationS, "s", minExclusive: true);
            Optional($"{path}.until.charge_ah", step.Until.ChargeAh, 0, 1000, "A·h", minExclusive: true);
            Optional($"{path}.sample_period_s", step.SamplePeriodS, 0.01, 3600, "s");
            Optional($"{path}.pulse_s", step.PulseS, 0, MaxDurationS, "s", minExclusive: true);
            Optional($"{path}.rest_s", step.RestS, 0, MaxDurationS, "s", minExclusive: true);
            Optional($"{path}.max_pulses", step.MaxPulses, 1, 100_000);
            Optional($"{path}.repeat", step.Repeat, 1, 10_000);
            Optional($"{path}.dv_dt_window_s", step.DvDtWindowS, 0, 86_400, "s", minExclusive: true);
            Optional($"{path}.dv_dt_v_per_s", step.DvDtVPerS, 0, 1, "V/s", minExclusive: true);
            Optional($"{path}.hold_until_current_a", step.HoldUntilCurrentA, 0, 1000, "A", minExclusive: true);
            Optional($"{path}.until.current_a", step.Until.CurrentA, 0, 1000, "A", minExclusive: true);
            if (depth < ConfigValidator.MaxLoopDepth)
                for (var j = 0; j < (step.Steps?.Count ?? 0); j++) Step(step.Steps![j], $"{path}.steps[{j}]", depth + 1);
        }
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

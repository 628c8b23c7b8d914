using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Control.Engine;

/// <summary>The equipment and the config disagree, or the cell is not fit to start.</summary>
public sealed class PreflightException(string message) : Exception("preflight: " + message);

/// <summary>What preflight learned about the equipment, for the planners and the first decision.</summary>
public sealed record PreflightReport(MotionDescription Motion, DetectorDescription Detector, MotionStatus Status);

/// <summary>
/// The checklist before anything moves or any current flows: every device identified, the potentiostat reset and its
/// output proven off, the cell's open-circuit voltage inside its window, the ROI inside the axes' limits, a shutter,
/// the detector offering the kinds the run takes. Anything wrong stops the run here with a reason that names it.
/// </summary>
/// <param name="references">Takes a first frame and checks the configured references explain it; null skips the check.</param>
public sealed class Preflight(RunPlan plan, RunDevices devices, IRunJournal journal, Action<string> report, ReferenceFramePreflight? references = null)
{
    /// <summary>
    /// After a crash, before anything else: what is the cell doing now? The output may still be on (the instrument kept
    /// its last setting while no one was watching); it is turned off, and the voltage must be in the window.
    /// </summary>
    public async Task CheckCellAfterCrashAsync(DateTimeOffset journalEndedAt, int observations, CancellationToken ct)
    {
        var outputOn = await devices.Potentiostat.GetOutputAsync(ct).ConfigureAwait(false);
        var voltage = await devices.Potentiostat.MeasureVoltageAsync(ct).ConfigureAwait(false);
        journal.Write(new ResumeCheck(outputOn, voltage, journalEndedAt, observations));
        if (outputOn) await devices.Potentiostat.EnterSafeStateAsync(ct).ConfigureAwait(false);
        if (!InWindow(voltage))
            throw new PreflightException(Inv($"on resume the cell reads {voltage:0.000} V, outside its window [{plan.Cell.VoltageMinV}, {plan.Cell.VoltageMaxV}] V"));
    }

    public async Task<PreflightReport> RunAsync(CancellationToken ct)
    {
        var checks = new List<PreflightCheck>();
        void Check(string item, string result)
        {
            checks.Add(new PreflightCheck(item, result));
            report($"preflight: {item}: {result}");
        }

        var potentiostat = devices.Potentiostat;
        Check("potentiostat", (await potentiostat.IdentifyAsync(ct).ConfigureAwait(false)).ToString());
        await potentiostat.ResetAsync(ct).ConfigureAwait(false);
        if (await potentiostat.GetOutputAsync(ct).ConfigureAwait(false))
            throw new PreflightException("the potentiostat output is still on after *RST");
        var voltage = await potentiostat.MeasureVoltageAsync(ct).ConfigureAwait(false);
        var window = Inv($"[{plan.Cell.VoltageMinV}, {plan.Cell.VoltageMaxV}] V");
        if (!InWindow(voltage)) throw new PreflightException(Inv($"the cell reads {voltage:0.000} V at open circuit, outside its window {window}"));
        Check("cell open-circuit voltage", Inv($"{voltage:0.000} V, inside {window}"));

        var motion = await devices.Motion.DescribeAsync(ct).ConfigureAwait(false);
        var roi = plan.Roi;
        foreach (var (role, name, lo, hi) in new[] { ("x", plan.Axes.X, roi.XMinMm, roi.XMaxMm), ("y", plan.Axes.Y, roi.YMinMm, roi.YMaxMm) })
        {
            var axis = motion.Axes.FirstOrDefault(a => a.Name == name)
                       ?? throw new PreflightException($"the motion server has no axis '{name}' (configured as axes.{role}); it offers {string.Join(", ", motion.Axes.Select(a => a.Name))}");
            if (lo < axis.Min || hi > axis.Max)
                throw new PreflightException(Inv($"the ROI's {role} range [{lo}, {hi}] mm is outside axis '{name}' limits [{axis.Min}, {axis.Max}]"));
            Check($"axis {name}", Inv($"limits [{axis.Min}, {axis.Max}] {axis.Unit} cover the ROI, speed {axis.Speed} {axis.Unit}/s"));
        }
        if (!motion.HasShutter) throw new PreflightException("the motion server reports no experimental shutter; frames could not be taken safely");
        var status = await devices.Motion.GetStatusAsync(ct).ConfigureAwait(false);
        if (status.State == MotionState.Fault) throw new PreflightException("the motion server reports a fault");
        Check("beam", Inv($"{status.BeamCurrentMa:0.0} mA (threshold {plan.Beam.ThresholdMa} mA)"));

        var detector = await devices.Detector.DescribeAsync(ct).ConfigureAwait(false);
        foreach (var kind in Kinds(plan.Acquisition))
            if (!detector.Kinds.Contains(kind.Name()))
                throw new PreflightException($"the detector offers {string.Join(", ", detector.Kinds)}, not '{kind.Name()}', which this run takes");
        Check("detector", $"kinds {string.Join(", ", detector.Kinds)}" + (detector.Xrd is { } x ? Inv($"; xrd {x.N} points of {x.Name} from {x.Start} {x.Unit}") : ""));
        if (devices.Disk is { } disk) Check("disk", RoomForTheRun(disk, detector));
        if (devices.Temperature is { } thermometer && plan.TemperatureWindowC is { } kept)
        {
            double temperature;
            try { temperature = await thermometer.MeasureTemperatureAsync(ct).ConfigureAwait(false); }
            catch (DeviceException e)
            {
                throw new PreflightException($"the cell has a temperature window but its temperature cannot be read ({e.Message})");
            }
            if (temperature < kept.MinC || temperature > kept.MaxC)
                throw new PreflightException(Inv($"the cell is at {temperature:0.0} °C, outside its window [{kept.MinC}, {kept.MaxC}] °C"));
            Check("cell temperature", Inv($"{temperature:0.0} °C, inside [{kept.MinC}, {kept.MaxC}] °C"));
        }
        if (references is not null)
            foreach (var (item, result) in await references.RunAsync(status, ct).ConfigureAwait(false)) Check(item, result);
        await devices.Motion.SetShutterAsync(false, ct).ConfigureAwait(false);
        Check("shutter", "closed");
        journal.Write(new PreflightCompleted(checks));
        return new PreflightReport(motion, detector, status);
    }

    /// <summary>Room on the run folder's disk for every frame of the budget and the journal, plus the reserve.</summary>
    private string RoomForTheRun(Suspenders.IFreeSpace disk, DetectorDescription detector)
    {
        var needed = Suspenders.DiskRoom.Estimate(plan, detector);
        long free;
        try { free = disk.AvailableBytes(); }
        catch (IOException e) { throw new PreflightException($"the free space of {disk.Where} cannot be read ({e.Message})"); }
        var need = $"the run needs about {Suspenders.DiskRoom.Megabytes(needed)} ({plan.Budget.Frames} frames with the journal, and a reserve of {Suspenders.DiskRoom.Megabytes(Suspenders.DiskRoom.ReserveBytes)})";
        if (free < needed) throw new PreflightException($"{disk.Where} has {Suspenders.DiskRoom.Megabytes(free)} free; {need}");
        return $"{Suspenders.DiskRoom.Megabytes(free)} free at {disk.Where}; {need}";
    }

    private bool InWindow(double voltage) => voltage >= plan.Cell.VoltageMinV && voltage <= plan.Cell.VoltageMaxV;

    private static IEnumerable<FrameKind> Kinds(AcquisitionPlan acquisition)
    {
        if (acquisition.TakesXrd) yield return FrameKind.Xrd;
        if (acquisition.TakesXas) yield return FrameKind.Xas;
    }

    private static string Inv(FormattableString text) => FormattableString.Invariant(text);
}

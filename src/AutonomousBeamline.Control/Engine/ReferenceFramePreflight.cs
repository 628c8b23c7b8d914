using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Features;

namespace AutonomousBeamline.Control.Engine;

/// <summary>
/// Preflight's science check, before the cell is touched: one short frame of each kind the run takes (at most 2 s, 0.05 s per
/// energy point), at the first spot (the ROI's
/// centre), must be explained by the configured references at the configured X-ray energy on the detector's axis. If it is
/// not, the run stops with the likely cause (the X-ray energy, the axis, the references, the edge or the energy window).
/// The shutter is open only for the frames. With the beam below its threshold the check cannot be made and says so.
/// Every frame taken is stored (as a preflight frame, never an observation) and its verdict journalled before a failed
/// check stops the run: that frame is what a user diagnoses the mismatch with.
/// </summary>
/// <param name="checkedBefore">The kinds a resumed run's journal shows were already checked conclusively: not taken again
/// (the run folder has their frames, and the cell has been cycled since).</param>
public sealed class ReferenceFramePreflight(RunPlan plan, RunDevices devices, IReferenceCheck check, IFrameStore frames, IRunJournal journal,
    IReadOnlySet<FrameKind>? checkedBefore = null)
{
    // Peak positions and an edge need far less than a measurement's counting time; the check costs little beam and dose.
    private const double MaximumExposureS = 2, MaximumDwellS = 0.05;

    public async Task<IReadOnlyList<(string Item, string Result)>> RunAsync(MotionStatus status, CancellationToken ct)
    {
        var results = new List<(string, string)>();
        var kinds = new List<FrameKind>();
        foreach (var kind in new[] { FrameKind.Xrd, FrameKind.Xas }.Where(Takes))
        {
            if (checkedBefore?.Contains(kind) == true) results.Add(($"references ({kind.Name()})", "checked when the run began; not taken again on resume"));
            else kinds.Add(kind);
        }
        if (kinds.Count == 0) return results;
        if (status.BeamCurrentMa < plan.Beam.ThresholdMa)
        {
            results.Add(("references", FormattableString.Invariant($"not checked: the beam is at {status.BeamCurrentMa:0.0} mA, below {plan.Beam.ThresholdMa} mA")));
            return results;
        }
        var roi = plan.Roi;
        var first = new Dictionary<string, double>
        {
            [plan.Axes.X] = (roi.XMinMm + roi.XMaxMm) / 2,
            [plan.Axes.Y] = (roi.YMinMm + roi.YMaxMm) / 2,
        };
        await devices.Motion.MoveAsync(first, ct).ConfigureAwait(false);
        await devices.Motion.SetShutterAsync(true, ct).ConfigureAwait(false);
        try
        {
            if (kinds.Contains(FrameKind.Xrd))
                results.Add(Verdict(FrameKind.Xrd, await devices.Detector.AcquireXrdAsync(Math.Min(plan.Acquisition.ExposureS, MaximumExposureS), ct).ConfigureAwait(false)));
            if (kinds.Contains(FrameKind.Xas) && plan.Acquisition.EnergyWindow is { } w)
                results.Add(Verdict(FrameKind.Xas, await devices.Detector.AcquireXasAsync(
                    new XasScanRequest(null, new EnergyRange(w.StartEv, w.StopEv, w.StepEv), Math.Min(plan.Acquisition.DwellS, MaximumDwellS)), ct).ConfigureAwait(false)));
        }
        catch (DeviceException e)
        {
            // A frame lost to the detector says nothing about the references; the run's own error policies deal with the detector.
            results.Add(("references", $"not checked: the detector did not deliver a first frame ({e.Message})"));
        }
        finally
        {
            await devices.Motion.SetShutterAsync(false, CancellationToken.None).ConfigureAwait(false);
        }
        return results;
    }

    private bool Takes(FrameKind kind) => kind == FrameKind.Xrd ? plan.Acquisition.TakesXrd : plan.Acquisition.TakesXas && plan.Acquisition.EnergyWindow is not null;

    private (string, string) Verdict(FrameKind kind, Frame frame)
    {
        var verdict = check.Check(frame);
        // Measured beam time: on disk with its verdict before anything may stop the run.
        frames.StorePreflight(frame, verdict);
        journal.Write(new ReferenceChecked(kind, frame.Header.Frame, verdict.Explained, verdict.Conclusive, verdict.Summary, verdict.Unexplained, verdict.LikelyCause));
        if (!verdict.Conclusive) return ($"references ({kind.Name()})", $"not checked: {verdict.LikelyCause}");
        if (!verdict.Explained)
            throw new PreflightException($"the configured references do not explain the first {kind.Name()} frame ({verdict.Summary}); likely cause: {verdict.LikelyCause}");
        return ($"references ({kind.Name()})", verdict.Summary);
    }
}

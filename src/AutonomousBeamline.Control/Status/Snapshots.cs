using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning;

namespace AutonomousBeamline.Control.Status;

/// <summary>What the console shows, built from one status value, the cell's last reading and the newest map.</summary>
public static class Snapshots
{
    /// <summary>At most this many grid points a side in the uncertainty view.</summary>
    private const int MaxGridSide = 40;

    /// <param name="quantity">What the map is of, for the uncertainty view's labels.</param>
    public static ExperimentSnapshot Of(RunStatus status, string runId, DateTimeOffset now, CellReading cell, IPhaseMap? map, double stateOfCharge, RoiPlan roi,
        MapQuantity? quantity = null) => new()
    {
        Time = now,
        RunId = runId,
        State = status.State.ToString(),
        Cell = new CellSnapshotView(cell.VoltageV, cell.CurrentA, cell.StateOfCharge, cell.CRate, cell.Step, cell.Cycle, cell.OutputOn),
        BeamCurrentMa = status.BeamCurrentMa,
        ShutterOpen = status.ShutterOpen,
        XMm = status.Position.X,
        YMm = status.Position.Y,
        RecentDecisions = status.RecentDecisions.Select(View).ToList(),
        PendingDecision = status.PendingDecision is { } pending ? View(pending) : null,
        ApprovalWindowS = status.Knobs.ApprovalWindowS,
        Uncertainty = map is null ? null : UncertaintyOver(map, stateOfCharge, roi) with { Quantity = quantity?.Name, Unit = quantity?.Unit },
        FramesUsed = status.Counts.FramesAcquired,
        FramesBudget = status.Knobs.Budget.Frames,
        BeamTimeUsedS = status.Counts.BeamTimeUsedS,
        BeamTimeBudgetS = status.Knobs.Budget.BeamTimeS,
        Observations = status.Counts.Observations,
        RecentFaults = status.RecentFaults.Select(f => new FaultView(f.Time, f.Source, f.Message)).ToList(),
        LockedKnobs = status.Knobs.Locks.Select(k => k.ToString()).Order(StringComparer.Ordinal).ToList(),
    };

    private static DecisionView View(TimedDecision t) =>
        new(t.Time, t.Decision.Kind.Name(), t.Decision.Values, t.Decision.Score, t.Decision.Reason, t.Decision.ModelVersion, t.Decision.Strategy.Name());

    /// <summary>The map's spread over the ROI at the present state of charge, on a grid of at most 40 × 40.</summary>
    private static UncertaintyGrid UncertaintyOver(IPhaseMap map, double soc, RoiPlan roi)
    {
        var step = Math.Max(roi.StepMm, Math.Max(roi.XMaxMm - roi.XMinMm, roi.YMaxMm - roi.YMinMm) / (MaxGridSide - 1));
        var nx = (int)Math.Floor((roi.XMaxMm - roi.XMinMm) / step + 1e-9) + 1;
        var ny = (int)Math.Floor((roi.YMaxMm - roi.YMinMm) / step + 1e-9) + 1;
        var spread = new double[nx * ny];
        for (var j = 0; j < ny; j++)
        for (var i = 0; i < nx; i++)
            spread[j * nx + i] = map.Predict(roi.XMinMm + i * step, roi.YMinMm + j * step, soc).Spread;
        return new UncertaintyGrid(roi.XMinMm, roi.YMinMm, step, nx, ny, spread);
    }
}

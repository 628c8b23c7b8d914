using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Cli.OperatorConsole;

/// <summary>
/// The model's spread over the ROI pooled to at most a number of screen cells (the maximum per cell, so that a spot the
/// model knows nothing about is never averaged away), with its range, each cell's level on the character ramp and the
/// cell where the stage stands, and what the spread is of (the target's quantity and unit, as the snapshot says). Both
/// dashboard layouts draw from it, so they agree on what they show. The ramp spans the grid's own range, whatever the
/// target's scale (a share, Å, °, eV).
/// </summary>
public sealed class SpreadRaster
{
    /// <summary>From low spread to high: each step one character denser, so that the map reads without colour.</summary>
    public const string Ramp = " .:-=+*#%@";

    private readonly double[,] _pooled;

    private SpreadRaster(double[,] pooled, double low, double high, int stageRow, int stageColumn, MapQuantity? quantity)
    {
        _pooled = pooled;
        (Low, High, StageRow, StageColumn, Quantity) = (low, high, stageRow, stageColumn, quantity);
    }

    public int Rows => _pooled.GetLength(0);
    public int Columns => _pooled.GetLength(1);
    public double Low { get; }
    public double High { get; }

    /// <summary>What the spread is of; null from a controller that does not say (one older than the field).</summary>
    public MapQuantity? Quantity { get; }

    /// <summary>The map's name for a title: "spread of peak position of NMC811 (°)", or "model uncertainty" when the snapshot does not say.</summary>
    public string What => Quantity is { } q ? $"spread of {q.Name}" + (q.Symbol.Length > 0 ? $" ({q.Symbol})" : "") : "model uncertainty";

    /// <summary>What a snapshot's uncertainty grid is of; null when the controller does not say.</summary>
    public static MapQuantity? QuantityOf(UncertaintyGrid grid) => grid.Quantity is { } name ? new MapQuantity(name, grid.Unit ?? "") : null;

    /// <summary>The spread's range with the unit and enough digits for its scale: "0.0012 .. 0.014 °" (a fixed three decimals would show an Å-scale spread as 0).</summary>
    public string Range => $"{MapQuantity.Significant(Low)} .. {Quantity?.Format(High) ?? MapQuantity.Significant(High)}";

    /// <summary>Row and column of the stage's position, or -1 when it is outside the grid.</summary>
    public int StageRow { get; }
    public int StageColumn { get; }

    /// <summary>The pooled grid, or null when the grid's size does not match its values (a snapshot from a peer that is wrong).</summary>
    public static SpreadRaster? Pool(UncertaintyGrid grid, double xMm, double yMm, int maxColumns, int maxRows)
    {
        if (grid.Nx <= 0 || grid.Ny <= 0 || grid.Spread is null || grid.Spread.Length != grid.Nx * grid.Ny) return null;
        var cols = Math.Max(1, Math.Min(grid.Nx, maxColumns));
        var rows = Math.Max(1, Math.Min(grid.Ny, maxRows));
        var pooled = new double[rows, cols];
        for (var r = 0; r < rows; r++) for (var c = 0; c < cols; c++) pooled[r, c] = double.NaN;
        for (var iy = 0; iy < grid.Ny; iy++)
        for (var ix = 0; ix < grid.Nx; ix++)
        {
            var v = grid.Spread[iy * grid.Nx + ix];
            if (!double.IsFinite(v)) continue;
            int r = iy * rows / grid.Ny, c = ix * cols / grid.Nx;
            if (double.IsNaN(pooled[r, c]) || v > pooled[r, c]) pooled[r, c] = v;
        }
        var finite = pooled.Cast<double>().Where(double.IsFinite).ToArray();
        var markR = Index(yMm, grid.YMinMm, grid.StepMm, grid.Ny) is { } my ? my * rows / grid.Ny : -1;
        var markC = Index(xMm, grid.XMinMm, grid.StepMm, grid.Nx) is { } mx ? mx * cols / grid.Nx : -1;
        return new SpreadRaster(pooled, finite.Length > 0 ? finite.Min() : 0, finite.Length > 0 ? finite.Max() : 0, markR, markC, QuantityOf(grid));
    }

    /// <summary>The pooled spread of a cell; NaN where no grid point in it has a value.</summary>
    public double this[int row, int column] => _pooled[row, column];

    public bool IsStage(int row, int column) => row == StageRow && column == StageColumn;

    /// <summary>A value's place on <see cref="Ramp"/>, 0 (lowest) to its last index (highest); the middle when the map is flat.</summary>
    public int Level(double value) => High > Low
        ? (int)Math.Round((value - Low) / (High - Low) * (Ramp.Length - 1), MidpointRounding.AwayFromZero)
        : Ramp.Length / 2;

    private static int? Index(double value, double min, double step, int count)
    {
        if (step <= 0 || !double.IsFinite(value)) return null;
        var index = (int)Math.Round((value - min) / step);
        return index >= 0 && index < count ? index : null;
    }
}

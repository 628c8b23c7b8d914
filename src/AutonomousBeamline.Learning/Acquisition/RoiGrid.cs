using System.Globalization;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Learning.Acquisition;

/// <summary>How fast the sample stages move; the axes travel at the same time, so a move takes the slower axis's time.</summary>
public sealed record AxisSpeeds(double XMmPerS, double YMmPerS)
{
    public double TravelTimeS(double fromX, double fromY, double toX, double toY) =>
        Math.Max(Math.Abs(toX - fromX) / XMmPerS, Math.Abs(toY - fromY) / YMmPerS);

    internal void Validate()
    {
        if (!(XMmPerS > 0) || !double.IsFinite(XMmPerS)) throw new ArgumentOutOfRangeException(nameof(XMmPerS), XMmPerS, "x speed must be positive");
        if (!(YMmPerS > 0) || !double.IsFinite(YMmPerS)) throw new ArgumentOutOfRangeException(nameof(YMmPerS), YMmPerS, "y speed must be positive");
    }
}

/// <summary>Shared helpers of the planners: the validated candidate grid and how a decision is written down.</summary>
internal static class RoiGrid
{
    // A million candidates would make every decision slow; a real electrode grid is hundreds to thousands.
    private const int MaximumPoints = 200_000;

    public static (double X, double Y)[] Points(RoiSearchSpace space)
    {
        ArgumentNullException.ThrowIfNull(space);
        if (!double.IsFinite(space.XMinMm) || !double.IsFinite(space.XMaxMm) || !double.IsFinite(space.YMinMm) || !double.IsFinite(space.YMaxMm))
            throw new ArgumentException("search space bounds must be finite", nameof(space));
        if (space.XMaxMm < space.XMinMm) throw new ArgumentException($"search space x range is empty ({space.XMinMm}..{space.XMaxMm} mm)", nameof(space));
        if (space.YMaxMm < space.YMinMm) throw new ArgumentException($"search space y range is empty ({space.YMinMm}..{space.YMaxMm} mm)", nameof(space));
        if (!(space.StepMm > 0) || !double.IsFinite(space.StepMm)) throw new ArgumentException($"search space step must be positive, got {space.StepMm}", nameof(space));
        var nx = Math.Floor((space.XMaxMm - space.XMinMm) / space.StepMm + 1e-9) + 1;
        var ny = Math.Floor((space.YMaxMm - space.YMinMm) / space.StepMm + 1e-9) + 1;
        if (nx * ny > MaximumPoints) throw new ArgumentException($"search space has {nx * ny} grid points, more than {MaximumPoints}; use a coarser step", nameof(space));
        return space.GridPoints().ToArray();
    }

    public static IReadOnlyDictionary<string, double> Values(double x, double y) =>
        new Dictionary<string, double> { ["x_mm"] = x, ["y_mm"] = y };

    /// <summary>A per-decision random source that depends only on the seed and how many observations there are, so a replay decides the same.</summary>
    public static Random DecisionRandom(int seed, int observationCount) => new(unchecked(seed * 1_000_003 + observationCount * 7_919 + 17));

    public static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

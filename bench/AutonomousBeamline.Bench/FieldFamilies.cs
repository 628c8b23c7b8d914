using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Bench;

/// <summary>
/// A true phase-fraction field for the spot-choice benchmark: static (the electrode at rest, half charged) and operando
/// (x, y, state of charge). Only the benchmark knows it; strategies see it through rendered, analysed frames.
/// </summary>
internal interface IBenchField
{
    double Static(double xMm, double yMm);

    double Operando(double xMm, double yMm, double stateOfCharge);
}

/// <summary>
/// Field families generated unlike the simulator's <see cref="ElectrodeField"/> (a sum of smooth bumps whose effect scales with
/// 4·soc·(1 − soc)): here a spot's activity a ∈ [−1, 1] sets a power-law lag, fraction = soc^exp(κ·a), so the deviation from the
/// cell's average has another shape along the charge than the learner's normalisation assumes, and dead spots never react
/// (fraction 0 at every state of charge). The activity maps have sharp features: discs with 0.1 mm edges, a crack with a jump
/// across it and a dead seam along it, Voronoi patches.
/// </summary>
internal abstract class ActivityField(int seed) : IBenchField
{
    private const double Lag = 1.2;
    protected const double Size = 10.0;
    protected readonly Random Rng = new(seed * 7_919 + 101);

    /// <summary>Activity at a point in [−1, 1] (clamped by the caller): negative reacts early, positive lags.</summary>
    protected abstract double Activity(double x, double y);

    /// <summary>Whether the spot is electrically dead (never reacts).</summary>
    protected abstract bool Dead(double x, double y);

    public double Static(double xMm, double yMm) => Operando(xMm, yMm, 0.5);

    public double Operando(double xMm, double yMm, double stateOfCharge)
    {
        if (Dead(xMm, yMm)) return 0;
        var s = Math.Clamp(stateOfCharge, 0, 1);
        return Math.Pow(s, Math.Exp(Lag * Math.Clamp(Activity(xMm, yMm), -1, 1)));
    }

    protected double Uniform(double from, double to) => from + (to - from) * Rng.NextDouble();

    /// <summary>A disc of radius r with a 0.1 mm logistic edge: 1 inside, 0 outside.</summary>
    protected static double Disc(double distance, double radius) => 1 / (1 + Math.Exp((distance - radius) / 0.1));
}

/// <summary>Isolated hot and dead blobs: Gaussian bumps and sharp-edged discs of either sign on a gentle tilt, sometimes a dead disc.</summary>
internal sealed class BlobField : ActivityField
{
    private readonly (double X, double Y, double Size, double Amplitude, bool Sharp)[] _blobs;
    private readonly (double X, double Y, double R)? _dead;
    private readonly double _tiltX, _tiltY;

    public BlobField(int seed) : base(seed)
    {
        _tiltX = Uniform(-0.04, 0.04); _tiltY = Uniform(-0.04, 0.04);
        _blobs = Enumerable.Range(0, Rng.Next(3, 7)).Select(_ =>
        {
            var sharp = Rng.NextDouble() < 0.5;
            return (Uniform(1, 9), Uniform(1, 9), sharp ? Uniform(0.5, 1.6) : Uniform(0.6, 1.8), Uniform(0.5, 1.0) * (Rng.NextDouble() < 0.5 ? -1 : 1), sharp);
        }).ToArray();
        _dead = Rng.NextDouble() < 0.5 ? (Uniform(1.5, 8.5), Uniform(1.5, 8.5), Uniform(0.5, 1.2)) : null;
    }

    protected override double Activity(double x, double y)
    {
        var a = _tiltX * (x - 5) + _tiltY * (y - 5);
        foreach (var (bx, by, size, amplitude, sharp) in _blobs)
        {
            var r = Math.Sqrt((x - bx) * (x - bx) + (y - by) * (y - by));
            a += amplitude * (sharp ? Disc(r, size) : Math.Exp(-r * r / (2 * size * size)));
        }
        return a;
    }

    protected override bool Dead(double x, double y) =>
        _dead is { } d && (x - d.X) * (x - d.X) + (y - d.Y) * (y - d.Y) <= d.R * d.R;
}

/// <summary>A gradient from the current-collector tab on one edge, and a crack: a jump in activity across it and a dead seam along it.</summary>
internal sealed class TabCrackField : ActivityField
{
    private readonly int _tabEdge;
    private readonly double _power, _jump, _seamHalfWidth, _halfLength;
    private readonly (double X, double Y) _crackCentre;
    private readonly (double X, double Y) _crackDirection;

    public TabCrackField(int seed) : base(seed)
    {
        _tabEdge = Rng.Next(4);
        _power = Uniform(0.7, 1.5);
        _jump = Uniform(0.3, 0.7);
        _seamHalfWidth = Uniform(0.15, 0.3);
        _halfLength = Uniform(3, 6);
        _crackCentre = (Uniform(3, 7), Uniform(3, 7));
        var angle = Uniform(0, Math.PI);
        _crackDirection = (Math.Cos(angle), Math.Sin(angle));
    }

    private double FromTab(double x, double y) => _tabEdge switch
    {
        0 => x, 1 => Size - x, 2 => y, _ => Size - y,
    } / Size;

    protected override double Activity(double x, double y)
    {
        var a = -0.8 + 1.6 * Math.Pow(FromTab(x, y), _power);
        // Beyond the crack (seen from the tab) the electrode is reached the long way round: it lags by the jump.
        var (along, across) = CrackCoordinates(x, y);
        if (Math.Abs(along) <= _halfLength && Math.Sign(across) != Math.Sign(TabSideOfCrack())) a += _jump;
        return a;
    }

    protected override bool Dead(double x, double y)
    {
        var (along, across) = CrackCoordinates(x, y);
        return Math.Abs(along) <= _halfLength && Math.Abs(across) <= _seamHalfWidth;
    }

    private (double Along, double Across) CrackCoordinates(double x, double y)
    {
        var dx = x - _crackCentre.X; var dy = y - _crackCentre.Y;
        return (dx * _crackDirection.X + dy * _crackDirection.Y, -dx * _crackDirection.Y + dy * _crackDirection.X);
    }

    /// <summary>Which side of the crack's line the tab's midpoint lies on (the sign of its across coordinate).</summary>
    private double TabSideOfCrack() => (_tabEdge switch
    {
        0 => CrackCoordinates(0, Size / 2), 1 => CrackCoordinates(Size, Size / 2), 2 => CrackCoordinates(Size / 2, 0), _ => CrackCoordinates(Size / 2, Size),
    }).Across;
}

/// <summary>
/// Held out: never used while the learner's settings were chosen. Voronoi patches (particles or coating defects) of uniform
/// activity with sharp boundaries on a tilt, sometimes one dead patch.
/// </summary>
internal sealed class PatchworkField : ActivityField
{
    private readonly (double X, double Y, double Activity)[] _patches;
    private readonly int _deadPatch;
    private readonly double _tiltX, _tiltY;

    public PatchworkField(int seed) : base(seed)
    {
        _patches = Enumerable.Range(0, Rng.Next(6, 11)).Select(_ => (Uniform(0, Size), Uniform(0, Size), Uniform(-1, 1))).ToArray();
        _deadPatch = Rng.NextDouble() < 0.3 ? Rng.Next(_patches.Length) : -1;
        _tiltX = Uniform(-0.05, 0.05); _tiltY = Uniform(-0.05, 0.05);
    }

    private int Patch(double x, double y)
    {
        var best = 0; var bestD = double.PositiveInfinity;
        for (var k = 0; k < _patches.Length; k++)
        {
            var d = (x - _patches[k].X) * (x - _patches[k].X) + (y - _patches[k].Y) * (y - _patches[k].Y);
            if (d < bestD) { bestD = d; best = k; }
        }
        return best;
    }

    protected override double Activity(double x, double y) => _patches[Patch(x, y)].Activity + _tiltX * (x - 5) + _tiltY * (y - 5);

    protected override bool Dead(double x, double y) => Patch(x, y) == _deadPatch;
}

/// <summary>The simulator's own smooth field at 1C (the family the shipped dry run measures).</summary>
internal sealed class SimulatorField(int seed) : IBenchField
{
    private readonly ElectrodeField _field = new(seed, 0, 10, 0, 10);

    public double Static(double xMm, double yMm) => _field.LocalStateOfCharge(xMm, yMm, 0.5, 1.0);

    public double Operando(double xMm, double yMm, double stateOfCharge) => _field.LocalStateOfCharge(xMm, yMm, stateOfCharge, 1.0);
}

/// <summary>The families the spot-choice benchmark runs, by name.</summary>
internal static class FieldFamilies
{
    /// <summary>The family no learner setting was chosen on.</summary>
    public const string HeldOut = "patchwork";

    public static readonly IReadOnlyList<string> All = ["blobs", "tab-crack", "electrode", HeldOut];

    public static IBenchField Create(string family, int seed) => family switch
    {
        "blobs" => new BlobField(seed),
        "tab-crack" => new TabCrackField(seed),
        "electrode" => new SimulatorField(seed),
        HeldOut => new PatchworkField(seed),
        _ => throw new ArgumentException($"unknown field family '{family}' (known: {string.Join(", ", All)})", nameof(family)),
    };
}

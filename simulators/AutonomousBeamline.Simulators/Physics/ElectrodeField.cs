namespace AutonomousBeamline.Simulators.Physics;

/// <summary>
/// How unevenly the electrode (de)lithiates: a seeded, smooth field over the electrode plane that
/// shifts the local state of charge away from the cell's average.
/// </summary>
/// <remarks>
/// The field is a sum of a few Gaussian bumps of random sign, normalised to [-1, 1]. Its effect
/// vanishes at an empty and a full cell (every spot is then the same) and grows with |C-rate|,
/// because at a higher rate transport limits leave regions behind.
/// </remarks>
public sealed class ElectrodeField
{
    private readonly (double X, double Y, double Width, double Sign)[] _bumps;
    private readonly double _scale;

    public ElectrodeField(int seed, double xMinMm, double xMaxMm, double yMinMm, double yMaxMm,
        double baseAmplitude = 0.15, double amplitudePerCRate = 0.12, int bumps = 6)
    {
        if (xMaxMm <= xMinMm || yMaxMm <= yMinMm) throw new ArgumentException("the electrode rectangle is empty");
        XMinMm = xMinMm; XMaxMm = xMaxMm; YMinMm = yMinMm; YMaxMm = yMaxMm;
        BaseAmplitude = baseAmplitude;
        AmplitudePerCRate = amplitudePerCRate;
        var rng = new Random(seed);
        var size = Math.Max(xMaxMm - xMinMm, yMaxMm - yMinMm);
        _bumps = Enumerable.Range(0, bumps).Select(_ => (
            X: xMinMm + rng.NextDouble() * (xMaxMm - xMinMm),
            Y: yMinMm + rng.NextDouble() * (yMaxMm - yMinMm),
            Width: size * (0.12 + 0.25 * rng.NextDouble()),
            Sign: rng.NextDouble() < 0.5 ? -1.0 : 1.0)).ToArray();
        // Normalise on a fine grid so that the field spans about [-1, 1] whatever the seed.
        var max = 1e-9;
        for (var i = 0; i <= 60; i++)
        for (var j = 0; j <= 60; j++)
            max = Math.Max(max, Math.Abs(Raw(xMinMm + i * (xMaxMm - xMinMm) / 60, yMinMm + j * (yMaxMm - yMinMm) / 60)));
        _scale = 1.0 / max;
    }

    public double XMinMm { get; }
    public double XMaxMm { get; }
    public double YMinMm { get; }
    public double YMaxMm { get; }
    public double BaseAmplitude { get; }
    public double AmplitudePerCRate { get; }

    /// <summary>The shape of the inhomogeneity at a point, in [-1, 1].</summary>
    public double Shape(double xMm, double yMm) => Math.Clamp(Raw(xMm, yMm) * _scale, -1, 1);

    /// <summary>Local state of charge at a point, given the cell's average state of charge and the C-rate it was reached at.</summary>
    public double LocalStateOfCharge(double xMm, double yMm, double cellStateOfCharge, double cRate)
    {
        var soc = Math.Clamp(cellStateOfCharge, 0, 1);
        var amplitude = BaseAmplitude + AmplitudePerCRate * Math.Abs(cRate);
        // 4 s (1 - s) keeps the local value inside [0, 1] and pins both ends.
        var local = soc + amplitude * Shape(xMm, yMm) * 4 * soc * (1 - soc);
        return Math.Clamp(local, 0, 1);
    }

    private double Raw(double x, double y)
    {
        var sum = 0.0;
        foreach (var b in _bumps)
        {
            var dx = x - b.X; var dy = y - b.Y;
            sum += b.Sign * Math.Exp(-(dx * dx + dy * dy) / (2 * b.Width * b.Width));
        }
        return sum;
    }
}

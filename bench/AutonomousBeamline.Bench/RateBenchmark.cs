using System.Globalization;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Simulators.Physics;

namespace AutonomousBeamline.Bench;

/// <summary>
/// Part r: what the learner's C-rate choice gains over fixed and random rates. A cell is cycled between 10 % and 90 % state of
/// charge for a number of constant-current steps; each step's rate is chosen by a policy among the allowed rates, and a frame
/// is taken every frame time at a random spot. Information per hour = what the frames taught about the inhomogeneity's
/// response to rate (<see cref="CRatePlanner.ResponseInformation"/>, nats) over the hours of cycling; also the error of the
/// fitted response at every allowed rate against the truth. Two truths: the simulator's linear response, and a saturating one
/// the planner's line does not describe.
/// </summary>
internal sealed class RateBenchmark(int steps, IReadOnlyList<int> seeds, TextWriter output)
{
    private static readonly double[] Allowed = [0.5, 1.0, 2.0];
    private const double MaxCRate = 2.0;
    private const double FrameTimeS = 25;
    private const double Noise = 0.01;

    public sealed record Result(double GainVsBestFixed, double GainVsRandom, int OutsideWindow);

    private sealed record Outcome(double InformationPerHour, double Hours, double ResponseRmse, int OutsideWindow);

    public Result Execute()
    {
        output.WriteLine($"## r. C-rate choice: information per hour about the inhomogeneity's response to rate ({steps} CC steps 10 %-90 % SOC, allowed [{string.Join(", ", Allowed)}]C, max {MaxCRate}C, a frame every {FrameTimeS} s, seeds {seeds[0]}-{seeds[^1]})");
        output.WriteLine("| truth | policy | information per hour (nats/h, median) | hours of cycling (median) | response RMSE at the allowed rates (median) | steps outside the window |");
        output.WriteLine("|---|---|---|---|---|---|");
        var gainsFixed = new List<double>();
        var gainsRandom = new List<double>();
        var outside = 0;
        foreach (var saturating in new[] { false, true })
        {
            var policies = new List<(string Name, Func<int, CRatePlanner, List<Observation>, double, bool, Random, double> Choose)>
            {
                ("learner", (_, planner, obs, soc, charging, _) => planner.NextCRate(obs, soc, charging).Values["c_rate"]),
                ("random", (_, _, _, _, _, rng) => Allowed[rng.Next(Allowed.Length)]),
            };
            policies.AddRange(Allowed.Select(rate => ($"fixed {rate:0.##}C", (Func<int, CRatePlanner, List<Observation>, double, bool, Random, double>)((_, _, _, _, _, _) => rate))));
            var medians = new Dictionary<string, double>();
            foreach (var (name, choose) in policies)
            {
                var outcomes = seeds.Select(seed => Run(seed, saturating, choose)).ToArray();
                outside += outcomes.Sum(o => o.OutsideWindow);
                medians[name] = Median(outcomes.Select(o => o.InformationPerHour));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {(saturating ? "saturating" : "linear (simulator)")} | {name} | {medians[name]:F2} | {Median(outcomes.Select(o => o.Hours)):F1} | {Median(outcomes.Select(o => o.ResponseRmse)):F4} | {outcomes.Sum(o => o.OutsideWindow)} |"));
            }
            var bestFixed = Allowed.Max(rate => medians[$"fixed {rate:0.##}C"]);
            gainsFixed.Add(medians["learner"] / bestFixed);
            gainsRandom.Add(medians["learner"] / medians["random"]);
        }
        var result = new Result(gainsFixed.Min(), gainsRandom.Min(), outside);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"learner information per hour: {result.GainVsBestFixed:F2}x the best fixed rate, {result.GainVsRandom:F2}x random (worse of the two truths); steps outside the window: {outside}"));
        output.WriteLine();
        return result;
    }

    private Outcome Run(int seed, bool saturating, Func<int, CRatePlanner, List<Observation>, double, bool, Random, double> choose)
    {
        var field = new ElectrodeField(seed, 0, 10, 0, 10);
        double Amplitude(double rate) => saturating ? 0.35 * (1 - Math.Exp(-rate / 0.6)) : field.BaseAmplitude + field.AmplitudePerCRate * rate;
        var planner = new CRatePlanner(Allowed, MaxCRate, CRatePlannerOptions.Default with { FrameTimeS = FrameTimeS });
        var rng = new Random(seed * 13 + (saturating ? 1 : 0));
        var observations = new List<Observation>();
        var hours = 0.0;
        var outside = 0;
        var soc = 0.1;
        for (var step = 0; step < steps; step++)
        {
            var charging = step % 2 == 0;
            var rate = choose(step, planner, observations, soc, charging, rng);
            if (rate > MaxCRate || !Allowed.Contains(rate)) outside++;
            var stepHours = 0.8 / rate;
            var frames = (int)Math.Floor(stepHours * 3600 / FrameTimeS);
            for (var k = 0; k < frames; k++)
            {
                var progress = (k + 0.5) / frames;
                var cellSoc = charging ? 0.1 + 0.8 * progress : 0.9 - 0.8 * progress;
                var x = rng.NextDouble() * 10; var y = rng.NextDouble() * 10;
                var local = Math.Clamp(cellSoc + Amplitude(rate) * field.Shape(x, y) * 4 * cellSoc * (1 - cellSoc), 0, 1);
                observations.Add(new Observation
                {
                    Sequence = observations.Count, Frame = observations.Count, Time = DateTimeOffset.UnixEpoch.AddHours(hours + stepHours * progress),
                    Kind = FrameKind.Xrd, XMm = x, YMm = y, StateOfCharge = cellSoc, CRate = charging ? rate : -rate,
                    PhaseFraction = local + Noise * Gaussian(rng), PhaseFractionSigma = Noise, BeamCurrentMa = 200,
                });
            }
            hours += stepHours;
            soc = charging ? 0.9 : 0.1;
        }
        // The response the frames imply at each allowed rate (the measured spread where measured) against the truth's spread there.
        var estimates = planner.Estimate(observations);
        var truthSpread = Allowed.Select(rate => Amplitude(rate) * ShapeSpread(field)).ToArray();
        var errors = estimates.Select((e, i) => double.IsNaN(e.Inhomogeneity) ? truthSpread[i] : e.Inhomogeneity - truthSpread[i]);
        return new Outcome(planner.ResponseInformation(observations) / hours, hours, Math.Sqrt(errors.Average(e => e * e)), outside);
    }

    /// <summary>Standard deviation of the field's shape over the electrode (the inhomogeneity per unit amplitude).</summary>
    private static double ShapeSpread(ElectrodeField field)
    {
        var values = new List<double>();
        for (var i = 0; i <= 40; i++)
        for (var j = 0; j <= 40; j++)
            values.Add(field.Shape(i * 0.25, j * 0.25));
        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static double Median(IEnumerable<double> values) => BenchFrames.Percentile(values.ToList(), 50);
}

using AutonomousBeamline.Core.Materials;
using AutonomousBeamline.Learning.Features;
using AutonomousBeamline.Simulators.Physics;
using Xunit.Abstractions;

namespace AutonomousBeamline.Learning.Tests.Features;

/// <summary>
/// The σ of a fraction must be honest when the references are not quite the sample: on frames whose intensities and
/// widths are 10–20 % off, the z-scores (error / σ) must have an RMS near 1, not 3–6 as counting noise alone gives;
/// for absorption, on spectra whose white lines or widths are 10–20 % off, or whose edges are a few tenths of an eV away.
/// </summary>
public sealed class SigmaCalibrationTests(ITestOutputHelper output)
{
    public static (double WithMismatch, double CountingOnly) XrdZScoreRms(double intensityJitter, double widthScale, int samples, int firstSeed = 0)
    {
        var axis = BatteryMaterials.DefaultXrdAxis;
        var shape = PeakShape.Default with { FwhmDeg = PeakShape.Default.FwhmDeg * widthScale, FwhmTanThetaDeg = PeakShape.Default.FwhmTanThetaDeg * widthScale };
        var honest = new XrdPhaseAnalyzer();
        var countingOnly = new XrdPhaseAnalyzer(options: XrdAnalyzerOptions.Default with { MismatchBlocks = 0 });
        var z = new List<double>();
        var zCounting = new List<double>();
        for (var seed = firstSeed; seed < firstSeed + samples; seed++)
        {
            var mismatch = new PhysicsMismatch(IntensityJitter: intensityJitter, Seed: seed);
            var sample = SimulatedDiffraction.Olivines with
            {
                Phases = SimulatedDiffraction.Olivines.Phases.Select((p, i) => mismatch.Apply(p, i)).ToArray(),
                Shape = shape,
            };
            var renderer = new XrdPatternRenderer(axis, sample);
            var rng = new Random(seed);
            var truth = 0.15 + 0.7 * rng.NextDouble();
            var frame = FrameFactory.Xrd(renderer.Render(truth, 1, 1, rng), axis);
            var a = honest.Analyze(frame);
            var b = countingOnly.Analyze(frame);
            if (!a.Usable || !b.Usable) throw new InvalidOperationException($"seed {seed}: frame flagged {a.Flag ?? b.Flag}");
            z.Add((a.PhaseFraction - truth) / a.PhaseFractionSigma);
            zCounting.Add((b.PhaseFraction - truth) / b.PhaseFractionSigma);
        }
        static double Rms(List<double> v) => Math.Sqrt(v.Average(x => x * x));
        return (Rms(z), Rms(zCounting));
    }

    [Theory]
    [InlineData(0.10, 1.10)]
    [InlineData(0.20, 0.85)]
    [InlineData(0.15, 1.20)]
    public void Xrd_z_scores_have_an_rms_near_one_on_frames_off_their_references(double intensityJitter, double widthScale)
    {
        // An RMS over n frames scatters by about 1/sqrt(2n) of itself: 150 frames keep that near 6 %, so that the band
        // (0.7-1.5) judges the σ, not the draw (60 frames gave 0.699 once against the bench's 0.79-0.82 over 300).
        var (rms, counting) = XrdZScoreRms(intensityJitter, widthScale, 150);
        output.WriteLine($"intensities ±{intensityJitter:P0}, widths ×{widthScale}: z RMS {rms:F2} (counting noise alone: {counting:F2})");
        Assert.InRange(rms, 0.7, 1.5);
        Assert.True(counting > rms, "the mismatch term must be what makes the σ honest");
    }

    [Fact]
    public void On_frames_that_match_their_references_sigma_stays_near_counting_noise()
    {
        var (rms, counting) = XrdZScoreRms(0, 1, 40, firstSeed: 100);
        output.WriteLine($"matched references: z RMS {rms:F2} (counting noise alone: {counting:F2})");
        Assert.InRange(rms, 0.4, 1.5);
    }

    /// <summary>The Fe K-edge on the planner's full grid, 7090–7180 eV at 0.5 eV.</summary>
    private static readonly double[] FeGrid = Enumerable.Range(0, 181).Select(i => 7090 + 0.5 * i).ToArray();

    /// <summary>The Ni K-edge of a layered oxide (the shapes of configs/references/ni-k-*.nor) on 8300–8420 eV at 0.5 eV.</summary>
    private static readonly double[] NiGrid = Enumerable.Range(0, 241).Select(i => 8300 + 0.5 * i).ToArray();

    private static readonly FeEdgeShape[] NiReferences =
    [
        new(8344.5, 2.0, 7.0, 0.75, 4.0, 8333.5, 0.02) { Name = "NMC-pristine" },
        new(8347.5, 2.2, 6.0, 0.55, 4.5, 8334.2, 0.03) { Name = "NMC-charged" },
    ];

    /// <summary>
    /// Spectra rendered by the simulator from Fe K-edges off the analyser's references (<see cref="EdgeMismatch"/>, drawn anew for
    /// every spectrum), 0.2 % noise, at a random Fe3+ fraction; the z RMS of the analyser's σ and of the least-squares σ alone.
    /// </summary>
    public static (double WithMismatch, double CountingOnly, double MeanAbsoluteError, double MeanSigma) XasZScoreRms(EdgeMismatch mismatch, int samples, int firstSeed = 0)
    {
        FeEdgeShape[] references = [BatteryMaterials.FeKEdge.Reduced, BatteryMaterials.FeKEdge.Oxidised];
        return XasZScoreRms(BatteryMaterials.FeKAbsorption, FeGrid, rng => mismatch.Apply(references, rng), samples, firstSeed);
    }

    /// <summary>The same for any edge: <paramref name="sample"/> draws the sample's two edges for each spectrum.</summary>
    private static (double WithMismatch, double CountingOnly, double MeanAbsoluteError, double MeanSigma) XasZScoreRms(AbsorptionMaterials materials,
        double[] grid, Func<Random, IReadOnlyList<IAbsorptionReference>> sample, int samples, int firstSeed)
    {
        var honest = new XasEdgeAnalyzer(materials);
        var countingOnly = new XasEdgeAnalyzer(materials, XasAnalyzerOptions.Default with { MismatchBlocks = 0 });
        var z = new List<double>();
        var zCounting = new List<double>();
        var errors = new List<double>();
        var sigmas = new List<double>();
        for (var seed = firstSeed; seed < firstSeed + samples; seed++)
        {
            var rng = new Random(seed);
            var edges = sample(rng);
            var renderer = new XasSpectrumRenderer(edges[0], edges[1], 0.002);
            var truth = 0.1 + 0.8 * rng.NextDouble();
            var mu = renderer.Render(grid, truth, 1, 1, rng).Select(v => (double)v).ToArray();
            var a = honest.Analyze(grid, mu);
            var b = countingOnly.Analyze(grid, mu);
            if (!a.Usable || !b.Usable) throw new InvalidOperationException($"seed {seed}: spectrum flagged {a.Flag ?? b.Flag}");
            z.Add((a.OxidisedFraction - truth) / a.OxidisedFractionSigma);
            zCounting.Add((b.OxidisedFraction - truth) / b.OxidisedFractionSigma);
            errors.Add(Math.Abs(a.OxidisedFraction - truth));
            sigmas.Add(a.OxidisedFractionSigma);
        }
        static double Rms(List<double> v) => Math.Sqrt(v.Average(x => x * x));
        return (Rms(z), Rms(zCounting), errors.Average(), sigmas.Average());
    }

    [Theory]
    [InlineData(true, false, 0.0)]
    [InlineData(false, true, 0.0)]
    [InlineData(false, false, 0.3)]
    [InlineData(true, true, 0.2)]
    public void Xas_z_scores_have_an_rms_near_one_on_spectra_off_their_references(bool whiteLines, bool widths, double maximumShiftEv)
    {
        var (rms, counting, error, sigma) = XasZScoreRms(new EdgeMismatch(whiteLines, widths, maximumShiftEv), 150);
        output.WriteLine($"white lines off {whiteLines}, widths off {widths}, shifts ≤ {maximumShiftEv} eV: z RMS {rms:F2} " +
            $"(least squares alone: {counting:F2}); fraction MAE {error:F4}, mean σ {sigma:F4}");
        Assert.InRange(rms, 0.7, 1.5);
        Assert.True(counting > 1.5, "least squares alone must be what is too confident here, or the case tests nothing");
    }

    [Fact]
    public void On_spectra_that_match_their_references_the_xas_sigma_is_not_inflated()
    {
        var (rms, counting, error, sigma) = XasZScoreRms(EdgeMismatch.None, 150, firstSeed: 1000);
        output.WriteLine($"matched references: z RMS {rms:F2} (least squares alone: {counting:F2}); fraction MAE {error:F4}, mean σ {sigma:F4}");
        Assert.InRange(rms, 0.7, 1.5);
    }

    /// <summary>
    /// The dry run's mismatch (config <c>simulation.physics</c>): one scale of the structure above the step for both edges
    /// (10–20 %, either sign) and one shift of both (up to ±0.2 eV), drawn anew for every spectrum.
    /// </summary>
    [Theory]
    [InlineData("Fe")]
    public void Xas_z_scores_have_an_rms_near_one_when_both_references_are_off_alike(string element) => AssertCommonMismatchNearOne(element);

    /// <summary>On the Ni K-edge the σ is too large (z RMS 0.62): a mismatch common to both references moves the shares less than
    /// the jackknife, which watches how far they would move were the line fixed by less of the spectrum, fears.</summary>
    [Theory(Skip = "not met yet: 0.62 on the Ni K-edge (σ too large), docs/materials.md \"Not yet\"")]
    [InlineData("Ni")]
    public void Xas_z_scores_not_yet_near_one_when_both_references_are_off_alike(string element) => AssertCommonMismatchNearOne(element);

    private void AssertCommonMismatchNearOne(string element)
    {
        var (materials, grid, references) = element == "Fe"
            ? (BatteryMaterials.FeKAbsorption, FeGrid, new[] { BatteryMaterials.FeKEdge.Reduced, BatteryMaterials.FeKEdge.Oxidised })
            : (new AbsorptionMaterials(EdgeTable.Get("Ni", EdgeKind.K), NiReferences), NiGrid, NiReferences);
        var (rms, counting, error, sigma) = XasZScoreRms(materials, grid, rng =>
        {
            var physics = new PhysicsMismatch(EdgeShiftEv: 0.4 * (rng.NextDouble() - 0.5),
                WhiteLineScale: 1 + (rng.NextDouble() < 0.5 ? -1 : 1) * (0.1 + 0.1 * rng.NextDouble()));
            return [physics.Apply(references[0]), physics.Apply(references[1])];
        }, 150, firstSeed: 2000);
        output.WriteLine($"{element} K, both edges off alike: z RMS {rms:F2} (least squares alone: {counting:F2}); fraction MAE {error:F4}, mean σ {sigma:F4}");
        Assert.InRange(rms, 0.7, 1.5);
        Assert.True(counting > 1.5, "least squares alone must be what is too confident here, or the case tests nothing");
    }
}

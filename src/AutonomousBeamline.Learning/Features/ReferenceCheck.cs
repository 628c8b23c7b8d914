using System.Globalization;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Core.Materials;

namespace AutonomousBeamline.Learning.Features;

/// <summary>Whether the configured references explain a frame, and if not, what most likely is wrong.</summary>
/// <param name="LikelyCause">Null when explained; else one of "X-ray energy", "detector axis", "references", "edge",
/// "energy window" or "no signal", with what was found.</param>
/// <param name="Conclusive">False when the frame could not show anything (no beam on it, a glitch): the configuration is
/// then neither confirmed nor refuted, and a run need not stop for it.</param>
/// <param name="Unexplained">The residual: the share of a pattern the references leave unexplained at the configured energy
/// (<see cref="XrdFeatures.Unexplained"/>); null where no fit was made, and for a spectrum (its fit gives no such number).</param>
public sealed record ReferenceVerdict(bool Explained, string Summary, string? LikelyCause, bool Conclusive = true, double? Unexplained = null);

/// <summary>Checks one frame against the configured references (preflight, before the cell is touched). Pure.</summary>
public interface IReferenceCheck
{
    ReferenceVerdict Check(Frame frame);
}

/// <summary>
/// The preflight check of the science configuration: the first frame must be explained by the references at the configured
/// X-ray energy on the detector's axis. When it is not, the frame is fitted again with what could be wrong changed one at
/// a time (the wavelength scanned from 0.6 to 1.6 times the configured one; the axis read as q instead of 2θ or back), and
/// the first change that explains it is named; otherwise the references are.
/// </summary>
public sealed class ReferenceCheck(DetectorAxisXrdAnalyzer? xrd, XasEdgeAnalyzer? xas) : IReferenceCheck
{
    public ReferenceVerdict Check(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return frame.Header.Kind == FrameKind.Xas ? CheckXas(frame) : CheckXrd(frame);
    }

    private ReferenceVerdict CheckXrd(Frame frame)
    {
        if (xrd is null) return new ReferenceVerdict(true, "no diffraction references configured", null);
        if (DetectorAxisXrdAnalyzer.AxisOf(frame) is not { } axis)
            return new ReferenceVerdict(false, "the pattern has no uniform axis", "detector axis: the frame's header gives no x_start/x_step");
        if (DiffractionAxis.TryFrom(axis, out var why) is null)
            return new ReferenceVerdict(false, $"the detector describes {why}", $"detector axis: {why}; the analyser needs two_theta (deg or rad) or q (1/angstrom or 1/nm)");
        var analyzer = xrd.For(axis);
        if (analyzer is null)
            return new ReferenceVerdict(false, "no configured phase has a peak on the detector's axis",
                Inv($"X-ray energy or detector axis: at {new XrayBeam(xrd.Options.WavelengthAngstrom)} no reflection of {string.Join(", ", xrd.Materials.Phases.Select(p => p.Name))} falls on {DiffractionAxis.From(axis)}"));
        var features = analyzer.Analyze(frame);
        if (features.Usable)
            return new ReferenceVerdict(true, Inv($"{string.Join(", ", features.Phases.Select(p => $"{p.Name} {p.Fraction:0.00}"))}; unexplained {features.Unexplained:0.00}"), null,
                Unexplained: Residual(features));
        if (features.Flag != XrdPhaseAnalyzer.FlagMisfit)
            return new ReferenceVerdict(false, $"the first pattern is {features.Flag}", $"no signal: the first pattern is {features.Flag}; check the beam, the shutter and the detector", Conclusive: false);

        var configured = new XrayBeam(xrd.Options.WavelengthAngstrom);
        var summary = Inv($"the references leave {Unexplained(features)} of the pattern unexplained at {configured}");
        var residual = Residual(features);
        if (BestWavelength(frame, axis, features.Unexplained) is { } beam)
            return new ReferenceVerdict(false, summary, Inv($"X-ray energy: the pattern fits far better at {beam.Beam} (unexplained {beam.Unexplained:0.00}), the config says {configured} (beamline.wavelength_angstrom or beamline.energy_kev)"),
                Unexplained: residual);
        if (OtherAxis(axis) is { } other && Fits(frame, other, xrd.Options))
            return new ReferenceVerdict(false, summary, $"detector axis: the pattern fits if its axis is {other.Name} in {other.Unit}, but the detector describes {axis.Name} in {axis.Unit}",
                Unexplained: residual);
        return new ReferenceVerdict(false, summary,
            $"references: at the configured energy and axis the phases {string.Join(", ", xrd.Materials.Phases.Select(p => p.Name))} do not describe the pattern (a phase without a reference, references of another material, or peaks shifted beyond their max_strain)",
            Unexplained: residual);
    }

    private static double? Residual(XrdFeatures f) => double.IsFinite(f.Unexplained) ? f.Unexplained : null;

    private static string Unexplained(XrdFeatures f) => f.Unexplained >= 10 ? "all" : string.Create(CultureInfo.InvariantCulture, $"{Math.Min(1, f.Unexplained):P0}");

    /// <summary>The wavelength at which the references explain the frame best, when that is far better than at the configured one
    /// (parts of a pattern may lie beyond the references' range at the true wavelength, so "fits" is relative).</summary>
    private (XrayBeam Beam, double Unexplained)? BestWavelength(Frame frame, UniformAxis axis, double configuredUnexplained)
    {
        var configured = xrd!.Options.WavelengthAngstrom;
        (double Unexplained, double Wavelength)? best = null;
        for (var factor = 0.6; factor <= 1.6001; factor += 0.005)
        {
            var options = xrd.Options with { WavelengthAngstrom = configured * factor, ModelPeakShifts = false, MismatchBlocks = 0 };
            XrdFeatures f;
            try { f = new XrdPhaseAnalyzer(axis, xrd.Materials, options).Analyze(frame); }
            catch (ArgumentException) { continue; }
            if (f.Phases.Count > 0 && (best is null || f.Unexplained < best.Value.Unexplained)) best = (f.Unexplained, configured * factor);
        }
        if (best is not { } found || Math.Abs(found.Wavelength / configured - 1) < 0.01) return null;
        if (found.Unexplained > Math.Max(xrd.Options.MaximumUnexplained, Math.Min(1, configuredUnexplained / 3))) return null;
        return (new XrayBeam(found.Wavelength), found.Unexplained);
    }

    private bool Fits(Frame frame, UniformAxis axis, XrdAnalyzerOptions options)
    {
        var relabelled = frame with { Header = frame.Header with { XName = axis.Name, XUnit = axis.Unit } };
        try { return new XrdPhaseAnalyzer(axis, xrd!.Materials, options).Analyze(relabelled).Usable; }
        catch (ArgumentException) { return false; }
    }

    private static UniformAxis? OtherAxis(UniformAxis axis) =>
        DiffractionAxis.TryFrom(axis, out _)?.Variable == ScatteringVariable.TwoThetaDeg
            ? axis with { Name = "q", Unit = "1/angstrom" }
            : axis with { Name = "two_theta", Unit = "deg" };

    private ReferenceVerdict CheckXas(Frame frame)
    {
        if (xas is null) return new ReferenceVerdict(true, "no absorption references configured", null);
        var features = xas.Analyze(frame);
        var edge = xas.Edge;
        if (features.Usable)
            return new ReferenceVerdict(true, Inv($"E0 {features.EdgeEnergyEv:0.0} eV ({edge}); {string.Join(", ", xas.ReferenceNames.Zip(features.Fractions, (n, f) => $"{n} {f:0.00}"))}"), null);
        var energies = Enumerable.Range(0, frame.Intensities.Length).Select(frame.XAt).ToArray();
        if (energies.Length < 4 || features.Flag is XasEdgeAnalyzer.FlagEmpty or XasEdgeAnalyzer.FlagNonFinite or XasEdgeAnalyzer.FlagWrongLength or XasEdgeAnalyzer.FlagUnsorted)
            return new ReferenceVerdict(false, $"the first spectrum is {features.Flag}", $"no signal: the first spectrum is {features.Flag}", Conclusive: false);
        var summary = $"the first spectrum is {features.Flag} for the {edge}";
        if (energies[0] > edge.EnergyEv - 20 || energies[^1] < edge.EnergyEv + 40)
            return new ReferenceVerdict(false, summary, Inv($"energy window: the scan covers {energies[0]:0} to {energies[^1]:0} eV, which does not span the {edge} (from 20 eV below to 40 eV above); check search.energy_windows and materials.xas"));
        // Where does the data itself have its edge? The steepest rise of a lightly smoothed spectrum.
        var steepest = 0;
        for (var i = 2; i < energies.Length - 2; i++)
            if ((frame.Intensities[i + 2] - frame.Intensities[i - 2]) / (energies[i + 2] - energies[i - 2])
                > (frame.Intensities[steepest + 2] - frame.Intensities[Math.Max(0, steepest - 2)]) / (energies[steepest + 2] - energies[Math.Max(0, steepest - 2)]))
                steepest = i;
        var dataEdge = energies[Math.Max(2, steepest)];
        if (Math.Abs(dataEdge - edge.EnergyEv) > 30)
            return new ReferenceVerdict(false, summary, Inv($"edge: the spectrum rises most steeply at {dataEdge:0} eV, far from the configured {edge}; check materials.xas.element and edge"));
        return new ReferenceVerdict(false, summary, "references: the spectrum has its edge where configured, but the reference spectra do not describe it");
    }

    private static string Inv(FormattableString text) => FormattableString.Invariant(text);
}

using AutonomousBeamline.Control.Steps;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Control.Tests.Steps;

public class ModalityComparisonTests
{
    private static long _frame;

    private static Observation At(FrameKind kind, double x, double y, double soc, double sigma, params (string Key, double Value)[] features) => new()
    {
        Sequence = ++_frame, Frame = _frame, Time = DateTimeOffset.UnixEpoch, Kind = kind, XMm = x, YMm = y, StateOfCharge = soc, CRate = 1,
        PhaseFraction = features.Length > 0 ? features[0].Value : 0, PhaseFractionSigma = sigma, BeamCurrentMa = 200,
        Features = features.ToDictionary(f => f.Key, f => f.Value),
    };

    [Fact]
    public void Fractions_of_the_same_name_at_the_same_spot_and_state_are_compared_with_their_z_score()
    {
        var comparison = new ModalityComparison();
        Assert.Empty(comparison.Compare(At(FrameKind.Xrd, 2, 3, 0.40, 0.01,
            ("fraction:FePO4", 0.42), ("fraction_sigma:FePO4", 0.01), ("fraction:LiFePO4", 0.58), ("fraction_sigma:LiFePO4", 0.01), ("strain:FePO4", 0.001))));

        var compared = comparison.Compare(At(FrameKind.Xas, 2.01, 3, 0.41, 0.02, ("fraction:FePO4", 0.52), ("edge_ev", 7123.4)));

        var c = Assert.Single(compared);
        Assert.Equal("fraction of FePO4", c.Quantity);
        Assert.Equal(0.42, c.Xrd, 12);
        Assert.Equal(0.52, c.Xas, 12);
        Assert.Equal(0.10, c.Difference, 12);
        Assert.Equal(0.10 / Math.Sqrt(0.01 * 0.01 + 0.02 * 0.02), c.Z!.Value, 9);
        Assert.Contains("XRD and XAS disagree on the fraction of FePO4", ModalityComparison.Disagreement(c));
    }

    [Fact]
    public void Frames_at_another_spot_or_a_later_state_of_charge_are_not_compared()
    {
        var comparison = new ModalityComparison();
        comparison.Compare(At(FrameKind.Xrd, 2, 3, 0.40, 0.01, ("fraction:FePO4", 0.42), ("fraction_sigma:FePO4", 0.01)));
        Assert.Empty(comparison.Compare(At(FrameKind.Xas, 2.5, 3, 0.40, 0.02, ("fraction:FePO4", 0.43))));
        Assert.Empty(comparison.Compare(At(FrameKind.Xas, 2, 3, 0.45, 0.02, ("fraction:FePO4", 0.43))));
        // Names that do not match (another chemistry's references) give nothing to compare, not a false disagreement.
        Assert.Empty(comparison.Compare(At(FrameKind.Xas, 2, 3, 0.40, 0.02, ("fraction:NMC-charged", 0.43))));
    }

    [Fact]
    public void An_agreement_within_the_sigmas_is_journalled_but_not_reported_and_a_missing_sigma_gives_no_z()
    {
        var comparison = new ModalityComparison();
        comparison.Compare(At(FrameKind.Xas, 1, 1, 0.70, 0.03, ("fraction:FePO4", 0.71)));
        var agreeing = Assert.Single(comparison.Compare(At(FrameKind.Xrd, 1, 1, 0.70, 0.01, ("fraction:FePO4", 0.69), ("fraction_sigma:FePO4", 0.01))));
        Assert.Null(ModalityComparison.Disagreement(agreeing));

        var unsure = Assert.Single(comparison.Compare(At(FrameKind.Xrd, 1, 1, 0.70, 0.01, ("fraction:FePO4", 0.2))));
        Assert.Null(unsure.XrdSigma);
        Assert.Null(unsure.Z);
        Assert.Null(ModalityComparison.Disagreement(unsure));
    }
}

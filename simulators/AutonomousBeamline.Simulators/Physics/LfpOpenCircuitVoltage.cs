namespace AutonomousBeamline.Simulators.Physics;

/// <summary>
/// Open-circuit voltage of a LiFePO4 electrode against lithium metal as a function of state of charge
/// (0 = fully lithiated LiFePO4, 1 = fully delithiated FePO4).
/// </summary>
/// <remarks>
/// The two-phase reaction pins the voltage to a flat plateau near 3.42 V over most of the range; single-phase
/// solid-solution regions at both ends make it fall steeply toward ~2.45 V when empty and rise to ~3.85 V when
/// full. Beyond the ends (overcharge, overdischarge) the curve keeps going steeply, so a cell driven without a
/// compliance limit leaves any sensible window quickly, as a real one would.
/// </remarks>
public static class LfpOpenCircuitVoltage
{
    private const double PlateauV = 3.425;
    private const double PlateauSlopeVPerSoc = 0.05;
    private const double EmptyDropV = 0.95;
    private const double EmptyWidthSoc = 0.025;
    private const double FullRiseV = 0.40;
    private const double FullWidthSoc = 0.02;
    private const double BeyondLimitsSlopeVPerSoc = 50;

    /// <summary>Volts vs Li/Li+ at <paramref name="stateOfCharge"/>.</summary>
    public static double At(double stateOfCharge)
    {
        if (double.IsNaN(stateOfCharge)) throw new ArgumentOutOfRangeException(nameof(stateOfCharge), "state of charge is NaN");
        if (stateOfCharge < 0) return Core(0) + BeyondLimitsSlopeVPerSoc * stateOfCharge;
        if (stateOfCharge > 1) return Core(1) + BeyondLimitsSlopeVPerSoc * (stateOfCharge - 1);
        return Core(stateOfCharge);
    }

    private static double Core(double s) =>
        PlateauV + PlateauSlopeVPerSoc * (s - 0.5)
        - EmptyDropV * Math.Exp(-s / EmptyWidthSoc)
        + FullRiseV * Math.Exp(-(1 - s) / FullWidthSoc);
}

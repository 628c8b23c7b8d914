namespace AutonomousBeamline.Core.Domain;

/// <summary>What a frame holds (FACILITY-ICD §3 <c>kind</c>): a diffraction pattern or an absorption spectrum.</summary>
public enum FrameKind
{
    /// <summary>A reduced 1D diffraction pattern (intensity against 2θ or q).</summary>
    Xrd,
    /// <summary>An absorption spectrum (normalised μ against energy).</summary>
    Xas,
}

/// <summary>The three things the controller decides.</summary>
public enum DecisionKind
{
    /// <summary>Where on the electrode to measure next.</summary>
    Roi,
    /// <summary>The C-rate of the next constant-current step.</summary>
    CRate,
    /// <summary>The energies of the next absorption scan.</summary>
    EnergyRange,
}

/// <summary>Who chose a spot or a setting: a strategy, an operator, or nobody known (a frame re-analysed after a crash).</summary>
public enum DecisionSource
{
    Learner,
    Raster,
    Random,
    Operator,
    /// <summary>An observation rebuilt after a crash from a stored frame whose journal record was lost; its chooser is not known.</summary>
    Recovered,
}

/// <summary>
/// The names people and files use for these kinds (<c>xrd</c>, <c>c_rate</c>, <c>learner</c>): the same as the journal's
/// and the console's, so that what a dashboard prints is what a journal reader greps for.
/// </summary>
public static class KindNames
{
    public static string Name(this FrameKind kind) => Snake(kind.ToString());

    public static string Name(this DecisionKind kind) => Snake(kind.ToString());

    public static string Name(this DecisionSource source) => Snake(source.ToString());

    private static string Snake(string pascal) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(pascal);
}

namespace AutonomousBeamline.Core.Materials;

/// <summary>The absorption edges the edge table knows.</summary>
public enum EdgeKind
{
    K,
    L3,
}

/// <summary>An element's absorption edge and its tabulated energy (the elemental edge; compounds sit a few eV above).</summary>
public sealed record AbsorptionEdge(string Element, EdgeKind Edge, double EnergyEv)
{
    public override string ToString() => FormattableString.Invariant($"{Element} {Edge} ({EnergyEv:0.#} eV)");
}

/// <summary>
/// Edge energies of the elements found in battery electrodes (Ti to Zn, Nb, Mo, Sn; K and L3), in eV, after the
/// X-ray Data Booklet (Bearden and Burr). The analyser searches the edge near these when no reference gives it.
/// </summary>
public static class EdgeTable
{
    private static readonly Dictionary<string, (double K, double L3)> Edges = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Ti"] = (4966.4, 453.8),
        ["V"] = (5465.1, 512.1),
        ["Cr"] = (5989.2, 574.1),
        ["Mn"] = (6539.0, 638.7),
        ["Fe"] = (7112.0, 706.8),
        ["Co"] = (7708.9, 778.1),
        ["Ni"] = (8332.8, 852.7),
        ["Cu"] = (8978.9, 932.7),
        ["Zn"] = (9658.6, 1021.8),
        ["Nb"] = (18985.6, 2370.5),
        ["Mo"] = (19999.5, 2520.2),
        ["Sn"] = (29200.1, 3928.8),
    };

    public static IReadOnlyCollection<string> Elements => Edges.Keys;

    public static bool TryParseEdge(string text, out EdgeKind edge) => Enum.TryParse(text?.Trim(), ignoreCase: true, out edge) && Enum.IsDefined(edge);

    /// <summary>The edge, or null when the table does not have the element.</summary>
    public static AbsorptionEdge? Find(string element, EdgeKind edge)
    {
        if (element is null || !Edges.TryGetValue(element.Trim(), out var energies)) return null;
        var symbol = Edges.Keys.First(k => string.Equals(k, element.Trim(), StringComparison.OrdinalIgnoreCase));
        return new AbsorptionEdge(symbol, edge, edge == EdgeKind.K ? energies.K : energies.L3);
    }

    public static AbsorptionEdge Get(string element, EdgeKind edge) =>
        Find(element, edge) ?? throw new ArgumentException($"the edge table has no element '{element}'; it knows {string.Join(", ", Edges.Keys)}", nameof(element));
}

/// <summary>A reference absorption spectrum: normalised μ (0 below the edge, 1 far above) as a function of energy.</summary>
public interface IAbsorptionReference
{
    string Name { get; }

    double Mu(double energyEv);
}

/// <summary>A measured reference spectrum (energy, normalised μ), linearly interpolated; flat beyond its ends.</summary>
public sealed class TabulatedSpectrum : IAbsorptionReference
{
    private readonly double[] _e;
    private readonly double[] _mu;

    public TabulatedSpectrum(string name, IReadOnlyList<double> energiesEv, IReadOnlyList<double> mu)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (energiesEv.Count != mu.Count || energiesEv.Count < 8) throw new ArgumentException($"reference spectrum {name} needs at least 8 (energy, μ) pairs");
        for (var i = 1; i < energiesEv.Count; i++)
            if (!(energiesEv[i] > energiesEv[i - 1])) throw new ArgumentException($"reference spectrum {name}: energies must increase");
        Name = name;
        _e = energiesEv.ToArray();
        _mu = mu.ToArray();
    }

    public string Name { get; }
    public double FirstEv => _e[0];
    public double LastEv => _e[^1];

    /// <summary>The same spectrum with its energies moved by <paramref name="shiftEv"/> and its structure above the step scaled (a deliberately different sample).</summary>
    public TabulatedSpectrum Altered(double shiftEv, double structureScale) =>
        new(Name, _e.Select(e => e + shiftEv).ToArray(), _mu.Select(m => 1 + (m - 1) * (m > 1 ? structureScale : 1)).ToArray());

    public double Mu(double energyEv)
    {
        if (energyEv <= _e[0]) return _mu[0];
        if (energyEv >= _e[^1]) return _mu[^1];
        var hi = Array.BinarySearch(_e, energyEv);
        if (hi >= 0) return _mu[hi];
        hi = ~hi;
        var lo = hi - 1;
        return _mu[lo] + (energyEv - _e[lo]) / (_e[hi] - _e[lo]) * (_mu[hi] - _mu[lo]);
    }
}

/// <summary>
/// What the absorption analyser is told about the sample: the edge (element and kind, from the table) and the reference
/// spectra the fit may combine (none: the edge is still located, and a spectrum is decomposed without references).
/// </summary>
public sealed record AbsorptionMaterials(AbsorptionEdge Edge, IReadOnlyList<IAbsorptionReference> References);

/// <summary>What the diffraction analyser is told: the phases a pattern may contain (none: decomposed without references).</summary>
public sealed record DiffractionMaterials(IReadOnlyList<IDiffractionPhase> Phases, PeakShape Shape)
{
    /// <summary>Per phase: how far (relative) its spacings may move, a solid solution's lattice change; the rest a few 10⁻⁴.</summary>
    public IReadOnlyDictionary<string, double> MaximumStrain { get; init; } = new Dictionary<string, double>();
}

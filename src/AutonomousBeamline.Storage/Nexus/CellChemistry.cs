namespace AutonomousBeamline.Storage;

/// <summary>An electrode material: its name, formula and the EMMO/BattINFO class it is an instance of.</summary>
public sealed record ElectrodeMaterial(string Name, string? Formula, string? EmmoClass);

/// <summary>
/// The cell's electrodes read from the config's chemistry (<c>positive/negative</c>, e.g. <c>LFP/Li</c>). The materials
/// section of the config (issue 13) will name them directly; until then the few the project knows are listed here,
/// and anything else is kept by name with no class.
/// </summary>
public sealed record CellChemistry(ElectrodeMaterial Positive, ElectrodeMaterial Negative)
{
    private static readonly Dictionary<string, ElectrodeMaterial> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        ["LFP"] = new("lithium iron phosphate", "LiFePO4", "LithiumIronPhosphate"),
        ["LiFePO4"] = new("lithium iron phosphate", "LiFePO4", "LithiumIronPhosphate"),
        ["Li"] = new("lithium metal", "Li", "Lithium"),
        ["graphite"] = new("graphite", "C", "Graphite"),
        ["NMC"] = new("lithium nickel manganese cobalt oxide", null, "LithiumNickelManganeseCobaltOxide"),
        ["LCO"] = new("lithium cobalt oxide", "LiCoO2", "LithiumCobaltOxide"),
    };

    public static CellChemistry Parse(string chemistry)
    {
        var parts = chemistry.Split('/', 2, StringSplitOptions.TrimEntries);
        return new CellChemistry(Material(parts[0]), Material(parts.Length > 1 ? parts[1] : ""));
    }

    private static ElectrodeMaterial Material(string name) =>
        Known.TryGetValue(name, out var known) ? known : new ElectrodeMaterial(name, null, null);
}

using System.Text;
using System.Text.Json.Nodes;

namespace AutonomousBeamline.Storage;

/// <summary>
/// The run's metadata as JSON-LD in the BattINFO vocabulary (the battery domain of EMMO), <c>metadata.jsonld</c>: the
/// cell, its electrodes and their active materials, its nominal capacity and voltage window, and the test (the run)
/// with its data files. Terms are BattINFO's class and property names under its JSON-LD context; materials the project
/// does not know are kept by name with the generic class.
/// </summary>
public static class RunMetadataFile
{
    public const string FileName = "metadata.jsonld";
    public const string Context = "https://w3id.org/emmo/domain/battery/context";

    public static string Write(RecordedRun run, RunDescription description)
    {
        var path = Path.Combine(run.Directory, FileName);
        var text = Build(run, description).ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
        WholeFile.Write(path, stream => stream.Write(new UTF8Encoding(false).GetBytes(text + "\n")));
        return path;
    }

    public static JsonObject Build(RecordedRun run, RunDescription description)
    {
        var cell = description.Cell;
        var chemistry = CellChemistry.Parse(cell.Chemistry);
        return new JsonObject
        {
            ["@context"] = new JsonArray(Context, new JsonObject { ["rdfs"] = "http://www.w3.org/2000/01/rdf-schema#", ["schema"] = "https://schema.org/" }),
            ["@id"] = $"urn:autonomous-beamline:run:{run.RunId}",
            ["@type"] = "BatteryTest",
            ["rdfs:label"] = $"{run.Experiment} ({description.Mode})",
            ["hasTestObject"] = new JsonObject
            {
                ["@id"] = $"urn:autonomous-beamline:run:{run.RunId}:cell",
                ["@type"] = "BatteryCell",
                ["rdfs:label"] = description.SampleName,
                ["hasPositiveElectrode"] = Electrode(chemistry.Positive),
                ["hasNegativeElectrode"] = Electrode(chemistry.Negative),
                ["hasProperty"] = new JsonArray(
                    Quantity("NominalCapacity", cell.NominalCapacityAh, "AmpereHour"),
                    Quantity("LowerVoltageLimit", cell.VoltageMinV, "Volt"),
                    Quantity("UpperVoltageLimit", cell.VoltageMaxV, "Volt")),
            },
            ["hasBeginTime"] = NexusFields.Iso(run.StartedAt),
            ["hasEndTime"] = NexusFields.Iso(run.EndedAt),
            ["hasOperator"] = description.Operator,
            ["hasOutput"] = new JsonArray(
                File(NexusMasterFile.FileName, "application/x-hdf5", "NeXus master file"),
                File(BatteryDataFile.FileName, "text/csv", "Battery Data Format cycler export"),
                File(EventDocumentsFile.FileName, "application/x-ndjson", "Bluesky event-model documents"),
                File(RunFolder.JournalFileName, "application/x-ndjson", "the run's journal (source of truth)")),
        };
    }

    private static JsonObject Electrode(ElectrodeMaterial material) => new()
    {
        ["@type"] = "Electrode",
        ["hasActiveMaterial"] = new JsonObject
        {
            ["@type"] = material.EmmoClass ?? "ActiveMaterial",
            ["rdfs:label"] = material.Name,
            ["schema:chemicalFormula"] = material.Formula,
        },
    };

    private static JsonObject Quantity(string type, double value, string unit) => new()
    {
        ["@type"] = type,
        ["hasNumericalPart"] = new JsonObject { ["@type"] = "RealData", ["hasNumberValue"] = value },
        ["hasMeasurementUnit"] = unit,
    };

    private static JsonObject File(string name, string mediaType, string what) => new()
    {
        ["@type"] = "schema:Dataset",
        ["schema:name"] = name,
        ["schema:encodingFormat"] = mediaType,
        ["schema:description"] = what,
    };
}

using System.Text.Json.Nodes;

namespace AutonomousBeamline.Storage.Tests;

public sealed class CyclerAndMetadataTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task The_cycler_export_has_the_battery_data_format_columns_and_the_journals_samples()
    {
        await SampleRun.WriteAsync(_folder.Path);
        var path = BatteryDataFile.Write(RecordedRun.Read(_folder.Path));
        Assert.Equal("ok", Python.Run("check_bdf.py", _folder.Path).Trim());
        // The sample run charges for 5 samples and rests for 1: two steps, and the charge counted at 5 mA.
        var last = File.ReadLines(path).Last().Split(',');
        Assert.Equal("2", last[5]);
        Assert.True(double.Parse(last[7], System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    /// <summary>
    /// Column titles of the Battery Data Alliance's BDF table schema 1.2.0 (schema/schema.json of
    /// battery-data-format-ontology) that this export uses; a tool that maps columns by these titles finds them.
    /// </summary>
    private static readonly string[] BdfTitles =
    [
        "Test Time / s", "Unix Time / s", "Voltage / V", "Current / A", "Cycle Count / 1", "Step Count / 1", "Step Index / 1",
        "Charging Capacity / Ah", "Discharging Capacity / Ah", "Temperature T1 / degC",
    ];

    [Fact]
    public void Every_column_but_the_state_of_charge_has_a_title_of_the_BDF_table_schema()
    {
        // BDF 1.2.0 has no state-of-charge column; ours is an extra one, which BDF readers pass over (docs/data.md).
        Assert.Equal(["State of Charge / 1"], BatteryDataFile.Columns.Except(BdfTitles));
        Assert.Equal(BatteryDataFile.Columns.Count, BatteryDataFile.Columns.Distinct().Count());
    }

    [Fact]
    public async Task The_metadata_names_the_cell_its_materials_and_its_window_in_battinfo_terms()
    {
        await SampleRun.WriteAsync(_folder.Path);
        var path = RunMetadataFile.Write(RecordedRun.Read(_folder.Path), SampleRun.Description);
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Equal(RunMetadataFile.Context, (string?)json["@context"]![0]);
        Assert.Equal("BatteryTest", (string?)json["@type"]);
        var cell = json["hasTestObject"]!;
        Assert.Equal("BatteryCell", (string?)cell["@type"]);
        Assert.Equal("LithiumIronPhosphate", (string?)cell["hasPositiveElectrode"]!["hasActiveMaterial"]!["@type"]);
        Assert.Equal("LiFePO4", (string?)cell["hasPositiveElectrode"]!["hasActiveMaterial"]!["schema:chemicalFormula"]);
        Assert.Equal("Lithium", (string?)cell["hasNegativeElectrode"]!["hasActiveMaterial"]!["@type"]);
        var capacity = cell["hasProperty"]!.AsArray().Single(p => (string?)p!["@type"] == "NominalCapacity")!;
        Assert.Equal(0.005, (double)capacity["hasNumericalPart"]!["hasNumberValue"]!);
        Assert.Equal("AmpereHour", (string?)capacity["hasMeasurementUnit"]);
        Assert.Equal(4.0, (double)cell["hasProperty"]!.AsArray().Single(p => (string?)p!["@type"] == "UpperVoltageLimit")!["hasNumericalPart"]!["hasNumberValue"]!);
    }

    [Fact]
    public void A_chemistry_the_project_does_not_know_is_kept_by_name()
    {
        var chemistry = CellChemistry.Parse("LMFP / Si-graphite");
        Assert.Equal("LMFP", chemistry.Positive.Name);
        Assert.Null(chemistry.Positive.EmmoClass);
        Assert.Equal("Si-graphite", chemistry.Negative.Name);
    }
}

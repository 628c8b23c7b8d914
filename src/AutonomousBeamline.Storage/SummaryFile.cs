using System.Text.Json;
using AutonomousBeamline.Control.Engine;

namespace AutonomousBeamline.Storage;

/// <summary>summary.json: the run's summary, indented for people, in the run folder's JSON conventions (snake_case, enums by name).</summary>
public static class SummaryFile
{
    private static readonly JsonSerializerOptions Indented = new(RunFolderJson.Options) { WriteIndented = true };

    /// <summary>Writes <paramref name="summary"/> to <paramref name="path"/> whole (a temporary file, renamed), replacing any earlier one.</summary>
    public static void Write(string path, RunSummary summary) =>
        WholeFile.Write(path, stream => JsonSerializer.Serialize(stream, summary, Indented));
}

namespace AutonomousBeamline.Storage;

/// <summary>A file the exports could not write; the run's record (journal.jsonl, frames.jsonl) is untouched by it.</summary>
public sealed record ExportFailure(string File, string Reason);

/// <summary>What <see cref="RunExports.Write"/> wrote and what it could not.</summary>
public sealed record ExportResult(IReadOnlyList<string> Written, IReadOnlyList<ExportFailure> Failures, IReadOnlyList<string> Warnings);

/// <summary>
/// The run's standard files, derived from its record: the NeXus master (run.nxs), the event-model documents
/// (documents.jsonl), the cycler export in the Battery Data Format (cycler.bdf.csv) and the BattINFO metadata (metadata.jsonld). Written at the end of every run, when a run is resumed, and by <c>beamline report</c>; each is
/// written whole and replaces the last, so writing them again is always safe. One that fails does not stop the others.
/// </summary>
public static class RunExports
{
    public static ExportResult Write(RecordedRun run, RunDescription description)
    {
        var written = new List<string>();
        var failures = new List<ExportFailure>();
        var warnings = run.Warnings.Select(w => w.ToString()).ToList();
        Try(NexusMasterFile.FileName, () => NexusMasterFile.Write(run, description));
        Try(EventDocumentsFile.FileName, () => EventDocumentsFile.Write(run, description, warnings.Add));
        Try(BatteryDataFile.FileName, () => BatteryDataFile.Write(run));
        Try(RunMetadataFile.FileName, () => RunMetadataFile.Write(run, description));
        return new ExportResult(written, failures, warnings);

        void Try(string file, Func<string> write)
        {
            // Whatever goes wrong in one export (a full disk, a bug): the others and the run's record stay.
            try { written.Add(write()); }
            catch (Exception e) { failures.Add(new ExportFailure(file, e.Message)); }
        }
    }
}

namespace AutonomousBeamline.Storage.Tests;

public sealed class NexusMasterFileTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task The_master_file_has_classes_definitions_defaults_units_and_the_journals_data_as_h5py_reads_it()
    {
        await SampleRun.WriteAsync(_folder.Path);
        NexusMasterFile.Write(RecordedRun.Read(_folder.Path), SampleRun.Description);
        Assert.Equal("ok", Python.Run("check_nexus.py", _folder.Path).Trim());
    }

    [Fact]
    public async Task A_master_file_that_disagrees_with_the_journal_is_caught_by_the_check()
    {
        await SampleRun.WriteAsync(_folder.Path);
        var run = RecordedRun.Read(_folder.Path);
        // One observation fewer than the journal has: the check must notice.
        NexusMasterFile.Write(run with { Observations = run.Observations.Skip(1).ToList() }, SampleRun.Description);
        var e = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Python.Run("check_nexus.py", _folder.Path));
        Assert.Contains("observation sequences", e.Message);
    }
}

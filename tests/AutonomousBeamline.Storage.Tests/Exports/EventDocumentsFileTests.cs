using System.Text.Json.Nodes;

namespace AutonomousBeamline.Storage.Tests;

public sealed class EventDocumentsFileTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Every_document_has_the_schemas_required_keys_and_the_datums_reach_the_frames_in_the_blocks()
    {
        await SampleRun.WriteAsync(_folder.Path);
        EventDocumentsFile.Write(RecordedRun.Read(_folder.Path), SampleRun.Description);
        Assert.Equal("ok", Python.Run("check_documents.py", _folder.Path).Trim());
    }

    [Fact]
    public async Task The_same_run_gives_the_same_documents()
    {
        await SampleRun.WriteAsync(_folder.Path);
        var path = EventDocumentsFile.Write(RecordedRun.Read(_folder.Path), SampleRun.Description);
        var first = File.ReadAllText(path);
        EventDocumentsFile.Write(RecordedRun.Read(_folder.Path), SampleRun.Description);
        Assert.Equal(first, File.ReadAllText(path));
    }

    [Fact]
    public async Task A_run_that_stopped_without_its_end_says_so_in_the_stop_document()
    {
        await SampleRun.WriteAsync(_folder.Path, end: false);
        var path = EventDocumentsFile.Write(RecordedRun.Read(_folder.Path), SampleRun.Description);
        var stop = JsonNode.Parse(File.ReadLines(path).Last())!.AsArray();
        Assert.Equal("stop", (string?)stop[0]);
        Assert.Equal("fail", (string?)stop[1]!["exit_status"]);
        Assert.Contains("without run_end", (string?)stop[1]!["reason"]);
    }

    [Fact]
    public async Task A_document_missing_a_required_key_is_caught_by_the_check()
    {
        await SampleRun.WriteAsync(_folder.Path);
        var path = EventDocumentsFile.Write(RecordedRun.Read(_folder.Path), SampleRun.Description);
        var lines = File.ReadAllLines(path);
        var i = Array.FindIndex(lines, l => l.StartsWith("[\"event\"", StringComparison.Ordinal));
        var e = JsonNode.Parse(lines[i])!.AsArray();
        e[1]!.AsObject().Remove("seq_num");
        lines[i] = e.ToJsonString();
        File.WriteAllLines(path, lines);
        var failure = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Python.Run("check_documents.py", _folder.Path));
        Assert.Contains("lacks ['seq_num']", failure.Message);
    }
}

using AutonomousBeamline.Control.StateMachine;

namespace AutonomousBeamline.Control.Tests.StateMachine;

/// <summary>Keeps docs/state-machine.md in step with the code: the diagram there is exported from the machine.</summary>
public class StateMachineDocTests
{
    private static string DocPath()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AutonomousBeamline.sln"))) dir = dir.Parent;
        return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("repository root not found"), "docs", "state-machine.md");
    }

    private static string Block(string text, string fence)
    {
        var start = text.IndexOf(fence, StringComparison.Ordinal);
        Assert.True(start >= 0, $"docs/state-machine.md has no {fence} block");
        start += fence.Length;
        var end = text.IndexOf("```", start, StringComparison.Ordinal);
        return text[start..end].Trim().ReplaceLineEndings("\n");
    }

    [Fact]
    public void The_documented_graph_is_the_one_in_the_code()
    {
        var machine = new ExperimentStateMachine();
        var mermaid = machine.ToMermaidGraph().Trim().ReplaceLineEndings("\n");
        var path = DocPath();
        if (Environment.GetEnvironmentVariable("UPDATE_DOCS") == "1")
        {
            var text = File.ReadAllText(path);
            var start = text.IndexOf("```mermaid", StringComparison.Ordinal) + "```mermaid".Length;
            var end = text.IndexOf("```", start, StringComparison.Ordinal);
            File.WriteAllText(path, text[..start] + "\n" + mermaid + "\n" + text[end..]);
        }
        Assert.True(Block(File.ReadAllText(path), "```mermaid") == mermaid,
            "docs/state-machine.md is out of date with ExperimentStateMachine; regenerate it with UPDATE_DOCS=1 dotnet test --filter StateMachineDocTests");
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using AutonomousBeamline.Storage;

namespace AutonomousBeamline.Cli.OperatorConsole;

/// <summary>Where a console attaches: the endpoint, its status stream if known, and the run it means to steer.</summary>
/// <param name="RunId">The run the console's commands are for; null when only an endpoint was given (the endpoint says).</param>
/// <param name="From">How it was found, for the console's first line.</param>
internal sealed record AttachTarget(string Endpoint, string? StatusEndpoint, string? RunId, string From);

/// <summary>The console could not tell which run to attach to; the message says why and what to give instead.</summary>
internal sealed class RunNotFoundException(string message) : Exception(message);

/// <summary>
/// Finds the run a bare <c>beamline console</c> means: the one run folder under the output folder that a controller
/// is serving (its <c>operator.json</c>, written when the endpoint is bound, and no <c>summary.json</c> yet, which is
/// written when the run ends), or the folder given with <c>--run</c>. Never a guess: none or several is an error
/// naming them, since a console attached to the wrong run steers the wrong cell.
/// </summary>
internal static class RunLocator
{
    public const string OperatorFileName = "operator.json";

    /// <summary>The run in <paramref name="runDir"/>, from its operator.json.</summary>
    public static AttachTarget FromRunFolder(string runDir)
    {
        var file = Path.Combine(runDir, OperatorFileName);
        if (!File.Exists(file))
            throw new RunNotFoundException($"{runDir} has no {OperatorFileName}: not a run folder, or its run has no operator endpoint");
        if (File.Exists(Path.Combine(runDir, RunFolder.SummaryFileName)))
            throw new RunNotFoundException($"the run in {runDir} has ended ({RunFolder.SummaryFileName} is written); there is nothing to attach to");
        JsonObject? json;
        try { json = JsonNode.Parse(File.ReadAllText(file)) as JsonObject; }
        catch (JsonException e) { throw new RunNotFoundException($"{file} is not readable JSON: {e.Message}"); }
        if (json?["endpoint"] is not JsonValue endpoint || !endpoint.TryGetValue<string>(out var at) || ConsoleCommand.TcpEndpointProblem(at) is not null)
            throw new RunNotFoundException($"{file} names no tcp://HOST:PORT \"endpoint\"");
        var status = json["status"] is JsonValue s && s.TryGetValue<string>(out var statusAt) && ConsoleCommand.TcpEndpointProblem(statusAt) is null ? statusAt : null;
        var runId = json["run_id"] is JsonValue r && r.TryGetValue<string>(out var id) && id.Length > 0
            ? id
            : Path.GetFileName(Path.TrimEndingDirectorySeparator(runDir));
        return new AttachTarget(at, status, runId, runDir);
    }

    /// <summary>The one running run under <paramref name="runsDir"/>.</summary>
    public static AttachTarget FindRunning(string runsDir)
    {
        var running = Directory.Exists(runsDir)
            ? Directory.GetDirectories(runsDir)
                .Where(d => File.Exists(Path.Combine(d, OperatorFileName)) && !File.Exists(Path.Combine(d, RunFolder.SummaryFileName)))
                .OrderByDescending(d => File.GetLastWriteTimeUtc(Path.Combine(d, OperatorFileName)))
                .ToList()
            : [];
        return running switch
        {
            [] => throw new RunNotFoundException(
                $"no running run under {Path.GetFullPath(runsDir)} (a run folder with {OperatorFileName} and no {RunFolder.SummaryFileName}); " +
                "give the run's folder with --run RUN_DIR, its output folder with --out DIR, or its ENDPOINT"),
            [var only] => FromRunFolder(only),
            _ => throw new RunNotFoundException(
                $"{running.Count} runs are running under {Path.GetFullPath(runsDir)}: {string.Join(", ", running.Select(Path.GetFileName))}; " +
                "pick one with --run RUN_DIR (newest first)"),
        };
    }
}

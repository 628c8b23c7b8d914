using Serilog;
using Serilog.Events;
using Serilog.Sinks.SystemConsole.Themes;

namespace AutonomousBeamline.Cli.Feedback;

/// <summary>
/// The one logger of a run: what the program says goes to the terminal as plain lines (warnings and errors to standard
/// error) and, with a timestamp and level, to <c>run.log</c> in the run folder, so that what was said is kept with the data.
/// </summary>
internal static class RunLog
{
    public const string FileName = "run.log";

    public static Serilog.Core.Logger Create(string runDir) => new LoggerConfiguration()
        .MinimumLevel.Information()
        .WriteTo.Console(outputTemplate: "{Message:lj}{NewLine}", theme: ConsoleTheme.None, standardErrorFromLevel: LogEventLevel.Warning,
            formatProvider: System.Globalization.CultureInfo.InvariantCulture)
        .WriteTo.File(Path.Combine(runDir, FileName), outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} [{Level:u3}] {Message:lj}{NewLine}",
            formatProvider: System.Globalization.CultureInfo.InvariantCulture)
        .CreateLogger();

    /// <summary>A line for the terminal and the log; the text is kept as it is (no message-template holes).</summary>
    public static void Line(this ILogger log, string text) => log.Information("{Text:l}", text);

    /// <summary>A warning or an error line (standard error and the log).</summary>
    public static void Problem(this ILogger log, string text) => log.Warning("{Text:l}", text);
}

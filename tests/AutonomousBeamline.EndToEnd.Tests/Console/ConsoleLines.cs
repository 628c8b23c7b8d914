using AutonomousBeamline.Cli.OperatorConsole;
using AutonomousBeamline.Operator;

namespace AutonomousBeamline.EndToEnd.Tests.OperatorConsole;

/// <summary>Console lines sent from a test as the console sends them: parsed with its grammar, then sent as their command.</summary>
internal static class ConsoleLines
{
    /// <exception cref="ArgumentException">The line is malformed, or is not a controller command (help, status, quit); nothing is sent.</exception>
    public static Task<OperatorReply> SendLineAsync(this OperatorClient client, string line, CancellationToken cancellationToken = default)
    {
        var parsed = ConsoleLineParser.ParseLine(line, client.Identity);
        return parsed.Kind switch
        {
            ConsoleLineKind.Command => client.SendAsync(parsed.Command!, cancellationToken),
            ConsoleLineKind.Error => throw new ArgumentException(parsed.Error, nameof(line)),
            _ => throw new ArgumentException($"'{line}' is not a command for the controller ({parsed.Kind})", nameof(line)),
        };
    }
}

using System.CommandLine;
using System.Runtime.InteropServices;
using AutonomousBeamline.Cli.OperatorConsole;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Operator;
using Spectre.Console;

namespace AutonomousBeamline.Cli;

/// <summary>`beamline console [ENDPOINT]`: attach a live dashboard and command line to a running controller.</summary>
public static class ConsoleCommand
{
    /// <summary>The controller's operator endpoint when nothing else is configured.</summary>
    public const string DefaultEndpoint = "tcp://127.0.0.1:5560";

    /// <summary>Where a bare <c>beamline console</c> looks for the running run (the config's default output.directory).</summary>
    public const string DefaultRunsFolder = "runs";

    /// <summary>Environment variable holding the console's CURVE secret key, so it stays off the command line.</summary>
    public const string SecretKeyVariable = "BEAMLINE_CONSOLE_SECRET_KEY";

    public static Command Create()
    {
        var endpoint = new Argument<string?>("ENDPOINT")
        {
            Description = "the controller's operator endpoint (default: the running run under --out, from its operator.json)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        endpoint.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && TcpEndpointProblem(value) is { } problem) result.AddError($"ENDPOINT {problem}");
        });
        var run = new Option<string?>("--run") { Description = "the run folder of the run to attach to (its operator.json names the endpoint)" };
        var runs = new Option<string?>("--out") { Description = $"where run folders are, to find the running one (default {DefaultRunsFolder})" };
        var status = new Option<string?>("--status") { Description = "the status stream endpoint (default: asked of the controller)" };
        status.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && TcpEndpointProblem(value) is { } problem) result.AddError($"--status {problem}");
        });
        var user = new Option<string?>("--user") { Description = "who you are in the audit trail (default: your login name)" };
        var serverKey = new Option<string?>("--server-key") { Description = "the controller's CURVE public key (Z85); needed beyond loopback" };
        var secretKeyFile = new Option<string?>("--secret-key-file")
        {
            Description = $"file with this console's CURVE secret key (Z85); or set {SecretKeyVariable}",
        };
        var timeout = new Option<double>("--timeout")
        {
            Description = "seconds to wait for each reply before retrying",
            DefaultValueFactory = _ => 2.0,
        };
        var once = new Option<bool>("--once") { Description = "print the dashboard once and exit (no command line)" };

        var command = new Command("console", "Attach a live dashboard and command line to a running controller; detaching leaves the run alone.")
        {
            endpoint, run, runs, status, user, serverKey, secretKeyFile, timeout, once,
        };
        command.Validators.Add(r =>
        {
            if (r.GetResult(endpoint) is { Tokens.Count: > 0 } && (r.GetResult(run) is not null || r.GetResult(runs) is not null))
                r.AddError("give ENDPOINT or --run/--out, not both: the endpoint would decide which run you steer");
        });
        command.Subcommands.Add(KeysCommand());
        command.SetAction((parse, ct) => RunAsync(
            parse.GetValue(endpoint), parse.GetValue(run), parse.GetValue(runs), parse.GetValue(status), parse.GetValue(user), parse.GetValue(serverKey),
            parse.GetValue(secretKeyFile), parse.GetValue(timeout), parse.GetValue(once), ct));
        return command;
    }

    /// <summary>Why a text is not a tcp://HOST:PORT endpoint, or null when it is one.</summary>
    internal static string? TcpEndpointProblem(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || !text.StartsWith("tcp://", StringComparison.Ordinal))
            return $"must be tcp://HOST:PORT, got '{text}'";
        var colon = text.LastIndexOf(':');
        if (colon <= "tcp://".Length || !int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            return $"needs a port from 1 to 65535, got '{text}'";
        return null;
    }

    /// <summary>`beamline console keys`: a fresh CURVE key pair for the controller or a console.</summary>
    private static Command KeysCommand()
    {
        var keys = new Command("keys", "Print a new CURVE key pair (Z85): give the public key to the other side, keep the secret key private.");
        keys.SetAction(_ =>
        {
            var (publicKey, secretKey) = OperatorCurveKeys.NewKeyPair();
            Console.WriteLine($"public: {publicKey}");
            Console.WriteLine($"secret: {secretKey}");
            return 0;
        });
        return keys;
    }

    private static async Task<int> RunAsync(string? endpoint, string? runDir, string? runsDir, string? statusEndpoint, string? user, string? serverKey,
        string? secretKeyFile, double timeoutS, bool once, CancellationToken cancellationToken)
    {
        AttachTarget target;
        try
        {
            target = endpoint is not null ? new AttachTarget(endpoint, null, null, "ENDPOINT")
                : runDir is not null ? RunLocator.FromRunFolder(runDir)
                : RunLocator.FindRunning(runsDir ?? DefaultRunsFolder);
        }
        catch (RunNotFoundException e)
        {
            await Console.Error.WriteLineAsync($"console: {e.Message}").ConfigureAwait(false);
            return 2;
        }
        statusEndpoint ??= target.StatusEndpoint;
        OperatorClient client;
        try
        {
            client = new OperatorClient(target.Endpoint, Identity(user), new OperatorClientOptions
            {
                RunId = target.RunId,
                ReplyTimeout = timeoutS > 0 && double.IsFinite(timeoutS)
                    ? TimeSpan.FromSeconds(timeoutS)
                    : throw new ArgumentException($"--timeout must be positive seconds, got {timeoutS}"),
                Curve = Curve(serverKey, secretKeyFile),
            });
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"console: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
        // Ctrl-C must end the session through its token, so the live display restores the cursor and the
        // sockets close in order; left to the default, the signal kills the process mid-frame.
        using var detach = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            detach.Cancel();
        });
        cancellationToken = detach.Token;
        using (client)
        {
            if (await RunBindingProblemAsync(client, target, cancellationToken).ConfigureAwait(false) is { } problem)
            {
                await Console.Error.WriteLineAsync($"console: {problem}").ConfigureAwait(false);
                return 1;
            }
            IAnsiConsoleInput input = Console.IsInputRedirected ? new LineReaderInput(Console.In) : new TerminalKeyInput();
            var session = new ConsoleSession(AnsiConsole.Console, input, client, new ConsoleSessionOptions { StatusEndpoint = statusEndpoint });
            return once
                ? await session.PrintOnceAsync(cancellationToken).ConfigureAwait(false)
                : await session.RunAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The run the endpoint serves, shown before anything else; null when it is the run meant, else why the console
    /// refuses to attach (a port a new run took over from the one named). A controller that does not answer yet is
    /// left to the dashboard when the endpoint was named, but refused when a run folder was: it may be gone.
    /// </summary>
    private static async Task<string?> RunBindingProblemAsync(OperatorClient client, AttachTarget target, CancellationToken ct)
    {
        string served;
        try { served = await client.EndpointRunIdAsync(ct).ConfigureAwait(false); }
        catch (OperatorEndpointUnreachableException) when (target.RunId is null)
        {
            return null;
        }
        catch (Exception e) when (e is OperatorEndpointUnreachableException or OperatorProtocolException)
        {
            return $"{target.Endpoint} (from {target.From}): {e.Message}";
        }
        if (target.RunId is not null && served != target.RunId)
            return $"{target.Endpoint} (from {target.From}) serves run {served}, not {target.RunId}: that run has ended or moved, and this is another run's endpoint; not attaching";
        Console.WriteLine($"run {served} at {target.Endpoint} (from {target.From})");
        return null;
    }

    private static OperatorIdentity Identity(string? user)
    {
        var local = OperatorClient.LocalIdentity();
        return string.IsNullOrWhiteSpace(user) ? local : local with { User = user.Trim() };
    }

    private static OperatorClientCurve? Curve(string? serverKey, string? secretKeyFile)
    {
        var secret = secretKeyFile is not null
            ? File.ReadAllText(secretKeyFile).Trim()
            : Environment.GetEnvironmentVariable(SecretKeyVariable)?.Trim();
        if (serverKey is null && string.IsNullOrEmpty(secret)) return null;
        if (serverKey is null) throw new ArgumentException("a CURVE secret key was given but no --server-key");
        if (string.IsNullOrEmpty(secret)) throw new ArgumentException($"--server-key needs this console's secret key (--secret-key-file or {SecretKeyVariable})");
        return new OperatorClientCurve(serverKey.Trim(), secret);
    }
}

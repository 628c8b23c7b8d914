using System.Globalization;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Operator;
using Spectre.Console;

namespace AutonomousBeamline.Cli.OperatorConsole;

public sealed record ConsoleSessionOptions
{
    /// <summary>The status stream; null asks the endpoint ("describe") for its port.</summary>
    public string? StatusEndpoint { get; init; }

    /// <summary>How often the screen is redrawn and keys are read.</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>No status for this long and the header says the stream has stalled.</summary>
    public TimeSpan StaleAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>While the endpoint is unreachable, how often to try again.</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(3);
}

/// <summary>
/// One attached console: the live dashboard and the command line under it. Leaving (quit, Ctrl-C, end of the
/// token) only closes this side's sockets; the controller never hears of it, so detaching cannot disturb a run.
/// </summary>
public sealed class ConsoleSession
{
    private const int KeptMessages = 50;

    private readonly IAnsiConsole _console;
    private readonly IAnsiConsoleInput _input;
    private readonly OperatorClient _client;
    private readonly ConsoleSessionOptions _options;
    private readonly List<ConsoleMessage> _messages = [];
    private OperatorStatusSubscriber? _subscriber;
    private ExperimentSnapshot? _polled;
    private DateTimeOffset _polledAt;
    private DateTimeOffset _nextAttempt = DateTimeOffset.MinValue;
    private string? _connectionProblem = "connecting...";
    private string _line = "";
    private bool _showHelp;

    public ConsoleSession(IAnsiConsole console, IAnsiConsoleInput input, OperatorClient client, ConsoleSessionOptions? options = null)
    {
        _console = console ?? throw new ArgumentNullException(nameof(console));
        _input = input ?? throw new ArgumentNullException(nameof(input));
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _options = options ?? new ConsoleSessionOptions();
    }

    /// <summary>Runs until the operator quits or <paramref name="cancellationToken"/> fires. Returns the exit code (0).</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ConnectAsync(cancellationToken).ConfigureAwait(false);
            await _console.Live(DashboardView.Render(Model()))
                .AutoClear(false)
                .Overflow(VerticalOverflow.Ellipsis)
                .StartAsync(ctx => LoopAsync(ctx, cancellationToken))
                .ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            _subscriber?.Dispose();
            _subscriber = null;
        }
        _console.MarkupLine("[grey]console detached; the run goes on.[/]");
        return 0;
    }

    /// <summary>Fetches the state once and prints the dashboard, for scripts and quick looks.</summary>
    public async Task<int> PrintOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            _polled = await _client.SnapshotAsync(cancellationToken).ConfigureAwait(false);
            _polledAt = DateTimeOffset.UtcNow;
            _connectionProblem = null;
        }
        catch (Exception ex) when (ex is OperatorEndpointUnreachableException or OperatorProtocolException)
        {
            _console.MarkupLine($"[red]{Markup.Escape(ex.Message)}[/]");
            return 1;
        }
        _console.Write(DashboardView.Render(Model()));
        return 0;
    }

    private async Task LoopAsync(LiveDisplayContext ctx, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (_subscriber is null || _polled is null) await ConnectAsync(cancellationToken).ConfigureAwait(false);
            while (_input.IsKeyAvailable())
            {
                if (_input.ReadKey(intercept: true) is not { } key) break;
                if (key.Key == ConsoleKey.Enter)
                {
                    var line = _line;
                    _line = "";
                    ctx.UpdateTarget(DashboardView.Render(Model()));
                    ctx.Refresh();
                    if (!await SubmitAsync(line, cancellationToken).ConfigureAwait(false)) return;
                }
                else if (key.Key == ConsoleKey.Backspace)
                {
                    if (_line.Length > 0) _line = _line[..^1];
                }
                else if (key.Key == ConsoleKey.Escape)
                {
                    _line = "";
                }
                else if (!char.IsControl(key.KeyChar) && _line.Length < 200)
                {
                    _line += key.KeyChar;
                }
            }
            ctx.UpdateTarget(DashboardView.Render(Model()));
            ctx.Refresh();
            await Task.Delay(_options.RefreshInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Handles one entered line; false when the operator asked to leave.</summary>
    private async Task<bool> SubmitAsync(string line, CancellationToken cancellationToken)
    {
        var parsed = ConsoleLineParser.ParseLine(line, _client.Identity);
        switch (parsed.Kind)
        {
            case ConsoleLineKind.Empty:
                return true;
            case ConsoleLineKind.Quit:
                return false;
            case ConsoleLineKind.Help:
                _showHelp = !_showHelp;
                return true;
            case ConsoleLineKind.Error:
                Say(false, parsed.Error!);
                return true;
            case ConsoleLineKind.Status:
                try
                {
                    _polled = await _client.SnapshotAsync(cancellationToken).ConfigureAwait(false);
                    _polledAt = DateTimeOffset.UtcNow;
                    Say(true, $"state {_polled.State}");
                }
                catch (Exception ex) when (ex is OperatorEndpointUnreachableException or OperatorProtocolException)
                {
                    Say(false, ex.Message);
                }
                return true;
            case ConsoleLineKind.Command:
                try
                {
                    var reply = await _client.SendAsync(parsed.Command!, cancellationToken).ConfigureAwait(false);
                    var verb = line.Trim().Split(' ', 2)[0];
                    Say(reply.Ok, reply.Ok
                        ? $"{verb}: {reply.Message}"
                        : $"{verb} refused ({reply.ErrorCode}): {reply.Message}");
                }
                catch (Exception ex) when (ex is OperatorEndpointUnreachableException or OperatorProtocolException)
                {
                    // The command may or may not have arrived; the status stream will tell.
                    Say(false, $"{ex.Message} (check the state before resending)");
                }
                return true;
            default:
                throw new InvalidOperationException($"unhandled console line kind {parsed.Kind}");
        }
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        if (DateTimeOffset.UtcNow < _nextAttempt) return;
        _nextAttempt = DateTimeOffset.UtcNow + _options.RetryInterval;
        try
        {
            if (_subscriber is null)
            {
                var statusEndpoint = _options.StatusEndpoint ?? await _client.StatusEndpointAsync(cancellationToken).ConfigureAwait(false);
                _subscriber = _client.Subscribe(statusEndpoint);
            }
            if (_polled is null)
            {
                _polled = await _client.SnapshotAsync(cancellationToken).ConfigureAwait(false);
                _polledAt = DateTimeOffset.UtcNow;
            }
            _connectionProblem = null;
        }
        catch (Exception ex) when (ex is OperatorEndpointUnreachableException or OperatorProtocolException)
        {
            _connectionProblem = $"not connected: {ex.Message}";
        }
    }

    private void Say(bool ok, string text)
    {
        _messages.Add(new ConsoleMessage(DateTimeOffset.Now, ok, text));
        if (_messages.Count > KeptMessages) _messages.RemoveAt(0);
    }

    private DashboardModel Model()
    {
        var streamed = _subscriber?.Latest;
        var streamedAt = _subscriber?.ReceivedAt ?? DateTimeOffset.MinValue;
        var useStream = streamed is not null && streamedAt >= _polledAt;
        var snapshot = useStream ? streamed : _polled;
        var freshAt = useStream ? streamedAt : _polledAt;
        var problem = _connectionProblem;
        if (problem is null && snapshot is not null && DateTimeOffset.UtcNow - freshAt > _options.StaleAfter)
            problem = $"no status for {(DateTimeOffset.UtcNow - freshAt).TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s";
        return new DashboardModel
        {
            Endpoint = _client.Endpoint,
            Snapshot = snapshot,
            ConnectionProblem = problem,
            Messages = _messages.ToArray(),
            Input = _line,
            ShowHelp = _showHelp,
        };
    }
}

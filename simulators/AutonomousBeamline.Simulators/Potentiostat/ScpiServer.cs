using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace AutonomousBeamline.Simulators.Potentiostat;

/// <summary>
/// The instrument side of FACILITY-ICD §1: a line-oriented SCPI interpreter for a Keithley 2450-class
/// SourceMeter in front of an <see cref="ISimulatedSourceMeter"/>. It knows nothing of transports: a host feeds
/// it received lines and writes back the reply lines it returns.
/// </summary>
/// <remarks>
/// Parsing follows IEEE 488.2 / SCPI-99 as the ICD states it: keywords match in short or long form only
/// (case-insensitive), optional nodes may be left out, the leading colon is optional, compound units are joined
/// by ';' and a unit after ';' resolves against the previous unit's parent node unless it starts with ':' or '*'.
/// A failed unit queues its error and stops the rest of its line.
/// </remarks>
public sealed partial class ScpiServer
{
    public const string DefaultIdentity = "AutonomousBeamline,SIM-2450-EC,SIM0001,1.0.0";

    private readonly object _gate = new();
    private readonly ISimulatedSourceMeter _instrument;
    private readonly string _identity;
    private readonly int _errorQueueCapacity;
    private readonly List<(int Code, string Message)> _errors = new();
    private readonly Node _root;

    public ScpiServer(ISimulatedSourceMeter instrument, string identity = DefaultIdentity, int errorQueueCapacity = 10)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        ArgumentException.ThrowIfNullOrWhiteSpace(identity);
        if (errorQueueCapacity < 10)
            throw new ArgumentOutOfRangeException(nameof(errorQueueCapacity), errorQueueCapacity, "the ICD requires an error queue at least 10 deep");
        _instrument = instrument;
        _identity = identity;
        _errorQueueCapacity = errorQueueCapacity;
        _root = BuildTree();
    }

    public ScpiServerFaults Faults { get; } = new();

    /// <summary>Entries waiting in the error queue (for tests and diagnostics).</summary>
    public int PendingErrors
    {
        get { lock (_gate) return _errors.Count; }
    }

    /// <summary>Interprets one received line (terminator already removed; a trailing CR is ignored) and returns its reply lines.</summary>
    public IReadOnlyList<string> ProcessLine(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var replies = new List<string>();
        lock (_gate)
        {
            var path = _root;
            foreach (var unit in SplitUnits(line.TrimEnd('\r', '\n')))
            {
                var trimmed = unit.Trim();
                if (trimmed.Length == 0) continue;
                try
                {
                    path = ExecuteUnit(trimmed, path, replies);
                }
                catch (ScpiFailure failure)
                {
                    PushError(failure.Code, failure.Text);
                    break;
                }
            }
        }
        var sent = new List<string>(replies.Count);
        foreach (var reply in replies)
        {
            if (Faults.FilterReply(reply) is { } filtered) sent.Add(filtered);
        }
        return sent;
    }

    private Node ExecuteUnit(string unit, Node path, List<string> replies)
    {
        var split = unit.IndexOfAny([' ', '\t']);
        var header = split < 0 ? unit : unit[..split];
        var parameterText = split < 0 ? "" : unit[(split + 1)..].Trim();
        var parameters = SplitParameters(parameterText);
        var isQuery = header.EndsWith('?');

        if (header.StartsWith('*'))
        {
            ExecuteCommon(header.ToUpperInvariant(), parameters, replies);
            return path;
        }

        var absolute = header.StartsWith(':');
        var body = header[(absolute ? 1 : 0)..(isQuery ? header.Length - 1 : header.Length)];
        var tokens = body.Split(':');
        if (tokens.Any(t => !KeywordForm().IsMatch(t))) throw Undefined(header);

        var start = absolute ? _root : path;
        var match = Resolve(start, tokens, 0, isQuery, new List<Node>()) ?? throw Undefined(header);
        var (target, explicitNodes) = match;

        if (!isQuery)
        {
            if (Faults.TakeCommandError() is { } injected) throw new ScpiFailure(injected.Code, injected.Message);
            target.Command!(RequireOneParameter(parameters, header));
        }
        else
        {
            if (parameters.Count > 0) throw new ScpiFailure(-108, $"Parameter not allowed;{header}");
            replies.Add(target.Query!());
        }
        return explicitNodes[^1].Parent ?? _root;
    }

    private void ExecuteCommon(string header, IReadOnlyList<string> parameters, List<string> replies)
    {
        if (parameters.Count > 0) throw new ScpiFailure(-108, $"Parameter not allowed;{header}");
        switch (header)
        {
            case "*IDN?":
                replies.Add(_identity);
                break;
            case "*RST":
                _instrument.Reset();
                break;
            case "*CLS":
                _errors.Clear();
                break;
            case "*OPC?":
                // Every command completes before the next is parsed, so operation complete is immediate.
                replies.Add("1");
                break;
            case "*OPC" or "*WAI":
                break;
            default:
                throw Undefined(header);
        }
    }

    /// <summary>
    /// Walks the tree from <paramref name="node"/> matching <paramref name="tokens"/>; an optional node may be
    /// skipped. Succeeds only on a node that handles the requested form (command or query).
    /// </summary>
    private static (Node Target, List<Node> Explicit)? Resolve(Node node, string[] tokens, int index, bool isQuery, List<Node> explicitNodes)
    {
        if (index == tokens.Length)
        {
            if (explicitNodes.Count > 0 && (isQuery ? node.Query is not null : node.Command is not null))
                return (node, explicitNodes);
            foreach (var child in node.Children.Where(c => c.Optional))
            {
                if (Resolve(child, tokens, index, isQuery, explicitNodes) is { } viaDefault) return viaDefault;
            }
            return null;
        }
        foreach (var child in node.Children)
        {
            if (child.Matches(tokens[index]))
            {
                var extended = new List<Node>(explicitNodes) { child };
                if (Resolve(child, tokens, index + 1, isQuery, extended) is { } found) return found;
            }
            if (child.Optional && Resolve(child, tokens, index, isQuery, explicitNodes) is { } skipping) return skipping;
        }
        return null;
    }

    private void PushError(int code, string text)
    {
        if (_errors.Count < _errorQueueCapacity) _errors.Add((code, text));
        else _errors[^1] = (-350, "Queue overflow");
    }

    private string PopError()
    {
        if (_errors.Count == 0) return "0,\"No error\"";
        var (code, text) = _errors[0];
        _errors.RemoveAt(0);
        return $"{code.ToString(CultureInfo.InvariantCulture)},\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
    }

    private Node BuildTree()
    {
        var root = new Node("ROOT");

        var system = root.Add(new Node("SYSTem"));
        var error = system.Add(new Node("ERRor") { Query = PopError });
        error.Add(new Node("NEXT", optional: true) { Query = PopError });

        var source = root.Add(new Node("SOURce"));
        source.Add(new Node("FUNCtion")
        {
            Command = value =>
            {
                var function = ParseFunction(value);
                // As on the 2450, a change of source function turns the output off first.
                if (function != _instrument.Function) _instrument.OutputOn = false;
                _instrument.Function = function;
            },
            Query = () => _instrument.Function == SourceFunction.Current ? "CURR" : "VOLT",
        });

        var current = source.Add(new Node("CURRent"));
        current.Add(new Node("LEVel", optional: true)
        {
            Command = value => Set(value, "current level", _instrument.Ratings.IsCurrentLevelInRange, v => _instrument.CurrentLevelA = v),
            Query = () => Nr3(_instrument.CurrentLevelA),
        });
        var voltageLimit = current.Add(new Node("VLIMit")
        {
            Command = value => Set(value, "voltage limit", _instrument.Ratings.IsVoltageLimitInRange, v => _instrument.VoltageLimitV = v),
            Query = () => Nr3(_instrument.VoltageLimitV),
        });
        voltageLimit.Add(new Node("TRIPped") { Query = () => Bool(_instrument.VoltageLimitTripped) });

        var voltage = source.Add(new Node("VOLTage"));
        voltage.Add(new Node("LEVel", optional: true)
        {
            Command = value => Set(value, "voltage level", _instrument.Ratings.IsVoltageLevelInRange, v => _instrument.VoltageLevelV = v),
            Query = () => Nr3(_instrument.VoltageLevelV),
        });
        var currentLimit = voltage.Add(new Node("ILIMit")
        {
            Command = value => Set(value, "current limit", _instrument.Ratings.IsCurrentLimitInRange, v => _instrument.CurrentLimitA = v),
            Query = () => Nr3(_instrument.CurrentLimitA),
        });
        currentLimit.Add(new Node("TRIPped") { Query = () => Bool(_instrument.CurrentLimitTripped) });

        var output = root.Add(new Node("OUTPut"));
        output.Add(new Node("STATe", optional: true)
        {
            Command = value => _instrument.OutputOn = ParseBoolean(value),
            Query = () => Bool(_instrument.OutputOn),
        });

        var measure = root.Add(new Node("MEASure"));
        measure.Add(new Node("VOLTage") { Query = () => Nr3(_instrument.MeasureVoltage()) });
        measure.Add(new Node("CURRent") { Query = () => Nr3(_instrument.MeasureCurrent()) });
        // An extension (docs/scpi.md): the cell's thermocouple, for the temperature suspender.
        measure.Add(new Node("TEMPerature") { Query = () => Nr3(_instrument.MeasureTemperature() + Faults.ExtraHeatC) });
        return root;
    }

    private static void Set(string text, string what, Func<double, bool> inRange, Action<double> apply)
    {
        var value = ParseNumber(text);
        if (!inRange(value))
            throw new ScpiFailure(-222, $"Data out of range;{what} {text}");
        apply(value);
    }

    private static double ParseNumber(string text)
    {
        if (!NumericForm().IsMatch(text) ||
            !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            throw new ScpiFailure(-104, $"Data type error;expected a number, got {text}");
        return value;
    }

    private static bool ParseBoolean(string text) => text.ToUpperInvariant() switch
    {
        "ON" or "1" => true,
        "OFF" or "0" => false,
        _ => throw new ScpiFailure(-104, $"Data type error;expected ON, OFF, 1 or 0, got {text}"),
    };

    private static SourceFunction ParseFunction(string text)
    {
        if (Keyword.Matches("CURRent", text)) return SourceFunction.Current;
        if (Keyword.Matches("VOLTage", text)) return SourceFunction.Voltage;
        throw new ScpiFailure(-104, $"Data type error;expected CURRent or VOLTage, got {text}");
    }

    private static string RequireOneParameter(IReadOnlyList<string> parameters, string header) => parameters.Count switch
    {
        0 => throw new ScpiFailure(-109, $"Missing parameter;{header}"),
        1 when parameters[0].Length == 0 => throw new ScpiFailure(-109, $"Missing parameter;{header}"),
        1 => parameters[0],
        _ => throw new ScpiFailure(-108, $"Parameter not allowed;{header} takes one parameter"),
    };

    private static string Nr3(double value) =>
        double.IsFinite(value) ? value.ToString("0.000000E+00", CultureInfo.InvariantCulture) : "9.900000E+37";

    private static string Bool(bool value) => value ? "1" : "0";

    private static ScpiFailure Undefined(string header) => new(-113, $"Undefined header;{header}");

    /// <summary>Splits on ';' outside quoted strings.</summary>
    private static List<string> SplitUnits(string line) => SplitOutsideQuotes(line, ';');

    private static List<string> SplitParameters(string text) =>
        text.Length == 0 ? new List<string>() : SplitOutsideQuotes(text, ',').Select(p => p.Trim()).ToList();

    private static List<string> SplitOutsideQuotes(string text, char separator)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        char? quote = null;
        foreach (var c in text)
        {
            if (quote is not null)
            {
                if (c == quote) quote = null;
                current.Append(c);
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                current.Append(c);
            }
            else if (c == separator)
            {
                parts.Add(current.ToString());
                current.Clear();
            }
            else current.Append(c);
        }
        parts.Add(current.ToString());
        return parts;
    }

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex KeywordForm();

    [GeneratedRegex(@"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex NumericForm();

    private static class Keyword
    {
        /// <summary>Short form = the capitals of the mnemonic; long form = all of it; nothing in between.</summary>
        public static bool Matches(string mnemonic, string candidate)
        {
            var shortForm = new string(mnemonic.TakeWhile(char.IsUpper).ToArray());
            return candidate.Equals(shortForm, StringComparison.OrdinalIgnoreCase)
                || candidate.Equals(mnemonic, StringComparison.OrdinalIgnoreCase);
        }
    }

    private sealed class Node(string mnemonic, bool optional = false)
    {
        public string Mnemonic { get; } = mnemonic;
        public bool Optional { get; } = optional;
        public Node? Parent { get; private set; }
        public List<Node> Children { get; } = new();
        public Action<string>? Command { get; init; }
        public Func<string>? Query { get; init; }

        public bool Matches(string token) => Keyword.Matches(Mnemonic, token);

        public Node Add(Node child)
        {
            child.Parent = this;
            Children.Add(child);
            return child;
        }
    }

    private sealed class ScpiFailure(int code, string text) : Exception(text)
    {
        public int Code { get; } = code;
        public string Text { get; } = text;
    }
}

using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace AutonomousBeamline.Configuration;

/// <summary>One thing wrong with a config file: which field, where, and why.</summary>
public sealed record ConfigError(string Path, int Line, string Message)
{
    public override string ToString() => Line > 0 ? $"line {Line}: {Path}: {Message}" : $"{Path}: {Message}";
}

/// <summary>The config file could not be used. <see cref="Errors"/> lists every problem found.</summary>
public sealed class ConfigException(string file, IReadOnlyList<ConfigError> errors)
    : Exception($"{file}: {errors.Count} problem(s):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors))
{
    public string File { get; } = file;
    public IReadOnlyList<ConfigError> Errors { get; } = errors;
}

/// <summary>Reads and validates an experiment file. Every error names the field and its line.</summary>
/// <remarks>
/// <c>faultKinds</c> is the simulators' fault vocabulary, for <c>simulation.faults</c>; without it fault devices and
/// kinds are not checked (see <see cref="ConfigValidator.Validate"/>).
/// </remarks>
public static class ConfigLoader
{
    public static ExperimentConfig Load(string path, IReadOnlyDictionary<string, string[]>? faultKinds = null)
    {
        if (!System.IO.File.Exists(path))
            throw new ConfigException(path, [new ConfigError("(file)", 0, "no such file")]);
        return Parse(System.IO.File.ReadAllText(path), path, faultKinds, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <param name="baseDirectory">Where relative reference files are; the working directory when null.</param>
    public static ExperimentConfig Parse(string yaml, string sourceName = "(config)", IReadOnlyDictionary<string, string[]>? faultKinds = null,
        string? baseDirectory = null)
    {
        var lines = new YamlLineIndex();
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            if (stream.Documents.Count > 0) lines.Index(stream.Documents[0].RootNode, "");
        }
        catch (YamlException e)
        {
            throw new ConfigException(sourceName, [new ConfigError("(syntax)", (int)e.Start.Line, Clean(e))]);
        }

        ExperimentConfig config;
        try
        {
            var deserializer = new DeserializerBuilder()
                .WithNamingConvention(UnderscoredNamingConvention.Instance)
                .Build();
            config = deserializer.Deserialize<ExperimentConfig?>(yaml) ?? new ExperimentConfig();
        }
        catch (YamlException e)
        {
            var line = (int)e.Start.Line;
            throw new ConfigException(sourceName, [new ConfigError(lines.PathAt(line) ?? "(value)", line, Clean(e))]);
        }

        config.BaseDirectory = baseDirectory ?? Directory.GetCurrentDirectory();
        var errors = ConfigValidator.Validate(config, faultKinds)
            .Select(e => e with { Line = lines.LineOf(e.Path) })
            .ToList();
        if (errors.Count > 0) throw new ConfigException(sourceName, errors);
        return config;
    }

    private static string Clean(YamlException e)
    {
        // YamlDotNet prefixes its own "(Line: 3, Col: 5, Idx: …) - (…):" location; we print ours.
        var message = e.InnerException?.Message ?? e.Message;
        var cut = message.LastIndexOf("): ", StringComparison.Ordinal);
        return cut >= 0 && message.StartsWith("(Line", StringComparison.Ordinal) ? message[(cut + 3)..] : message;
    }

    /// <summary>Where each dotted path (cell.voltage_max_v, protocol.steps[1].c_rate) stands in the file.</summary>
    private sealed class YamlLineIndex
    {
        private readonly Dictionary<string, int> _lines = new(StringComparer.Ordinal);

        public void Index(YamlNode node, string path)
        {
            _lines.TryAdd(path, (int)node.Start.Line);
            switch (node)
            {
                case YamlMappingNode map:
                    foreach (var (key, value) in map.Children)
                    {
                        var name = (key as YamlScalarNode)?.Value ?? "?";
                        var childPath = path.Length == 0 ? name : $"{path}.{name}";
                        _lines[childPath] = (int)key.Start.Line;
                        Index(value, childPath);
                        _lines[childPath] = (int)key.Start.Line;
                    }
                    break;
                case YamlSequenceNode sequence:
                    for (var i = 0; i < sequence.Children.Count; i++)
                        Index(sequence.Children[i], $"{path}[{i}]");
                    break;
            }
        }

        /// <summary>The line of the path, or of its nearest ancestor that is in the file.</summary>
        public int LineOf(string path)
        {
            for (var p = path; ; p = Parent(p))
            {
                if (_lines.TryGetValue(p, out var line)) return line;
                if (p.Length == 0) return 0;
            }
        }

        public string? PathAt(int line) =>
            _lines.Where(kv => kv.Value == line && kv.Key.Length > 0).Select(kv => kv.Key).OrderByDescending(k => k.Length).FirstOrDefault();

        private static string Parent(string path)
        {
            var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
            return cut <= 0 ? "" : path[..cut];
        }
    }
}

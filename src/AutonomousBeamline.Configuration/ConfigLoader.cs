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
        var file = new FileInfo(path);
        if (!file.Exists)
            throw new ConfigException(path, [new ConfigError("(file)", 0, "no such file")]);
        // Checked before reading: a huge file is refused without filling memory.
        if (file.Length > BoundedYamlReader.MaxChars * 4L)
            throw new ConfigException(path, [new ConfigError("(file)", 0, $"is {file.Length:N0} bytes long; an experiment file may have at most {BoundedYamlReader.MaxChars:N0} characters")]);
        return Parse(System.IO.File.ReadAllText(path), path, faultKinds, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>
    /// Reads, binds and validates an experiment file. Every problem is listed (syntax and limits stop the reading;
    /// after that unknown keys, values of the wrong kind, missing fields and broken rules are all collected), each
    /// with its path and line.
    /// </summary>
    /// <param name="baseDirectory">Where relative reference files are; the working directory when null.</param>
    public static ExperimentConfig Parse(string yaml, string sourceName = "(config)", IReadOnlyDictionary<string, string[]>? faultKinds = null,
        string? baseDirectory = null)
    {
        var (root, problems) = BoundedYamlReader.Read(yaml, sourceName);
        var binder = new SchemaBinder();
        var config = binder.BindRoot<ExperimentConfig>(root);
        config.BaseDirectory = baseDirectory ?? Directory.GetCurrentDirectory();
        problems.AddRange(binder.Problems);
        // A field already reported (missing, of the wrong kind) holds its default, which the rules would report again.
        var reported = problems.Select(p => p.Path).ToList();
        var lines = new LineIndex(binder.Lines);
        problems.AddRange(ConfigValidator.Validate(config, faultKinds)
            .Where(e => !reported.Any(r => Covers(r, e.Path)))
            .Select(e => e with { Line = lines.LineOf(e.Path) }));
        if (problems.Count > 0) throw new ConfigException(sourceName, problems.OrderBy(p => p.Line == 0 ? int.MaxValue : p.Line).ToList());
        return config;
    }

    private static bool Covers(string reported, string path) =>
        path == reported || path.StartsWith(reported + ".", StringComparison.Ordinal) || path.StartsWith(reported + "[", StringComparison.Ordinal);

    /// <summary>The line of a dotted path, or of its nearest ancestor that is in the file.</summary>
    private sealed class LineIndex(Dictionary<string, int> lines)
    {
        public int LineOf(string path)
        {
            for (var p = path; ; p = Parent(p))
            {
                if (lines.TryGetValue(p, out var line)) return line;
                if (p.Length == 0) return 0;
            }
        }

        private static string Parent(string path)
        {
            var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
            return cut <= 0 ? "" : path[..cut];
        }
    }
}

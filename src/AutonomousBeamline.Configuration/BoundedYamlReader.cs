using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace AutonomousBeamline.Configuration;

/// <summary>A value of a YAML file as read, with where it stands.</summary>
internal abstract record YamlValue(int Line);

/// <summary>A scalar. <see cref="Plain"/>: written without quotes, so <c>~</c>, <c>null</c> and nothing at all mean "no value".</summary>
internal sealed record YamlText(string Text, bool Plain, int Line) : YamlValue(Line)
{
    public bool IsNull => Plain && Text is "" or "~" or "null" or "Null" or "NULL";
}

internal sealed record YamlList(List<YamlValue> Items, int Line) : YamlValue(Line);

internal sealed record YamlMap(List<(YamlText Key, YamlValue Value)> Entries, int Line) : YamlValue(Line);

/// <summary>
/// Reads a YAML document into <see cref="YamlValue"/>s from the parser's event stream, without recursion, within
/// limits that no experiment file comes near: so that no file can crash the reader (100,000 nested brackets) or hang it
/// (an alias bomb: aliases are shared, never copied, and the values they stand for are counted as if expanded).
/// Duplicate keys are problems, listed with both lines; the first value is kept.
/// </summary>
internal static class BoundedYamlReader
{
    /// <summary>The most characters an experiment file may have (they are a few kB).</summary>
    public const int MaxChars = 1 << 20;

    /// <summary>How deep mappings and lists may nest (a protocol's loops nest four deep, at about twelve levels).</summary>
    public const int MaxDepth = 48;

    /// <summary>The most values a file may stand for, aliases expanded.</summary>
    public const long MaxValues = 200_000;

    private sealed class Open(YamlValue container, string? anchor, string path)
    {
        public YamlValue Container { get; } = container;
        public string Path { get; } = path;
        public string? Anchor { get; } = anchor;
        public long Size { get; set; } = 1;
        public YamlText? PendingKey { get; set; }
        public bool DropValue { get; set; }
        public Dictionary<string, int> Keys { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>The first document's root (null for an empty file), and the problems that still let the rest be read.</summary>
    /// <exception cref="ConfigException">The file cannot be read at all: syntax, size, depth, aliases.</exception>
    public static (YamlValue? Root, List<ConfigError> Problems) Read(string yaml, string sourceName)
    {
        if (yaml.Length > MaxChars)
            throw Fatal(sourceName, "(file)", 0, $"is {yaml.Length:N0} characters long; an experiment file may have at most {MaxChars:N0}");
        var problems = new List<ConfigError>();
        var anchors = new Dictionary<string, (YamlValue Value, long Size)>(StringComparer.Ordinal);
        var stack = new Stack<Open>();
        YamlValue? root = null;
        long total = 0;
        var (documents, lastLine) = (0, 1);
        var parser = new Parser(new StringReader(yaml));

        void Attach(YamlValue value, long size, int line)
        {
            total += size;
            if (total > MaxValues)
                throw Fatal(sourceName, "(file)", line, $"stands for more than {MaxValues:N0} values (aliases expanded); an experiment file is far smaller");
            if (stack.Count == 0)
            {
                root ??= value;
                return;
            }
            var top = stack.Peek();
            top.Size += size;
            switch (top.Container)
            {
                case YamlList list:
                    list.Items.Add(value);
                    break;
                case YamlMap map when top.PendingKey is null:
                    if (value is not YamlText key)
                    {
                        problems.Add(new ConfigError("(key)", line, "a key must be a plain name, not a list or a mapping"));
                        top.PendingKey = new YamlText("", true, line);
                        top.DropValue = true;
                    }
                    else if (top.Keys.TryGetValue(key.Text, out var firstLine))
                    {
                        problems.Add(new ConfigError(Join(top.Path, key.Text), line, $"duplicate key '{key.Text}' (first given on line {firstLine}); the first is kept"));
                        (top.PendingKey, top.DropValue) = (key, true);
                    }
                    else
                    {
                        top.Keys[key.Text] = line;
                        (top.PendingKey, top.DropValue) = (key, false);
                    }
                    break;
                case YamlMap map:
                    if (!top.DropValue) map.Entries.Add((top.PendingKey!, value));
                    top.PendingKey = null;
                    break;
            }
        }

        try
        {
            while (parser.MoveNext())
            {
                var e = parser.Current!;
                var line = lastLine = (int)e.Start.Line;
                switch (e)
                {
                    case DocumentStart when ++documents > 1:
                        problems.Add(new ConfigError("(file)", line, "holds more than one YAML document; an experiment file is one"));
                        return (root, problems);
                    case Scalar s:
                    {
                        var text = new YamlText(s.Value, s.Style == ScalarStyle.Plain && s.Tag.IsEmpty, line);
                        if (!s.Anchor.IsEmpty) anchors[s.Anchor.Value] = (text, 1);
                        Attach(text, 1, line);
                        break;
                    }
                    case SequenceStart start:
                        Push(new YamlList(new List<YamlValue>(), line), start.Anchor, line);
                        break;
                    case MappingStart start:
                        Push(new YamlMap(new List<(YamlText, YamlValue)>(), line), start.Anchor, line);
                        break;
                    case SequenceEnd or MappingEnd:
                    {
                        var done = stack.Pop();
                        if (done.Anchor is { } name) anchors[name] = (done.Container, done.Size);
                        total -= done.Size; // counted again as a whole where it is attached
                        Attach(done.Container, done.Size, line);
                        break;
                    }
                    case AnchorAlias alias:
                        if (!anchors.TryGetValue(alias.Value.Value, out var anchored))
                            throw Fatal(sourceName, "(alias)", line, $"*{alias.Value.Value} refers to no anchor (&{alias.Value.Value}) before it");
                        Attach(anchored.Value, anchored.Size, line);
                        break;
                }
            }
        }
        catch (YamlException e)
        {
            throw Fatal(sourceName, "(syntax)", (int)e.Start.Line, Clean(e));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException)
        {
            // The parser's own state broke on this input (a fuzzer found YamlDotNet's scanner doing so): still a syntax error.
            throw Fatal(sourceName, "(syntax)", lastLine, "the YAML cannot be read after this line (check quotes, brackets and indentation)");
        }
        return (root, problems);

        void Push(YamlValue container, AnchorName anchor, int line)
        {
            if (stack.Count >= MaxDepth)
                throw Fatal(sourceName, "(file)", line, $"nests lists and mappings more than {MaxDepth} deep; an experiment file needs far fewer");
            total += 1;
            if (total > MaxValues)
                throw Fatal(sourceName, "(file)", line, $"stands for more than {MaxValues:N0} values (aliases expanded); an experiment file is far smaller");
            var path = stack.Count == 0 ? "" : stack.Peek() switch
            {
                { Container: YamlList list } parent => $"{parent.Path}[{list.Items.Count}]",
                { PendingKey: { } key } parent => Join(parent.Path, key.Text),
                var parent => parent.Path,
            };
            stack.Push(new Open(container, anchor.IsEmpty ? null : anchor.Value, path));
        }
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static ConfigException Fatal(string sourceName, string path, int line, string message) =>
        new(sourceName, [new ConfigError(path, line, message)]);

    private static string Clean(YamlException e)
    {
        // YamlDotNet prefixes its own "(Line: 3, Col: 5, Idx: …) - (…):" location; we print ours.
        var message = e.InnerException?.Message ?? e.Message;
        var cut = message.LastIndexOf("): ", StringComparison.Ordinal);
        return cut >= 0 && message.StartsWith("(Line", StringComparison.Ordinal) ? message[(cut + 3)..] : message;
    }
}

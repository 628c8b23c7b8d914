using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using YamlDotNet.Serialization.NamingConventions;

namespace AutonomousBeamline.Configuration;

/// <summary>
/// Fills the config's classes from a <see cref="YamlValue"/> tree, listing every problem instead of stopping at the
/// first: an unknown key (with the nearest known one), a value of the wrong kind (named as a person would name it: a
/// number, text, a list; never a .NET type), a number that is not finite, a required field left out. Keys are the
/// snake_case of the property names; a property marked <see cref="RequiredAttribute"/> must be given. New sections need
/// nothing here: any class of settable properties of these kinds binds.
/// </summary>
internal sealed class SchemaBinder
{
    /// <summary>How deep the schema itself may be followed (loops of protocol steps nest; nothing else comes close).</summary>
    private const int MaxSchemaDepth = 32;

    private static readonly NullabilityInfoContext Nullability = new();

    public List<ConfigError> Problems { get; } = new();

    /// <summary>Where each dotted path (cell.voltage_max_v, protocol.steps[1].c_rate) stands in the file.</summary>
    public Dictionary<string, int> Lines { get; } = new(StringComparer.Ordinal);

    public T BindRoot<T>(YamlValue? root) where T : class, new()
    {
        Lines[""] = root?.Line ?? 0;
        if (root is null or YamlText { IsNull: true }) return BindMap<T>(new YamlMap([], 1), "");
        if (root is not YamlMap map)
        {
            Fail("(file)", root.Line, "must be a mapping of sections (experiment:, cell:, protocol:, …)");
            return new T();
        }
        return BindMap<T>(map, "");
    }

    private T BindMap<T>(YamlMap map, string path) where T : class, new() => (T)BindObject(map, typeof(T), path, 0);

    private object BindObject(YamlMap map, Type type, string path, int depth)
    {
        var instance = Activator.CreateInstance(type)!;
        var properties = Fields(type);
        var given = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in map.Entries)
        {
            var childPath = Join(path, key.Text);
            if (!properties.TryGetValue(key.Text, out var property))
            {
                Fail(childPath, key.Line, Unknown(key.Text, path, properties.Keys));
                continue;
            }
            given.Add(key.Text);
            Lines[childPath] = key.Line;
            if (Bind(value, property.PropertyType, IsNullable(property), childPath, depth + 1, out var bound)) property.SetValue(instance, bound);
        }
        foreach (var (name, property) in properties)
            if (!given.Contains(name) && property.GetCustomAttribute<RequiredAttribute>() is not null)
                Fail(Join(path, name), map.Line, $"is required ({Expected(property.PropertyType)})");
        return instance;
    }

    private bool Bind(YamlValue value, Type type, bool nullable, string path, int depth, out object? bound)
    {
        bound = null;
        if (depth > MaxSchemaDepth)
        {
            Fail(path, value.Line, $"nests deeper than {MaxSchemaDepth} levels");
            return false;
        }
        if (value is YamlText { IsNull: true })
        {
            if (nullable) return true;
            return Fail(path, value.Line, $"needs a value ({Expected(type)})");
        }
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(string))
        {
            if (value is YamlText text) { bound = text.Text; return true; }
            return Fail(path, value.Line, $"expected text, got {Kind(value)}");
        }
        if (underlying == typeof(double))
        {
            if (value is not YamlText text || !TryNumber(text.Text, out var number))
                return Fail(path, value.Line, $"expected a number, got {Shown(value)}");
            if (!double.IsFinite(number)) return Fail(path, value.Line, $"must be a finite number, got {text.Text}");
            bound = number;
            return true;
        }
        if (underlying == typeof(int) || underlying == typeof(long))
        {
            var (min, max) = underlying == typeof(int) ? (int.MinValue, (long)int.MaxValue) : (long.MinValue, long.MaxValue);
            if (value is not YamlText text || !long.TryParse(text.Text.Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole))
                return Fail(path, value.Line, $"expected a whole number, got {Shown(value)}");
            if (whole < min || whole > max) return Fail(path, value.Line, $"expected a whole number from {min} to {max}, got {whole}");
            bound = underlying == typeof(int) ? (object)(int)whole : whole;
            return true;
        }
        if (underlying == typeof(bool))
        {
            if (value is YamlText { Text: "true" or "True" or "TRUE" }) { bound = true; return true; }
            if (value is YamlText { Text: "false" or "False" or "FALSE" }) { bound = false; return true; }
            return Fail(path, value.Line, $"expected true or false, got {Shown(value)}");
        }
        if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(List<>))
        {
            if (value is not YamlList list) return Fail(path, value.Line, $"expected a list, got {Kind(value)}");
            var itemType = underlying.GetGenericArguments()[0];
            var result = (System.Collections.IList)Activator.CreateInstance(underlying)!;
            var ok = true;
            for (var i = 0; i < list.Items.Count; i++)
            {
                var itemPath = $"{path}[{i}]";
                Lines[itemPath] = list.Items[i].Line;
                if (Bind(list.Items[i], itemType, false, itemPath, depth + 1, out var item)) result.Add(item);
                else ok = false;
            }
            bound = result;
            return ok;
        }
        if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(Dictionary<,>) && underlying.GetGenericArguments()[0] == typeof(string))
        {
            if (value is not YamlMap map) return Fail(path, value.Line, $"expected a mapping of names to values, got {Kind(value)}");
            var valueType = underlying.GetGenericArguments()[1];
            var result = (System.Collections.IDictionary)Activator.CreateInstance(underlying)!;
            var ok = true;
            foreach (var (key, entry) in map.Entries)
            {
                var entryPath = Join(path, key.Text);
                Lines[entryPath] = key.Line;
                if (Bind(entry, valueType, false, entryPath, depth + 1, out var item)) result[key.Text] = item;
                else ok = false;
            }
            bound = result;
            return ok;
        }
        if (underlying.IsClass && underlying.GetConstructor(Type.EmptyTypes) is not null)
        {
            if (value is not YamlMap map) return Fail(path, value.Line, $"expected a section of keys ({Expected(underlying)}), got {Kind(value)}");
            bound = BindObject(map, underlying, path, depth);
            return true;
        }
        return Fail(path, value.Line, "cannot be given in a file");
    }

    private bool Fail(string path, int line, string message)
    {
        Problems.Add(new ConfigError(path, line, message));
        return false;
    }

    /// <summary>Numbers as YAML writes them: decimals and exponents, and the special .nan and .inf (refused later, by name).</summary>
    private static bool TryNumber(string text, out double number)
    {
        switch (text)
        {
            case ".nan" or ".NaN" or ".NAN": number = double.NaN; return true;
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF": number = double.PositiveInfinity; return true;
            case "-.inf" or "-.Inf" or "-.INF": number = double.NegativeInfinity; return true;
        }
        number = double.NaN;
        // .NET's own spellings of the special values are not YAML's.
        if (text.Contains("Infinity", StringComparison.OrdinalIgnoreCase) || text.Contains("NaN", StringComparison.OrdinalIgnoreCase)) return false;
        return double.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out number);
    }

    private static string Unknown(string key, string section, IEnumerable<string> known)
    {
        var where = section.Length == 0 ? "the file" : section;
        if (key == "<<") return "merge keys (<<) are not supported; write the keys out";
        var names = known.Order(StringComparer.Ordinal).ToList();
        var near = KeySuggestion.Nearest(key, names);
        return near is not null
            ? $"{where} has no field '{key}'; did you mean {near}?"
            : $"{where} has no field '{key}' (it has {string.Join(", ", names)})";
    }

    /// <summary>What a value of this type looks like, in a user's words.</summary>
    internal static string Expected(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(string)) return "text";
        if (t == typeof(double)) return "a number";
        if (t == typeof(int) || t == typeof(long)) return "a whole number";
        if (t == typeof(bool)) return "true or false";
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>)) return "a list";
        if (t.IsGenericType) return "a mapping";
        var keys = Fields(t).Keys.Take(6).ToList();
        return keys.Count == 0 ? "a section" : $"a section with {string.Join(", ", keys)}{(Fields(t).Count > keys.Count ? ", …" : "")}";
    }

    private static string Kind(YamlValue value) => value switch
    {
        YamlList => "a list",
        YamlMap => "a section of keys",
        YamlText text => $"'{Clip(text.Text)}'",
        _ => "something else",
    };

    private static string Shown(YamlValue value) => Kind(value);

    private static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static bool IsNullable(PropertyInfo property) =>
        Nullable.GetUnderlyingType(property.PropertyType) is not null
        || (!property.PropertyType.IsValueType && Nullability.Create(property).WriteState == NullabilityState.Nullable);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, Dictionary<string, PropertyInfo>> FieldCache = new();

    /// <summary>The YAML keys of a config class: the snake_case of its settable public properties.</summary>
    internal static Dictionary<string, PropertyInfo> Fields(Type type) => FieldCache.GetOrAdd(type, t =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.SetMethod!.IsPublic)
            .ToDictionary(p => UnderscoredNamingConvention.Instance.Apply(p.Name), StringComparer.Ordinal));
}

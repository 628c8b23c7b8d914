using System.Collections;
using System.Diagnostics;
using System.Reflection;
using AutonomousBeamline.Configuration;

namespace AutonomousBeamline.Configuration.Tests;

/// <summary>
/// Seeded, bounded fuzzing of the loader: the shipped configs mutated line by line with hostile values and broken
/// structure. Whatever the file, the loader either returns a config whose every number is finite, or refuses it with
/// problems that each name a path and read without .NET type names; it never throws anything else and never hangs.
/// </summary>
public sealed class ConfigFuzzTests
{
    private static readonly string[] HostileValues =
    [
        ".nan", ".inf", "-.inf", "1e308", "-1e308", "1e-300", "-1", "0", "-0", "2147483648", "99999999999999999999", "abc", "''", "~", "",
        "[", "]", "{", "}", "[1, 2]", "{ a: 1 }", "*nowhere", "&anchor 1", "!!binary aGk=", "\"\\u202E\"", "\"../../x\"", "true", "0x10",
        "1_000", "'1e3'", "NaN", "Infinity", "|\n  text", "- item", new string('9', 400), new string('[', 200), "{{{{{{", "\"unterminated",
    ];

    [Theory]
    [InlineData("configs/dry-run.yaml", 1)]
    [InlineData("configs/dry-run-faults.yaml", 2)]
    [InlineData("configs/dry-run-protocol.yaml", 3)]
    [InlineData("configs/soak.yaml", 4)]
    public void No_mutated_config_crashes_hangs_or_passes_with_a_number_that_is_not_finite(string file, int seed)
    {
        var lines = File.ReadAllLines(HostileConfigTests.RepoFile(file));
        var random = new Random(seed);
        var watch = Stopwatch.StartNew();
        var (accepted, refused) = (0, 0);
        for (var round = 0; round < 250; round++)
        {
            var mutated = Mutate(lines, random);
            var yaml = string.Join('\n', mutated);
            try
            {
                var config = ConfigLoader.Parse(yaml, "fuzz.yaml");
                AssertFinite(config, "");
                accepted++;
            }
            catch (ConfigException e)
            {
                Assert.NotEmpty(e.Errors);
                Assert.All(e.Errors, x => Assert.False(string.IsNullOrWhiteSpace(x.Path) || string.IsNullOrWhiteSpace(x.Message), $"seed {seed} round {round}: {x}"));
                HostileConfigTests.AssertNoDotNetNames(e);
                refused++;
            }
        }
        // Bounded: 250 files of a few kB each, whatever they hold.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"took {watch.Elapsed}");
        Assert.True(refused > 100, $"only {refused} of 250 refused: the mutations are too weak to test anything");
        Assert.True(accepted + refused == 250);
    }

    private static List<string> Mutate(string[] original, Random random)
    {
        var lines = original.ToList();
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            var i = random.Next(lines.Count);
            var line = lines[i];
            var colon = line.IndexOf(':');
            switch (random.Next(6))
            {
                case 0 or 1 when colon > 0: // a hostile value
                    lines[i] = line[..(colon + 1)] + " " + HostileValues[random.Next(HostileValues.Length)];
                    break;
                case 2: // a line lost
                    lines.RemoveAt(i);
                    break;
                case 3: // a line twice (a duplicate key)
                    lines.Insert(i, line);
                    break;
                case 4 when colon > 1: // a key misspelt
                    var at = random.Next(colon);
                    lines[i] = line.Remove(at, 1).Insert(at, ((char)random.Next('a', 'z' + 1)).ToString());
                    break;
                default: // indentation broken
                    lines[i] = new string(' ', random.Next(0, 7)) + line.TrimStart();
                    break;
            }
        }
        return lines;
    }

    /// <summary>Every number anywhere in the config is finite (the binder's promise, for sections added later too).</summary>
    private static void AssertFinite(object? value, string path)
    {
        switch (value)
        {
            case null or string or int or long or bool:
                return;
            case double d:
                Assert.True(double.IsFinite(d), $"{path} = {d}");
                return;
            case IEnumerable items:
                var i = 0;
                foreach (var item in items) AssertFinite(item is DictionaryEntry e ? e.Value : item, $"{path}[{i++}]");
                return;
            default:
                foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
                    AssertFinite(property.GetValue(value), $"{path}.{property.Name}");
                return;
        }
    }
}

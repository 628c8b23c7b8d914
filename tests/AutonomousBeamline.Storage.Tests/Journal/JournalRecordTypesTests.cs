using System.Reflection;
using System.Text.Json;
using AutonomousBeamline.Control.Journal;

namespace AutonomousBeamline.Storage.Tests;

public sealed class JournalRecordTypesTests
{
    private static readonly Type[] RecordTypes = typeof(JournalRecord).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(JournalRecord)) && !t.IsAbstract)
        .ToArray();

    [Fact]
    public void Every_record_type_has_a_name_in_the_table()
    {
        var missing = RecordTypes.Except(JournalRecordTypes.Known).Select(t => t.Name);
        Assert.Empty(missing);
    }

    [Fact]
    public void The_samples_hold_every_record_type_so_that_each_is_round_tripped()
    {
        var missing = RecordTypes.Except(SampleRecords.All.Select(r => r.GetType())).Select(t => t.Name);
        Assert.Empty(missing);
    }

    [Fact]
    public void No_record_has_a_field_named_like_the_lines_own_seq_t_or_type()
    {
        // A flat record's fields are its value's: an observation's, a decision's.
        var fieldSources = RecordTypes.SelectMany(t => t.GetProperties().Select(p => p.PropertyType).Append(t));
        var fields = fieldSources.SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            .Select(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name));
        Assert.Empty(fields.Intersect(["seq", "t", "type"]));
    }

    [Fact]
    public void A_record_type_without_a_name_is_refused_where_it_is_written()
    {
        var e = Assert.Throws<ArgumentException>(() => JournalRecordTypes.Of(new Unnamed()));
        Assert.Contains(nameof(Unnamed), e.Message);
    }

    private sealed record Unnamed : JournalRecord;
}

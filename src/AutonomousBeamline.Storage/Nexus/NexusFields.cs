using PureHDF;

namespace AutonomousBeamline.Storage;

/// <summary>Small builders for NeXus groups and fields: a class on every group, units on every number.</summary>
internal static class NexusFields
{
    /// <summary>A group of NeXus base class <paramref name="nxClass"/>.</summary>
    public static H5Group Group(string nxClass) => new() { Attributes = { ["NX_class"] = nxClass } };

    /// <summary>A numeric field with its units (NeXus unit strings: <c>s</c>, <c>V</c>, <c>A</c>, <c>degree</c>, <c>eV</c>; <c>""</c> for a pure number).</summary>
    public static H5Dataset Field<T>(T data, string units, string? longName = null)
    {
        var field = new H5Dataset(data!) { Attributes = { ["units"] = units } };
        if (longName is not null) field.Attributes["long_name"] = longName;
        return field;
    }

    public static H5Dataset Text(string value) => new(value);

    public static H5Dataset Texts(IEnumerable<string> values) => new(values.ToArray());

    /// <summary>An ISO 8601 time with its offset, as NeXus writes NX_DATE_TIME.</summary>
    public static string Iso(DateTimeOffset time) => time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffK", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// An NXdata group whose <paramref name="signal"/> is plotted against <paramref name="axes"/> (one per dimension, in
    /// order); each axis' <c>AXIS_indices</c> says which dimension it spans.
    /// </summary>
    public static H5Group Data(string signal, IReadOnlyList<string> axes, IReadOnlyDictionary<string, object> fields, string? title = null)
    {
        var data = Group("NXdata");
        data.Attributes["signal"] = signal;
        data.Attributes["axes"] = axes.ToArray();
        for (var i = 0; i < axes.Count; i++)
            if (axes[i] != ".") data.Attributes[$"{axes[i]}_indices"] = i;
        foreach (var (name, field) in fields) data[name] = field;
        if (title is not null) data["title"] = Text(title);
        return data;
    }

    /// <summary>An NXlog: <paramref name="values"/> against seconds from <paramref name="start"/>.</summary>
    public static H5Group Log(DateTimeOffset start, double[] timeS, double[] values, string units, string description)
    {
        var log = Group("NXlog");
        log["time"] = new H5Dataset(timeS) { Attributes = { ["units"] = "s", ["start"] = Iso(start) } };
        log["value"] = Field(values, units);
        log["description"] = Text(description);
        return log;
    }

    /// <summary>The NeXus unit for a unit as the detector's frame header writes it (FACILITY-ICD §3).</summary>
    public static string Unit(string? headerUnit) => Core.Domain.Units.Canonical(headerUnit);
}

using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using AutonomousBeamline.Control.Operator;

namespace AutonomousBeamline.Storage;

/// <summary>
/// An operator command in an <c>operator_command</c> record's <c>args</c>: written with its own fields and its name first
/// (<c>{"command":"GotoRoi","x_mm":3,"y_mm":4,"by":{...}}</c>), so that a reader can rebuild the command it was. The name
/// is the class's without "Command", as the record's own <c>command</c> field spells it.
/// </summary>
internal static class OperatorCommandArgs
{
    private const string NameField = "command";

    private static readonly Type[] Commands = typeof(OperatorCommand).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(OperatorCommand)) && !t.IsAbstract)
        .ToArray();

    private static string NameOf(Type command) =>
        command.Name.EndsWith("Command", StringComparison.Ordinal) ? command.Name[..^"Command".Length] : command.Name;

    /// <summary>The serializer's polymorphism, told every command there is.</summary>
    public static void NameTheCommand(JsonTypeInfo type)
    {
        if (type.Type != typeof(OperatorCommand)) return;
        type.PolymorphismOptions = new JsonPolymorphismOptions { TypeDiscriminatorPropertyName = NameField };
        foreach (var command in Commands)
            type.PolymorphismOptions.DerivedTypes.Add(new JsonDerivedType(command, NameOf(command)));
    }

    /// <summary>
    /// Journals written before the args named their command kept only the operator in them; the record's own
    /// <c>command</c> field says which command it was, so that name is put where the serializer looks for it.
    /// </summary>
    public static void NameOlderArgs(JsonObject record)
    {
        if (record["args"] is JsonObject args && !args.ContainsKey(NameField) && record[NameField] is JsonValue name)
            args.Insert(0, NameField, name.DeepClone());
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using AutonomousBeamline.Control.StateMachine;

namespace AutonomousBeamline.Storage;

/// <summary>
/// How every file of a run folder spells JSON: snake_case fields, nulls left out, NaN and infinities as their named
/// literals (<c>"NaN"</c>), enums as snake_case names (<c>"xrd"</c>, <c>"c_rate"</c>, <c>"learner"</c>) — except the
/// state machine's states and triggers, which journals have always spelt as in C# (<c>"Deciding"</c>,
/// <c>"PreflightPassed"</c>) and readers grep for.
/// </summary>
internal static class RunFolderJson
{
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var resolver = new DefaultJsonTypeInfoResolver();
        resolver.Modifiers.Add(RequireParametersThatCannotBeOmitted);
        resolver.Modifiers.Add(OperatorCommandArgs.NameTheCommand);
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            TypeInfoResolver = resolver,
            // The first converter that takes a type wins: the two PascalCase enums before the snake_case rule for the rest.
            Converters =
            {
                new JsonStringEnumConverter<RunState>(),
                new JsonStringEnumConverter<RunTrigger>(),
                new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower),
            },
        };
        options.MakeReadOnly();
        return options;
    }

    /// <summary>
    /// A record's constructor parameter with no default that cannot be null must be in the line: a field missing from a
    /// known record is a line that does not fit, not a silent zero. (The serializer's own
    /// <see cref="JsonSerializerOptions.RespectRequiredConstructorParameters"/> would also demand the nullable ones, which
    /// the writer leaves out when null.)
    /// </summary>
    private static void RequireParametersThatCannotBeOmitted(JsonTypeInfo type)
    {
        foreach (var property in type.Properties)
            if (property.AssociatedParameter is { HasDefaultValue: false, IsNullable: false })
                property.IsRequired = true;
    }
}

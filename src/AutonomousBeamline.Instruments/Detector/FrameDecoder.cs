using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Instruments.Detector;

/// <summary>A data frame that failed validation; <see cref="Reason"/> says what was wrong.</summary>
public sealed class FrameRejectedException(string reason, string? requestId, long? frame)
    : DeviceException("detector", $"frame rejected: {reason}")
{
    public string Reason { get; } = reason;
    public string? RequestId { get; } = requestId;
    public long? FrameNumber { get; } = frame;
}

/// <summary>
/// Turns one multipart message of the data stream (FACILITY-ICD §3) into a <see cref="Frame"/>, or says
/// precisely why it cannot: header schema, <c>n</c> against the payload, finite values.
/// </summary>
public static class FrameDecoder
{
    public const string HeaderType = "pattern-1.0";
    public const string DataType = "<f4";

    /// <summary>Largest <c>n</c> ever accepted, so that a corrupt header cannot make us allocate gigabytes.</summary>
    public const int MaxPoints = 16 * 1024 * 1024;

    /// <param name="maxPoints">The largest <c>n</c> this detector may send (at most <see cref="MaxPoints"/>).</param>
    /// <exception cref="FrameRejectedException">The message is not a valid frame.</exception>
    public static Frame Decode(IReadOnlyList<byte[]> parts, int maxPoints = MaxPoints)
    {
        maxPoints = Math.Clamp(maxPoints, 1, MaxPoints);
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0) throw new FrameRejectedException("empty message", null, null);

        JsonObject header;
        try
        {
            header = JsonNode.Parse(Encoding.UTF8.GetString(parts[0])) as JsonObject
                ?? throw new FrameRejectedException("the header is not a JSON object", null, null);
            // The object is built on first use, and that is where duplicate keys are refused.
            _ = header.Count;
        }
        catch (JsonException ex)
        {
            throw new FrameRejectedException($"the header is not valid JSON ({ex.Message})", null, null);
        }
        catch (ArgumentException ex)
        {
            throw new FrameRejectedException($"the header is not valid UTF-8 JSON ({ex.Message})", null, null);
        }

        // Read the identifying fields first, so that every later rejection can name its request.
        var requestId = header["request_id"] is JsonValue r && r.TryGetValue<string>(out var rid) ? rid : null;
        long? frameNumber = header["frame"] is JsonValue f && f.GetValueKind() == JsonValueKind.Number && f.TryGetValue<long>(out var fn) ? fn : null;
        FrameRejectedException Reject(string reason) => new(reason, requestId, frameNumber);

        var htype = OptionalString(header, "htype");
        if (htype != HeaderType) throw Reject($"\"htype\" is {Show(htype)}, expected \"{HeaderType}\"");
        if (frameNumber is null) throw Reject("\"frame\" is missing or not an integer");
        if (requestId is null) throw Reject("\"request_id\" is missing or not a string");
        var kindText = OptionalString(header, "kind") ?? throw Reject("\"kind\" is missing or not a string");
        var kind = FrameKinds.FromWire(kindText) ?? throw Reject($"\"kind\" is \"{kindText}\", which is neither \"xrd\" nor \"xas\"");
        if (header["n"] is not JsonValue nValue || nValue.GetValueKind() != JsonValueKind.Number || !nValue.TryGetValue<int>(out var n))
            throw Reject("\"n\" is missing or not an integer");
        if (n <= 0 || n > maxPoints) throw Reject($"\"n\" = {n} is outside 1..{maxPoints}");
        var dtype = OptionalString(header, "dtype");
        if (dtype != DataType) throw Reject($"\"dtype\" is {Show(dtype)}, expected \"{DataType}\"");
        var xMode = OptionalString(header, "x");
        if (xMode is not ("uniform" or "explicit")) throw Reject($"\"x\" is {Show(xMode)}, expected \"uniform\" or \"explicit\"");

        double? xStart = null, xStep = null;
        if (xMode == "uniform")
        {
            xStart = OptionalFinite(header, "x_start", Reject) ?? throw Reject("\"x_start\" is required with \"x\": \"uniform\"");
            xStep = OptionalFinite(header, "x_step", Reject) ?? throw Reject("\"x_step\" is required with \"x\": \"uniform\"");
        }
        var exposure = OptionalFinite(header, "exposure_s", Reject);
        var beam = OptionalFinite(header, "beam_current_mA", Reject) ?? throw Reject("\"beam_current_mA\" is missing");
        var tStartText = OptionalString(header, "t_start") ?? throw Reject("\"t_start\" is missing or not a string");
        if (!DateTimeOffset.TryParse(tStartText, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var tStart))
            throw Reject($"\"t_start\" '{tStartText}' is not an ISO-8601 time");

        var positions = new Dictionary<string, double>(StringComparer.Ordinal);
        if (header["positions"] is JsonObject positionObject)
        {
            foreach (var (axis, _) in positionObject)
                positions[axis] = OptionalFinite(positionObject, axis, Reject) ?? throw Reject($"position of '{axis}' is null");
        }
        else if (header.ContainsKey("positions"))
        {
            throw Reject("\"positions\" is not an object");
        }

        var expectedParts = xMode == "explicit" ? 3 : 2;
        if (parts.Count != expectedParts)
            throw Reject($"{parts.Count} message parts, expected {expectedParts} for \"x\": \"{xMode}\"");
        var intensities = Floats(parts[1], n, "intensities", Reject);
        var x = xMode == "explicit" ? Floats(parts[2], n, "x values", Reject) : null;

        return new Frame(new FrameHeader
        {
            Frame = frameNumber.Value,
            RequestId = requestId,
            Kind = kind,
            N = n,
            XMode = xMode,
            XName = OptionalString(header, "x_name"),
            XUnit = OptionalString(header, "x_unit"),
            XStart = xStart,
            XStep = xStep,
            ExposureS = exposure,
            TStart = tStart,
            Positions = positions,
            BeamCurrentMa = beam,
        }, intensities, x);
    }

    private static float[] Floats(byte[] payload, int n, string what, Func<string, FrameRejectedException> reject)
    {
        if (payload.Length != n * sizeof(float))
            throw reject($"{what}: {payload.Length} bytes, but \"n\" = {n} needs {n * sizeof(float)}");
        var values = new float[n];
        for (var i = 0; i < n; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(payload.AsSpan(i * sizeof(float)));
            if (!float.IsFinite(values[i]))
                throw reject(FormattableString.Invariant($"{what}: value {i} is {values[i]}"));
        }
        return values;
    }

    private static string? OptionalString(JsonObject obj, string field) =>
        obj[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static double? OptionalFinite(JsonObject obj, string field, Func<string, FrameRejectedException> reject)
    {
        var node = obj[field];
        if (node is null) return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var d) && double.IsFinite(d))
            return d;
        throw reject($"\"{field}\" is not a finite number");
    }

    private static string Show(string? value) => value is null ? "missing" : $"\"{value}\"";
}

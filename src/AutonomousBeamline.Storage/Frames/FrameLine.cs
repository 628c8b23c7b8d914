using System.Text.Json;
using System.Text.Json.Serialization;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Learning.Features;

namespace AutonomousBeamline.Storage;

/// <summary>A frames.jsonl line read back: the stored frame (its payload only when asked for), or why it could not be.</summary>
internal readonly record struct DecodedFrame(StoredFrame? Stored, string? Problem);

/// <summary>
/// One line of frames.jsonl: <c>{"disposition":..,"run_frame":N,"observation_sequence":N?,"preflight":{..}?,"header":{..},"intensities_f32le":"..","x_f32le":".."?}</c>,
/// the header as the detector sent it (snake_case) and the payload as base64 float32. <c>run_frame</c> is the frame's
/// place in the run, from 1, going on across a resume (the detector's own <c>header.frame</c> starts again with a new
/// detector process); lines written before it existed lack it. <c>preflight</c>, on a frame whose disposition is
/// <c>preflight</c>, is the reference check's verdict on it.
/// </summary>
internal static class FrameLine
{
    /// <summary>The verdict as the line spells it: fields of the file's own, so that its shape does not follow the analyser's record.</summary>
    private sealed record VerdictFields(bool Explained, bool Conclusive, string Summary, double? Unexplained, string? LikelyCause)
    {
        public static VerdictFields Of(ReferenceVerdict v) => new(v.Explained, v.Conclusive, v.Summary, v.Unexplained, v.LikelyCause);

        public ReferenceVerdict Verdict => new(Explained, Summary, LikelyCause, Conclusive, Unexplained);
    }

    private sealed record Fields(
        string Disposition,
        long? RunFrame,
        long? ObservationSequence,
        VerdictFields? Preflight,
        FrameHeader Header,
        [property: JsonPropertyName("intensities_f32le"), JsonConverter(typeof(Float32Base64Converter))] float[] Intensities,
        [property: JsonPropertyName("x_f32le"), JsonConverter(typeof(Float32Base64Converter))] float[]? X);

    /// <param name="stored">A frame with its payload (<see cref="StoredFrame.Frame"/> set).</param>
    /// <param name="runFrame">Its place among the run's frames, from 1.</param>
    public static ReadOnlyMemory<byte> Encode(StoredFrame stored, long runFrame)
    {
        var frame = stored.Frame ?? throw new ArgumentException("a frame to store needs its payload", nameof(stored));
        var verdict = stored.Check is { } check ? VerdictFields.Of(check) : null;
        var fields = new Fields(FrameDisposition.Name(stored.Fate, stored.Flag), runFrame, stored.ObservationSequence, verdict, frame.Header, frame.Intensities, frame.X);
        return JsonLine.Write(json => JsonSerializer.Serialize(json, fields, RunFolderJson.Options));
    }

    /// <summary>
    /// What a line holds. Only the disposition, the run frame, the sequence, the exposure and a preflight verdict are read unless <paramref name="decode"/>
    /// (given the frame without its payload) asks for the frame too: decoding the header and payload is most of the cost.
    /// </summary>
    public static DecodedFrame Decode(string line, Func<StoredFrame, bool>? decode)
    {
        if (string.IsNullOrWhiteSpace(line)) return new(null, "an empty line");
        JsonDocument document;
        try { document = JsonDocument.Parse(line); }
        catch (JsonException e) { return new(null, $"not JSON (a line torn by a crash?): {e.Message}"); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return new(null, "not a JSON object");
            if (!root.TryGetProperty("disposition", out var disposition) || disposition.ValueKind != JsonValueKind.String
                || !FrameDisposition.TryParse(disposition.GetString()!, out var fate, out var flag))
                return new(null, "no disposition (observation, no_beam or flagged:<flag>)");
            long? sequence = null;
            if (root.TryGetProperty("observation_sequence", out var seq))
            {
                if (seq.ValueKind != JsonValueKind.Number || !seq.TryGetInt64(out var n)) return new(null, "observation_sequence is not a whole number");
                sequence = n;
            }
            if (!root.TryGetProperty("header", out var header) || header.ValueKind != JsonValueKind.Object) return new(null, "no header");
            var exposure = 0.0;
            if (header.TryGetProperty("exposure_s", out var e))
            {
                if (e.ValueKind != JsonValueKind.Number) return new(null, "header.exposure_s is not a number");
                exposure = e.GetDouble();
            }

            long? runFrame = null;
            if (root.TryGetProperty("run_frame", out var place))
            {
                if (place.ValueKind != JsonValueKind.Number || !place.TryGetInt64(out var n)) return new(null, "run_frame is not a whole number");
                runFrame = n;
            }
            ReferenceVerdict? check = null;
            if (root.TryGetProperty("preflight", out var preflight))
            {
                try { check = preflight.Deserialize<VerdictFields>(RunFolderJson.Options)?.Verdict; }
                catch (JsonException x) { return new(null, $"a preflight verdict whose fields do not fit: {x.Message}"); }
            }

            var stored = new StoredFrame(fate, flag, sequence, exposure, null) { Check = check, RunFrame = runFrame };
            if (decode is not null && !decode(stored)) return new(stored, null);
            try
            {
                var fields = root.Deserialize<Fields>(RunFolderJson.Options)!;
                return new(stored with { Frame = new Frame(fields.Header, fields.Intensities, fields.X) }, null);
            }
            catch (JsonException x) { return new(null, $"a frame whose fields do not fit: {x.Message}"); }
        }
    }
}

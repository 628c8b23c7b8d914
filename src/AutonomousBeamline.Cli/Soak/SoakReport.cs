using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace AutonomousBeamline.Cli.Soak;

/// <summary>A scheduled fault the journal shows no handling for.</summary>
public sealed record UnhandledFault(
    [property: JsonPropertyName("device")] string Device,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("at_s")] double AtS);

/// <summary>
/// soak.json: what a soak run proved, computed from the run folder (journal.jsonl, frames.jsonl, summary.json) and
/// what the harness measured of the processes.
/// </summary>
/// <remarks>
/// Rules, so that the numbers mean the same thing every night:
/// <list type="bullet">
/// <item>observations_expected: frames.jsonl lines with disposition "observation", one per distinct frame
/// (header.frame, header.t_start): the frames the controller kept as measurements.</item>
/// <item>observations_stored: distinct observation records of the journal; duplicates: observation records whose
/// "sequence" was already journalled, or whose (frame, time) was already journalled under another sequence, plus
/// frames.jsonl observation lines repeating a (frame, t_start).</item>
/// <item>faults_handled: a slow_reply (the soak keeps it inside the device's time-out) is a reply that comes late but
/// comes: waiting for it is its handling and nothing is journalled beyond its fault_injected record; these are also
/// counted in faults_absorbed. Every other fault stays open until a handling record closes it; each handling record
/// closes the most recent open fault it can handle: kind "fault" → recovered of that device; "interlock" and "overheat" →
/// the suspend (or suspender_tripped) record of the interlock or temperature suspender; the detector's bad frames
/// (truncated_frame, wrong_n, nan_values, frame_for_no_request) → frame_rejected; drop_frame (a frame that never comes
/// cannot be rejected) and any other
/// kind (lost, garbled or refused replies, a lost link) → device_retry or recovered of that device; a recovered record
/// goes to an open fault state (fault, disconnect) before a lost reply, a device_retry the other way round. What finds
/// no handler is listed in unhandled_faults; that includes a fault state that ended before the controller next used
/// the device, which leaves no trace beyond its fault_injected record.</item>
/// <item>time_in_state_s: virtual seconds from each transition to the next; a process's last state lasts until its
/// last record (a record whose seq does not grow, or a run_start / resumed record, starts the next process).</item>
/// <item>Lines a SIGKILL cut short are skipped and counted in unreadable_lines.</item>
/// </list>
/// </remarks>
public sealed record SoakReport
{
    [JsonPropertyName("run_dir")] public string RunDir { get; init; } = "";
    [JsonPropertyName("hours")] public double Hours { get; init; }
    [JsonPropertyName("virtual_s")] public double VirtualS { get; init; }
    [JsonPropertyName("exit_status")] public string? ExitStatus { get; init; }
    [JsonPropertyName("observations_expected")] public int ObservationsExpected { get; init; }
    [JsonPropertyName("observations_stored")] public int ObservationsStored { get; init; }
    [JsonPropertyName("duplicates")] public int Duplicates { get; init; }
    /// <summary>
    /// What the schedule asked for. Not a check: faults due while the controller is down after the kill, or after the
    /// run has spent its budget, are never injected.
    /// </summary>
    [JsonPropertyName("faults_scheduled")] public int FaultsScheduled { get; init; }
    [JsonPropertyName("faults_injected")] public int FaultsInjected { get; init; }
    [JsonPropertyName("faults_handled")] public int FaultsHandled { get; init; }
    [JsonPropertyName("faults_absorbed")] public int FaultsAbsorbed { get; init; }
    [JsonPropertyName("unhandled_faults")] public IReadOnlyList<UnhandledFault> UnhandledFaults { get; init; } = [];
    [JsonPropertyName("beam_dumps_scheduled")] public int BeamDumpsScheduled { get; init; }
    [JsonPropertyName("suspensions")] public int Suspensions { get; init; }
    [JsonPropertyName("resumes_after_suspension")] public int ResumesAfterSuspension { get; init; }
    [JsonPropertyName("safety_violations")] public int? SafetyViolations { get; init; }
    [JsonPropertyName("killed_at_virtual_s")] public double? KilledAtVirtualS { get; init; }
    [JsonPropertyName("max_resume_s")] public double? MaxResumeS { get; init; }
    [JsonPropertyName("peak_rss_mb")] public double PeakRssMb { get; init; }
    [JsonPropertyName("wall_s")] public double WallS { get; init; }
    [JsonPropertyName("time_in_state_s")] public IReadOnlyDictionary<string, double> TimeInStateS { get; init; } = new Dictionary<string, double>();
    [JsonPropertyName("unreadable_lines")] public int UnreadableLines { get; init; }
    [JsonPropertyName("passed")] public bool Passed => Failures.Count == 0;
    [JsonPropertyName("failures")] public IReadOnlyList<string> Failures { get; init; } = [];

    /// <summary>The "done" line of the soak: what must hold for the night to count as survived.</summary>
    public const double MaxResumeLimitS = 5, PeakRssLimitMb = 300;

    private static readonly HashSet<string> RejectableFrameKinds = ["truncated_frame", "wrong_n", "nan_values", "frame_for_no_request"];

    /// <summary>Reads the run folder and combines it with what the harness measured.</summary>
    public static SoakReport FromRun(string runDir, SoakMeasurements measured)
    {
        var unreadable = 0;
        var journal = ReadJsonLines(Path.Combine(runDir, "journal.jsonl"), ref unreadable);
        var frames = ReadJsonLines(Path.Combine(runDir, "frames.jsonl"), ref unreadable);
        var summaryPath = Path.Combine(runDir, "summary.json");
        JsonObject? summary = null;
        if (File.Exists(summaryPath))
        {
            try { summary = JsonNode.Parse(File.ReadAllText(summaryPath)) as JsonObject; }
            catch (JsonException) { unreadable++; }
        }

        var (expected, frameDuplicates) = CountExpected(frames);
        var (stored, journalDuplicates) = CountStored(journal);
        var (injected, absorbed, unhandled) = MatchFaults(journal);
        var times = journal.Select(r => Time(r)).OfType<DateTimeOffset>().ToList();
        var virtualS = times.Count > 0 ? (times.Max() - times.Min()).TotalSeconds : 0;

        var report = new SoakReport
        {
            RunDir = runDir,
            Hours = measured.Hours,
            VirtualS = Math.Round(virtualS, 1),
            ExitStatus = (string?)summary?["exit_status"] ?? LastRunEnd(journal),
            ObservationsExpected = expected,
            ObservationsStored = stored,
            Duplicates = frameDuplicates + journalDuplicates,
            FaultsScheduled = measured.FaultsScheduled,
            FaultsInjected = injected,
            FaultsHandled = injected - unhandled.Count,
            FaultsAbsorbed = absorbed,
            UnhandledFaults = unhandled,
            BeamDumpsScheduled = measured.BeamDumpsScheduled,
            Suspensions = journal.Count(r => Type(r) == "suspend"),
            ResumesAfterSuspension = journal.Count(r => Type(r) == "resume"),
            SafetyViolations = summary?["safety_violations"] is JsonValue v && v.TryGetValue<int>(out var violations) ? violations : null,
            KilledAtVirtualS = measured.KilledAtVirtualS is { } k ? Math.Round(k, 1) : null,
            MaxResumeS = measured.MaxResumeS is { } r ? Math.Round(r, 2) : null,
            PeakRssMb = Math.Round(measured.PeakRssMb, 1),
            WallS = Math.Round(measured.WallS, 1),
            TimeInStateS = TimeInState(journal),
            UnreadableLines = unreadable,
        };
        return report with { Failures = Judge(report, measured) };
    }

    private static List<string> Judge(SoakReport r, SoakMeasurements measured)
    {
        var failures = new List<string>();
        if (r.ExitStatus != "success") failures.Add($"the run ended '{r.ExitStatus ?? "without a summary"}', not 'success'");
        if (r.ObservationsStored != r.ObservationsExpected)
            failures.Add($"{r.ObservationsStored} observations journalled, {r.ObservationsExpected} frames kept as observations");
        if (r.Duplicates > 0) failures.Add($"{r.Duplicates} duplicated observation(s)");
        if (r.SafetyViolations is null) failures.Add("summary.json gives no safety_violations");
        else if (r.SafetyViolations > 0) failures.Add($"{r.SafetyViolations} safety violation(s)");
        if (r.UnhandledFaults.Count > 0)
            failures.Add($"{r.UnhandledFaults.Count} of {r.FaultsInjected} injected fault(s) with no handling in the journal: " +
                         string.Join(", ", r.UnhandledFaults.GroupBy(f => $"{f.Device} {f.Kind}").Select(g => g.Count() > 1 ? $"{g.Key} ×{g.Count()}" : g.Key)));
        if (measured.KillPlanned)
        {
            if (r.KilledAtVirtualS is null) failures.Add("the run ended before the kill");
            else if (r.MaxResumeS is null) failures.Add("the resumed run never journalled 'resumed'");
            else if (r.MaxResumeS > MaxResumeLimitS) failures.Add($"resume took {r.MaxResumeS:0.00} s (limit {MaxResumeLimitS} s)");
        }
        if (r.PeakRssMb >= PeakRssLimitMb) failures.Add($"peak RSS {r.PeakRssMb:0} MB (limit {PeakRssLimitMb} MB)");
        if (r.UnreadableLines > 1) failures.Add($"{r.UnreadableLines} unreadable journal/frame lines (a kill can cut one)");
        return failures;
    }

    private static (int Expected, int Duplicates) CountExpected(List<JsonObject> frames)
    {
        var seen = new HashSet<(long, string)>();
        var duplicates = 0;
        foreach (var line in frames)
        {
            if ((string?)line["disposition"] != "observation") continue;
            var header = line["header"] as JsonObject;
            var key = (Long(header?["frame"]) ?? -1, header?["t_start"]?.ToString() ?? "");
            if (!seen.Add(key)) duplicates++;
        }
        return (seen.Count, duplicates);
    }

    private static (int Stored, int Duplicates) CountStored(List<JsonObject> journal)
    {
        var sequences = new HashSet<long>();
        var frames = new HashSet<(long, string)>();
        int stored = 0, duplicates = 0;
        foreach (var record in journal.Where(r => Type(r) == "observation"))
        {
            var sequence = Long(record["sequence"]);
            var frame = (Long(record["frame"]) ?? -1, record["time"]?.ToString() ?? "");
            var repeatsSequence = sequence is { } s && !sequences.Add(s);
            var repeatsFrame = !frames.Add(frame);
            if (repeatsSequence || repeatsFrame) duplicates++;
            else stored++;
        }
        return (stored, duplicates);
    }

    private static (int Injected, int Absorbed, List<UnhandledFault> Unhandled) MatchFaults(List<JsonObject> journal)
    {
        // Open faults in injection order; each handling record closes the most recent open fault it can handle,
        // because a retry or a recovery answers the fault that just happened, not one that came and went unnoticed.
        var open = new List<(string Device, string Kind, double AtS)>();
        var injected = 0;
        var absorbed = 0;
        foreach (var record in journal)
        {
            if (Type(record) == "fault_injected")
            {
                injected++;
                var kind = (string?)record["kind"] ?? "";
                if (kind == "slow_reply") absorbed++;
                else open.Add(((string?)record["device"] ?? "", kind, Double(record["at_s"]) ?? double.NaN));
                continue;
            }
            // A recovery answers a fault state before a lost reply, a retry a lost reply before a fault state.
            var match = open.FindLastIndex(f => Handles(record, f.Device, f.Kind) && IsFaultState(f.Kind) == (Type(record) == "recovered"));
            if (match < 0) match = open.FindLastIndex(f => Handles(record, f.Device, f.Kind));
            if (match >= 0) open.RemoveAt(match);
        }
        return (injected, absorbed, open.Select(f => new UnhandledFault(f.Device, f.Kind, f.AtS)).ToList());
    }

    private static bool IsFaultState(string kind) => kind is "fault" or "disconnect";

    private static bool Handles(JsonObject record, string device, string kind)
    {
        var type = Type(record);
        var ofDevice = (string?)record["device"] == device;
        if (kind == "fault") return type == "recovered" && ofDevice;
        // An interlock is handled by the suspension it causes.
        // A dropped interlock or a hot cell is handled by the suspension it causes (or joins, when the run is already suspended).
        if (kind is "interlock" or "overheat")
            return type is "suspend" or "suspender_tripped" && (string?)record["suspender"] == (kind == "interlock" ? "interlock" : "temperature");
        // A bad frame's one honest handling is its rejection; retries and recoveries answer lost replies and frames.
        if (device == "detector" && RejectableFrameKinds.Contains(kind)) return type == "frame_rejected";
        return type is "device_retry" or "recovered" && ofDevice;
    }

    private static Dictionary<string, double> TimeInState(List<JsonObject> journal)
    {
        var seconds = new SortedDictionary<string, double>(StringComparer.Ordinal);
        string? state = null;
        DateTimeOffset? since = null, lastTime = null;
        long lastSeq = long.MinValue;

        void Close(DateTimeOffset? until)
        {
            if (state is not null && since is { } from && until is { } to && to > from)
                seconds[state] = seconds.GetValueOrDefault(state) + (to - from).TotalSeconds;
        }

        foreach (var record in journal)
        {
            var t = Time(record);
            var seq = Long(record["seq"]) ?? lastSeq + 1;
            if (seq <= lastSeq || Type(record) is "run_start" or "resumed")
            {
                // Another process: the killed one's state ends at its last record, the new one starts unknown.
                Close(lastTime);
                state = null;
                since = null;
            }
            lastSeq = seq;
            if (t is not null) lastTime = t;
            if (Type(record) == "transition" && t is not null)
            {
                Close(t);
                state = (string?)record["to"];
                since = t;
            }
        }
        Close(lastTime);
        return seconds.ToDictionary(p => p.Key, p => Math.Round(p.Value, 1), StringComparer.Ordinal);
    }

    private static string? LastRunEnd(List<JsonObject> journal) =>
        journal.LastOrDefault(r => Type(r) == "run_end")?["exit_status"]?.ToString();

    private static List<JsonObject> ReadJsonLines(string path, ref int unreadable)
    {
        var records = new List<JsonObject>();
        if (!File.Exists(path)) return records;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            try
            {
                if (JsonNode.Parse(line) is JsonObject record) records.Add(record);
                else unreadable++;
            }
            catch (JsonException) { unreadable++; }
        }
        return records;
    }

    internal static string? Type(JsonObject record) => record["type"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    internal static DateTimeOffset? Time(JsonObject record) =>
        record["t"] is JsonValue v && v.TryGetValue<string>(out var s) &&
        DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    private static long? Long(JsonNode? node) => node is JsonValue v
        ? v.TryGetValue<long>(out var l) ? l : v.TryGetValue<double>(out var d) && d == Math.Floor(d) ? (long)d : null
        : null;

    private static double? Double(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    private static readonly JsonSerializerOptions WriteOptions = new() { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, WriteOptions);

    public void WriteTo(string path) => File.WriteAllText(path, ToJson());
}

/// <summary>What the harness measured of the processes, as opposed to what the run folder says.</summary>
public sealed record SoakMeasurements
{
    public double Hours { get; init; }
    public int FaultsScheduled { get; init; }
    public int BeamDumpsScheduled { get; init; }
    public bool KillPlanned { get; init; }
    /// <summary>Virtual seconds into the run at which the controller was killed; null: it was not.</summary>
    public double? KilledAtVirtualS { get; init; }
    /// <summary>Wall seconds from the resume process's start to its "resumed" record; null: never seen.</summary>
    public double? MaxResumeS { get; init; }
    public double PeakRssMb { get; init; }
    public double WallS { get; init; }
}

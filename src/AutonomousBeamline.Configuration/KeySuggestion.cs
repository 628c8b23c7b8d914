namespace AutonomousBeamline.Configuration;

/// <summary>"Did you mean exposure_s?": the known key nearest to a misspelt one, if any is near enough to be what was meant.</summary>
public static class KeySuggestion
{
    public static string? Nearest(string key, IEnumerable<string> known)
    {
        var normal = Normalise(key);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var c = Normalise(candidate);
            // A missing unit suffix (exposure for exposure_s) or a different spelling of the separators is the same key.
            var distance = c == normal || c.StartsWith(normal + "_", StringComparison.Ordinal) && c.Length - normal.Length <= 3
                ? 0
                : Distance(normal, c);
            if (distance < bestDistance) (best, bestDistance) = (candidate, distance);
        }
        var allowed = Math.Max(1, Math.Min(3, key.Length / 3));
        return bestDistance <= allowed ? best : null;
    }

    private static string Normalise(string key) => key.Trim().ToLowerInvariant().Replace('-', '_').Replace(' ', '_');

    /// <summary>Levenshtein distance, with a swap of two neighbours counted as one edit.</summary>
    private static int Distance(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 3) return int.MaxValue;
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}

namespace AutonomousBeamline.Cli;

internal static class Paths
{
    /// <summary>
    /// configs/dry-run.yaml, found from the working directory upwards so that the README's command works
    /// from the repository root or any folder below it.
    /// </summary>
    public static string DefaultDryRunConfig
    {
        get
        {
            const string relative = "configs/dry-run.yaml";
            for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, relative);
                if (File.Exists(candidate)) return candidate;
            }
            return relative;
        }
    }
}

using System.Diagnostics;

// Shared by the test projects that read run files back with Python (linked into each csproj).
using Xunit;

namespace AutonomousBeamline.Tests.Shared;

/// <summary>Runs one of the test's Python scripts (Debian's python3 with h5py and numpy, as .ci/run installs them).</summary>
public static class Python
{
    /// <summary>Debian's interpreter, the one python3-h5py installs into (a python3 earlier on PATH, pyenv's say, may lack it).</summary>
    private static string Interpreter => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>Runs <c>Python/<paramref name="script"/></c> with <paramref name="args"/>; fails the test with its output unless it exits 0.</summary>
    public static string Run(string script, params string[] args)
    {
        var start = new ProcessStartInfo(Interpreter) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Python", script));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{script} exited {process.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }
}

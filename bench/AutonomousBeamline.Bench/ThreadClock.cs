using System.Runtime.InteropServices;

namespace AutonomousBeamline.Bench;

/// <summary>
/// CPU time of the calling thread (Linux: clock_gettime(CLOCK_THREAD_CPUTIME_ID), nanosecond resolution). On a shared, loaded
/// machine a wall-clock percentile mostly measures how long the thread waited for a core; the thread's own CPU time does not.
/// NaN where the clock is not available.
/// </summary>
internal static partial class ThreadClock
{
    private const int ClockThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clockId, out Timespec time);

    private static readonly bool Available = OperatingSystem.IsLinux() && Probe();

    /// <summary>The calling thread's CPU time in milliseconds, or NaN.</summary>
    public static double Milliseconds()
    {
        if (!Available) return double.NaN;
        return ClockGetTime(ClockThreadCpuTimeId, out var t) == 0 ? t.Seconds * 1e3 + t.Nanoseconds * 1e-6 : double.NaN;
    }

    private static bool Probe()
    {
        try { return ClockGetTime(ClockThreadCpuTimeId, out _) == 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }
}

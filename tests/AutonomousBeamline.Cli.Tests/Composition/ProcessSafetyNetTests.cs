using System.Runtime.InteropServices;
using AutonomousBeamline.Cli.Composition;

namespace AutonomousBeamline.Cli.Tests.Composition;

/// <summary>The process' last line of defence: the cell safe first, the journal after, for every way a process can go.</summary>
public sealed class ProcessSafetyNetTests
{
    private sealed class Log
    {
        public List<string> Events { get; } = new();

        public ProcessSafetyNet Net(TimeSpan? haltTakes = null) => new(
            async reason =>
            {
                lock (Events) Events.Add("halt started: " + reason);
                await Task.Delay(haltTakes ?? TimeSpan.Zero);
                lock (Events) Events.Add("cell safe");
                return "closed";
            },
            (source, message) => { lock (Events) Events.Add($"journal {source}: {message}"); },
            () => { lock (Events) Events.Add("flushed"); return Task.CompletedTask; });
    }

    [Fact]
    public void An_exception_that_ends_the_process_makes_the_cell_safe_before_it_is_journalled_and_flushed()
    {
        var log = new Log();
        // The halt takes a while: the net must wait for it rather than journal first.
        log.Net(TimeSpan.FromMilliseconds(50)).OnUnhandledFailure(new InvalidOperationException("Req.XSend - cannot send another request"));

        Assert.Equal(
        [
            "halt started: unhandled failure, the process ends: Req.XSend - cannot send another request",
            "cell safe",
            "journal process: unhandled failure, the process ends: Req.XSend - cannot send another request",
            "flushed",
        ], log.Events);
    }

    [Fact]
    public void A_task_that_failed_unobserved_ends_the_run_safe_and_is_journalled()
    {
        var log = new Log();
        log.Net().OnUnobservedFailure(new IOException("No space left on device"));

        Assert.Equal(["halt started: unhandled failure in a background task: No space left on device", "cell safe",
            "journal process: unhandled failure in a background task: No space left on device"], log.Events);
    }

    [Theory]
    [InlineData(PosixSignal.SIGTERM)]
    [InlineData(PosixSignal.SIGINT)]
    public void A_termination_signal_waits_for_the_cell_to_be_safe_before_the_process_may_go_on_ending(PosixSignal signal)
    {
        var log = new Log();
        log.Net(TimeSpan.FromMilliseconds(50)).OnSignal(signal);

        Assert.Equal([$"halt started: {signal} received", "cell safe"], log.Events);
    }

    [Fact]
    public void Armed_it_hears_unobserved_task_failures_and_disarmed_it_does_not()
    {
        var log = new Log();
        using (log.Net().Arm())
        {
            RaiseUnobserved();
            Assert.Contains(log.Events, e => e.StartsWith("halt started: unhandled failure in a background task: lost", StringComparison.Ordinal));
        }
        lock (log.Events) log.Events.Clear();
        RaiseUnobserved();
        Assert.Empty(log.Events);
    }

    /// <summary>A faulted task nobody awaited, collected: the runtime reports it on the finalizer thread.</summary>
    private static void RaiseUnobserved()
    {
        Fault();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        GC.WaitForPendingFinalizers();

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        static void Fault() => _ = Task.FromException(new IOException("lost"));
    }
}

namespace AutonomousBeamline.Core.Time;

/// <summary>Sleeping that works the same on the wall clock, a test's fake clock and the dry run's virtual clock.</summary>
public static class Clock
{
    /// <summary>
    /// Waits <paramref name="delay"/> on <paramref name="time"/>. On a <see cref="VirtualTimeProvider"/>
    /// the sleep takes part in the actor protocol (time jumps when every actor sleeps);
    /// elsewhere it is an ordinary <see cref="Task.Delay(TimeSpan, TimeProvider, CancellationToken)"/>.
    /// </summary>
    public static Task SleepAsync(this TimeProvider time, TimeSpan delay, CancellationToken cancellationToken = default) =>
        time is VirtualTimeProvider virtualTime
            ? virtualTime.SleepAsync(delay, cancellationToken)
            : Task.Delay(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, time, cancellationToken);

    /// <summary>Joins the virtual clock as an actor when there is one; a no-op handle otherwise.</summary>
    public static IDisposable JoinAsActor(this TimeProvider time) =>
        time is VirtualTimeProvider virtualTime ? virtualTime.JoinActor() : NoActor.Instance;

    /// <summary>Runs <paramref name="body"/> on the thread pool as an independent actor of the clock.</summary>
    public static Task StartActor(this TimeProvider time, Func<Task> body) =>
        time is VirtualTimeProvider virtualTime ? virtualTime.StartActor(body) : Task.Run(body);

    private sealed class NoActor : IDisposable
    {
        public static readonly NoActor Instance = new();
        public void Dispose() { }
    }
}

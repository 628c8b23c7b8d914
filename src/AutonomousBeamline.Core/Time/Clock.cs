namespace AutonomousBeamline.Core.Time;

/// <summary>Sleeping that works the same on the wall clock, a test's fake clock and the dry run's virtual clock.</summary>
public static class Clock
{
    /// <summary>
    /// Waits <paramref name="delay"/> on <paramref name="time"/>; a negative delay is no wait. Elsewhere it is an ordinary
    /// <see cref="Task.Delay(TimeSpan, TimeProvider, CancellationToken)"/>, which from an actor is also a sleep of a
    /// <see cref="VirtualTimeProvider"/>. On that clock it is <see cref="VirtualTimeProvider.SleepAsync"/> instead,
    /// because outside actors only that sleep moves time by itself (a <c>Task.Delay</c> there waits for something
    /// else to move it), and it counts ticks where <c>Task.Delay</c> counts whole milliseconds.
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

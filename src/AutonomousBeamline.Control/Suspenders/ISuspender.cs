namespace AutonomousBeamline.Control.Suspenders;

/// <summary>A suspender's reading of its condition now.</summary>
/// <param name="Tripped">Whether measuring must not go on.</param>
/// <param name="Reason">What the condition is, in words an operator reads ("beam 3.2 mA below 10 mA").</param>
/// <param name="Value">The level read, where there is one (the beam current, the temperature).</param>
public sealed record SuspenderReading(bool Tripped, string Reason, double? Value = null)
{
    public static SuspenderReading Clear(string reason, double? value = null) => new(false, reason, value);
    public static SuspenderReading Trip(string reason, double? value = null) => new(true, reason, value);
}

/// <summary>What a tripped suspender means for the run.</summary>
public enum SuspenderSeverity
{
    /// <summary>Measuring waits (shutter closed) until the condition has been clear for the settle time; then the interrupted frame is taken again.</summary>
    Suspend,
    /// <summary>Measuring waits until an operator has looked: only <c>resume</c> (or skip to end, halt) clears it.</summary>
    WaitForOperator,
    /// <summary>The run cannot go on: it ends, the cell in its safe state.</summary>
    EndRun,
}

/// <summary>
/// One condition under which no frame may be taken, in the manner of Bluesky's suspenders: checked as a level (never
/// only on its edges) before every acquisition and while suspended, with a settle time and actions before the
/// suspension and after it. A suspender installed while its condition already holds trips at the first check.
/// </summary>
public interface ISuspender
{
    /// <summary>A short name for the journal ("beam", "interlock", "temperature").</summary>
    string Name { get; }

    SuspenderSeverity Severity { get; }

    /// <summary>How long the condition must stay clear before measuring resumes.</summary>
    TimeSpan SettleTime { get; }

    /// <summary>Reads the level now. A failure to read it is the device's error, not a trip.</summary>
    Task<SuspenderReading> CheckAsync(CancellationToken cancellationToken);

    /// <summary>After the shutter has closed, before waiting: what else the condition needs (hold the cell, say).</summary>
    Task BeforeSuspendAsync(CancellationToken cancellationToken);

    /// <summary>Once the suspension has ended, before measuring again.</summary>
    Task AfterResumeAsync(CancellationToken cancellationToken);

    /// <summary>An operator's <c>resume</c>: a <see cref="SuspenderSeverity.WaitForOperator"/> suspender clears; others ignore it.</summary>
    void OperatorResumed(string by);
}

/// <summary>A suspender with nothing to do before or after, and that no operator can clear.</summary>
public abstract class LevelSuspender : ISuspender
{
    public abstract string Name { get; }
    public virtual SuspenderSeverity Severity => SuspenderSeverity.Suspend;
    public abstract TimeSpan SettleTime { get; }
    public abstract Task<SuspenderReading> CheckAsync(CancellationToken cancellationToken);
    public virtual Task BeforeSuspendAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public virtual Task AfterResumeAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public virtual void OperatorResumed(string by) { }
}

/// <summary>A suspender whose condition ends the run (the cell's protocol faulted); <see cref="Suspender"/> names it.</summary>
public sealed class RunEndedBySuspenderException(string suspender, string reason) : Exception(reason)
{
    public string Suspender { get; } = suspender;
}

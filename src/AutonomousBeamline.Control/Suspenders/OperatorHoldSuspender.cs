using AutonomousBeamline.Control.Cycling;

namespace AutonomousBeamline.Control.Suspenders;

/// <summary>
/// An operator's <c>suspend</c>: suspend to the safe state, shutter closed and the cell held at open circuit (the
/// step's clock stopped), until the operator resumes.
/// </summary>
public sealed class OperatorHoldSuspender(Cycler cycler) : LevelSuspender
{
    private string? _by;
    private string? _holder;

    public override string Name => "operator";

    public override SuspenderSeverity Severity => SuspenderSeverity.WaitForOperator;

    public override TimeSpan SettleTime => TimeSpan.Zero;

    /// <summary>Who holds the run, or null.</summary>
    public string? HeldBy => Volatile.Read(ref _by);

    public void Engage(string by)
    {
        _holder = by;
        Volatile.Write(ref _by, by);
    }

    public override Task<SuspenderReading> CheckAsync(CancellationToken cancellationToken) =>
        Task.FromResult(HeldBy is { } by
            ? SuspenderReading.Trip($"operator {by}")
            : SuspenderReading.Clear("not held by an operator"));

    public override Task BeforeSuspendAsync(CancellationToken cancellationToken)
    {
        cycler.Hold(_holder ?? "operator");
        return Task.CompletedTask;
    }

    public override Task AfterResumeAsync(CancellationToken cancellationToken)
    {
        cycler.Release(_holder ?? "operator");
        return Task.CompletedTask;
    }

    public override void OperatorResumed(string by) => Volatile.Write(ref _by, null);
}

namespace AutonomousBeamline.Control.Suspenders;

/// <summary>
/// Frames the analysis cannot use, one after another: the model of the sample does not fit the data (the X-ray
/// energy, the references or the edge are not what the config says). Taking more of them only wastes beam, so after
/// <c>limit</c> in a row measuring waits for an operator to look (resume, change the settings, or halt).
/// </summary>
public sealed class UnusableDataSuspender : LevelSuspender
{
    private readonly int _limit;
    private int _inARow;
    private string? _lastFlag;

    public UnusableDataSuspender(int limit)
    {
        if (limit < 1) throw new ArgumentOutOfRangeException(nameof(limit), limit, "at least one unusable frame must be allowed");
        _limit = limit;
    }

    public override string Name => "unusable data";

    public override SuspenderSeverity Severity => SuspenderSeverity.WaitForOperator;

    public override TimeSpan SettleTime => TimeSpan.Zero;

    public int InARow => Volatile.Read(ref _inARow);

    /// <summary>What the analysis made of the last frame (null flag: usable).</summary>
    public void Record(string? flag)
    {
        _lastFlag = flag ?? _lastFlag;
        if (flag is null) Volatile.Write(ref _inARow, 0);
        else Interlocked.Increment(ref _inARow);
    }

    public override Task<SuspenderReading> CheckAsync(CancellationToken cancellationToken) =>
        Task.FromResult(InARow >= _limit
            ? SuspenderReading.Trip($"{InARow} unusable frames in a row (last flagged '{_lastFlag}'): the analysis does not fit the data; " +
                                    "check the X-ray energy, the reference patterns and the absorption edge against the sample", InARow)
            : SuspenderReading.Clear($"{InARow} unusable frames in a row", InARow));

    /// <summary>The operator has looked: counting starts again.</summary>
    public override void OperatorResumed(string by) => Volatile.Write(ref _inARow, 0);
}

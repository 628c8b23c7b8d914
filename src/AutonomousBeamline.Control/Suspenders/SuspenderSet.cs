using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Control.Engine;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Time;

namespace AutonomousBeamline.Control.Suspenders;

/// <summary>A suspender that tripped, with what it read.</summary>
public sealed record Trip(ISuspender Suspender, SuspenderReading Reading);

/// <summary>
/// The run's suspenders, checked in one order as a level: the cell first (a fault there ends the run), then an operator's
/// hold, unusable data, the beam, the interlock, the run folder's disk and, where the cell has a thermometer, its temperature.
/// </summary>
public sealed class SuspenderSet
{
    private static readonly TimeSpan HeldPoll = TimeSpan.FromSeconds(1);

    private readonly List<ISuspender> _all;
    private readonly RunRecorder _recorder;
    private readonly TimeProvider _time;
    private readonly TimeSpan _levelPoll;
    private readonly double _thresholdMa;
    private readonly TimeSpan _operatorWait;

    public SuspenderSet(RunPlan plan, RunDevices devices, Cycler cycler, Func<Exception?> cellFault, Action<MotionStatus> observed, RunRecorder recorder, TimeProvider time)
    {
        (_recorder, _time, _levelPoll, _thresholdMa) = (recorder, time, TimeSpan.FromSeconds(plan.Beam.PollS), plan.Beam.ThresholdMa);
        Hold = new OperatorHoldSuspender(cycler);
        Unusable = new UnusableDataSuspender(plan.Acquisition.UnusableData);
        _operatorWait = TimeSpan.FromSeconds(plan.Acquisition.UnusableData.OperatorWaitS);
        _all = [new CellFaultSuspender(cellFault), Hold, Unusable, new BeamCurrentSuspender(devices.Motion, plan.Beam, observed),
            new InterlockSuspender(devices.Motion, TimeSpan.FromSeconds(plan.Beam.SettleS))];
        if (devices.Disk is { } disk) _all.Add(new DiskSpaceSuspender(disk, cycler));
        if (devices.Temperature is { } thermometer && plan.TemperatureWindowC is { } window)
            _all.Add(new TemperatureSuspender(thermometer, window.MinC, window.MaxC, TimeSpan.FromSeconds(window.SettleS), cycler,
                new TransientRetry(time, recorder.Journal, attempts: 3)));
    }

    public OperatorHoldSuspender Hold { get; }
    public UnusableDataSuspender Unusable { get; }

    /// <summary>
    /// Every level now, the tripped ones in order. One that ends the run throws, so a cell fault ends the run from any
    /// state that checks; with <paramref name="onlyFatal"/> only those are read (the waiting states, which take no frame).
    /// </summary>
    public async Task<List<Trip>> CheckAsync(bool onlyFatal, CancellationToken ct)
    {
        var tripped = new List<Trip>();
        foreach (var suspender in _all.Where(s => !onlyFatal || s.Severity == SuspenderSeverity.EndRun))
        {
            var reading = await suspender.CheckAsync(ct).ConfigureAwait(false);
            if (!reading.Tripped) continue;
            if (suspender.Severity == SuspenderSeverity.EndRun) throw new RunEndedBySuspenderException(suspender.Name, reading.Reason);
            tripped.Add(new Trip(suspender, reading));
        }
        return tripped;
    }

    /// <summary>An operator's <c>resume</c>: every suspender that waits for one clears.</summary>
    public void OperatorResumed(string by) => _all.ForEach(s => s.OperatorResumed(by));

    /// <summary>
    /// The suspension: counted and journalled, the shutter closed, then it waits until every suspender that tripped meanwhile has been clear for its
    /// settle time, running each one's actions before and after. <paramref name="operatorAsks"/> is asked at every poll and
    /// ends the wait with the trigger it names (skip to end, say). Otherwise the trigger is <see cref="RunTrigger.ConditionCleared"/>
    /// (take the interrupted frame again), or <see cref="RunTrigger.Resume"/> when only an operator could clear the suspension
    /// (decide afresh).
    /// </summary>
    public async Task<RunTrigger> SuspendAsync(Trip first, Func<CancellationToken, Task> closeShutter, Func<RunTrigger?> operatorAsks, CancellationToken ct)
    {
        var since = _time.GetUtcNow();
        var beam = first.Suspender is BeamCurrentSuspender;
        _recorder.Counts(c => c with { Suspensions = c.Suspensions + 1 });
        _recorder.Write(new Suspended(first.Reading.Reason, first.Suspender.Name, beam ? first.Reading.Value : null, beam ? _thresholdMa : null,
            first.Suspender == Hold ? "held at open circuit" : null));
        await closeShutter(ct).ConfigureAwait(false);
        var tripped = new List<ISuspender>();
        DateTimeOffset? clearSince = null;
        for (var still = new List<Trip> { first }; ; still = await CheckAsync(onlyFatal: false, ct).ConfigureAwait(false))
        {
            foreach (var trip in still.Where(t => !tripped.Contains(t.Suspender)))
            {
                if (tripped.Count > 0) _recorder.Write(new SuspenderTripped(trip.Suspender.Name, trip.Reading.Reason));
                tripped.Add(trip.Suspender);
                await trip.Suspender.BeforeSuspendAsync(ct).ConfigureAwait(false);
                _recorder.Report($"suspended: {trip.Reading.Reason}; the shutter is closed");
            }
            var now = _time.GetUtcNow();
            if (still.Count > 0) clearSince = null;
            else if ((clearSince ??= now) + tripped.Max(s => s.SettleTime) <= now) break;
            if (operatorAsks() is { } asked) return asked;
            // Unusable data clear only when someone looks. Unattended, nobody will: rather than wait all night with the
            // beam unused, the run ends (the engine's recovery policy makes the cell safe first, then journals why).
            if (now - since >= _operatorWait && still.FirstOrDefault(t => t.Suspender == Unusable) is { } unusable)
                throw new RunEndedBySuspenderException(Unusable.Name, FormattableString.Invariant(
                    $"{unusable.Reading.Reason}; nobody resumed within {_operatorWait.TotalSeconds:0} s (acquisition.unusable_operator_wait_s), so the run ends with the cell in its safe state"));
            // A level that clears by itself is polled at the beam's period; a hold only an operator clears, every second.
            await _time.SleepAsync(tripped.Any(s => s.Severity == SuspenderSeverity.Suspend) ? _levelPoll : HeldPoll, ct).ConfigureAwait(false);
        }
        foreach (var suspender in tripped) await suspender.AfterResumeAsync(ct).ConfigureAwait(false);
        var byOperator = tripped.All(s => s.Severity == SuspenderSeverity.WaitForOperator);
        _recorder.Write(new SuspensionEnded(
            byOperator ? "resumed by the operator" : FormattableString.Invariant($"{string.Join(", ", tripped.Select(s => s.Name))} clear for {tripped.Max(s => s.SettleTime).TotalSeconds:0} s"),
            _recorder.Status.Current.BeamCurrentMa, (_time.GetUtcNow() - since).TotalSeconds));
        _recorder.Report(byOperator ? "resumed; re-deciding from the present state" : "resumed; re-taking the interrupted frame");
        return byOperator ? RunTrigger.Resume : RunTrigger.ConditionCleared;
    }
}

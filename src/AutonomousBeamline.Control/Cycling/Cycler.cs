using System.Globalization;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Safety;
using AutonomousBeamline.Core.Time;

namespace AutonomousBeamline.Control.Cycling;

/// <summary>The cell as last measured, with the charge-counted state of charge.</summary>
public sealed record CellReading(
    DateTimeOffset Time, double VoltageV, double CurrentA, double StateOfCharge,
    string Step, int Cycle, double CRate, bool OutputOn);

/// <summary>
/// A step the cycler is about to run, as a planner sees it: <see cref="CRate"/> is the signed C-rate it will
/// source with the requests made so far (null for a step that sources no constant current), and
/// <see cref="CRateAdjustable"/> says whether <see cref="Cycler.RequestCRate"/> can change it.
/// </summary>
public sealed record UpcomingStep(string Name, string Path, StepKind Kind, int Cycle, double? CRate, bool CRateAdjustable);

/// <summary>
/// A step boundary: the step that just ended (null before the first), why it ended, and the one that comes next
/// (null after the last). Handlers run on the cycler before the next step is configured, so a C-rate requested
/// from a handler applies to <see cref="Next"/>.
/// </summary>
public sealed record StepBoundary(ScheduledStep? Ended, string? EndReason, UpcomingStep? Next);

/// <summary>
/// Runs the cell's protocol on its own clock actor, independently of the measurement loop (the cell
/// never waits for the beam). It counts charge for the state-of-charge estimate, ends each step on its
/// terminations, and takes the cell to the safe state on any fault or measured excursion.
/// </summary>
/// <remarks>
/// Every step is a sequence of phases (one for cc, cv and rest; cc then cv for cccv; pulse and rest pairs for
/// gitt). Each phase starts with the output off, sets the compliance, and only then turns the output on: the
/// instrument is never reconfigured live. The compliance of a galvanostatic phase is the window's edge in the
/// direction of travel, so the instrument itself stops the cell if a sample comes too late.
/// </remarks>
public sealed class Cycler
{

    private readonly IPotentiostat _potentiostat;
    private readonly CyclingProtocol _protocol;
    private readonly CellLimits _cell;
    private readonly TimeProvider _time;
    private readonly IRunJournal _journal;
    private readonly IReadOnlyList<ScheduledStep> _schedule;
    private readonly TransientRetry _transientRetry;
    private readonly object _gate = new();
    private CellReading _latest;
    private double? _requestedCRate;
    private string _requestedBy = "protocol";
    private int _position = -1;
    private int _stepsCompleted;
    private int _resumeIndex;
    private bool _held;

    public Cycler(IPotentiostat potentiostat, CyclingProtocol protocol, CellLimits cell, TimeProvider time, IRunJournal journal)
    {
        ArgumentNullException.ThrowIfNull(potentiostat);
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(cell);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(journal);
        _potentiostat = potentiostat;
        _protocol = protocol;
        _cell = cell;
        _time = time;
        _journal = journal;
        _schedule = protocol.Schedule();
        _transientRetry = new TransientRetry(time, journal);
        _latest = new CellReading(time.GetUtcNow(), double.NaN, 0, cell.InitialStateOfCharge, "(not started)", 0, 0, false);
    }

    /// <summary>
    /// The cell's thermometer, where the equipment has one: read with every sample so that the temperature is logged beside
    /// voltage and current (the temperature suspender guards the window; a reading that fails here only leaves a gap).
    /// </summary>
    public ITemperatureSensor? Thermometer { get; init; }

    /// <summary>Raised at every step boundary, on the cycler's own flow; handlers must be quick and must not block.</summary>
    public event Action<StepBoundary>? StepBoundary;

    public CellReading Latest
    {
        get { lock (_gate) return _latest; }
    }

    /// <summary>Step runs finished so far (a loop's steps count once per pass; a cccv or gitt step counts once).</summary>
    public int StepsCompleted => Volatile.Read(ref _stepsCompleted);

    /// <summary>Step runs in the whole protocol, loops and cycles unrolled.</summary>
    public int StepsTotal => _schedule.Count;

    /// <summary>The cycle now running (0 before the start).</summary>
    public int CurrentCycle
    {
        get { lock (_gate) return _position < 0 ? 0 : _schedule[Math.Min(_position, _schedule.Count - 1)].Cycle; }
    }

    /// <summary>The step now running, or null before the start and after the end.</summary>
    public ScheduledStep? CurrentStep
    {
        get { lock (_gate) return _position >= 0 && _position < _schedule.Count ? _schedule[_position] : null; }
    }

    /// <summary>The next step to run with the C-rate it would have now, or null when none follows.</summary>
    public UpcomingStep? NextStep
    {
        get { lock (_gate) return PreviewLocked(_position + 1); }
    }

    /// <summary>The C-rate magnitude requested for the coming cc and cccv steps, or null for the steps' own rates.</summary>
    public double? RequestedCRate
    {
        get { lock (_gate) return _requestedCRate; }
    }

    /// <summary>
    /// The state of charge at <paramref name="t"/>: the last charge-counted value carried forward at
    /// the last measured current, so that a frame between two samples gets its own value.
    /// </summary>
    public double EstimateStateOfCharge(DateTimeOffset t)
    {
        var last = Latest;
        var dt = Math.Max(0, (t - last.Time).TotalHours);
        return Math.Clamp(last.StateOfCharge + last.CurrentA * dt / _cell.NominalCapacityAh, 0, 1);
    }

    /// <summary>
    /// Asks for a different C-rate magnitude from the next cc or cccv step on (the running step keeps its
    /// current: a change happens only at a step boundary). Refused with <see cref="ArgumentOutOfRangeException"/>
    /// outside the cell's window (maximum C-rate and current); the guarded driver checks again.
    /// </summary>
    public void RequestCRate(double cRate, string requestedBy)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(requestedBy);
        string? refusal = null;
        if (!(cRate > 0) || !double.IsFinite(cRate) || cRate > _cell.MaxCRate)
            refusal = Inv($"C-rate {cRate} is outside (0, {_cell.MaxCRate}] of the cell's window");
        else if (cRate * _cell.NominalCapacityAh > _cell.CurrentCeilingA)
            refusal = Inv($"C-rate {cRate} is {cRate * _cell.NominalCapacityAh} A, above the cell's maximum current {_cell.CurrentCeilingA} A");
        if (refusal is not null)
        {
            _journal.Write(new CRateRefused(cRate, requestedBy, refusal));
            throw new ArgumentOutOfRangeException(nameof(cRate), refusal);
        }
        lock (_gate)
        {
            _requestedCRate = cRate;
            _requestedBy = requestedBy;
        }
        _journal.Write(new CRateRequested(cRate, requestedBy, "next constant-current step"));
    }

    /// <summary>Runs every cycle of the protocol; the cell ends with the output off, also on error or cancellation.</summary>
    /// <summary>Whether an operator's suspend holds the cell at open circuit.</summary>
    public bool IsHeld => Volatile.Read(ref _held);

    /// <summary>
    /// An operator's suspend: at its next sample the cycler turns the output off (open circuit, the safe state) and
    /// waits; the step's clock stops meanwhile. <see cref="Release"/> reconfigures the step and goes on.
    /// </summary>
    public void Hold(string by)
    {
        Volatile.Write(ref _held, true);
        _journal.Write(new ProtocolHoldRequested(by));
    }

    public void Release(string by)
    {
        Volatile.Write(ref _held, false);
        _journal.Write(new ProtocolReleaseRequested(by));
    }

    private async Task<TimeSpan> HoldAsync(StepRun run, Phase phase, CancellationToken ct)
    {
        await RetryTransientAsync("output off for a hold", async () => { await _potentiostat.SetOutputAsync(false, ct).ConfigureAwait(false); return true; }, ct).ConfigureAwait(false);
        var heldAt = _time.GetUtcNow();
        // No current flows while held: the charge count must not carry the last current across the hold.
        lock (_gate) _latest = _latest with { Time = heldAt, CurrentA = 0, OutputOn = false };
        _journal.Write(new ProtocolHeld(run.Step.Name, run.Entry.Path, phase.Name, "off"));
        while (IsHeld) await _time.SleepAsync(run.SamplePeriod, ct).ConfigureAwait(false);
        var heldFor = _time.GetUtcNow() - heldAt;
        lock (_gate) _latest = _latest with { Time = _time.GetUtcNow(), CurrentA = 0 };
        _journal.Write(new ProtocolReleased(run.Step.Name, run.Entry.Path, phase.Name, heldFor.TotalSeconds));
        await ConfigureAsync(run, phase, ct).ConfigureAwait(false);
        return heldFor;
    }

    /// <summary>
    /// After a crash: the protocol goes on from the step that was interrupted (it starts again, with its terminations
    /// judged on fresh samples: a cut-off reached meanwhile ends it at once), with the charge count carried over.
    /// Call before <see cref="RunAsync"/>.
    /// </summary>
    public void ResumeAt(int stepsCompleted, double stateOfCharge, double? requestedCRate)
    {
        if (stepsCompleted < 0 || stepsCompleted > _schedule.Count)
            throw new ArgumentOutOfRangeException(nameof(stepsCompleted), stepsCompleted, $"the protocol has {_schedule.Count} step runs");
        _resumeIndex = stepsCompleted;
        Interlocked.Exchange(ref _stepsCompleted, stepsCompleted);
        lock (_gate)
        {
            _latest = _latest with { StateOfCharge = Math.Clamp(stateOfCharge, 0, 1) };
            if (requestedCRate is { } r) _requestedCRate = r;
        }
        _journal.Write(new ProtocolResumed(stepsCompleted, stateOfCharge, _resumeIndex < _schedule.Count ? _schedule[_resumeIndex].Path : null));
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            RaiseBoundary(null, null, _resumeIndex);
            var cycle = _resumeIndex > 0 && _resumeIndex < _schedule.Count ? _schedule[_resumeIndex].Cycle : 0;
            for (var i = _resumeIndex; i < _schedule.Count; i++)
            {
                var entry = _schedule[i];
                if (entry.Cycle != cycle)
                {
                    cycle = entry.Cycle;
                    StartCycle(cycle);
                }
                lock (_gate) _position = i;
                var reason = await RunStepAsync(entry, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _stepsCompleted);
                RaiseBoundary(entry, reason, i + 1);
            }
            lock (_gate) _position = _schedule.Count;
            _journal.Write(new ProtocolDone(StepsCompleted, _protocol.Cycles));
        }
        finally
        {
            await _potentiostat.EnterSafeStateAsync(CancellationToken.None).ConfigureAwait(false);
            lock (_gate) _latest = _latest with { CurrentA = 0, OutputOn = false, Step = "(safe)" };
        }
    }

    private void StartCycle(int cycle)
    {
        _journal.Write(new CycleStarted(cycle, _protocol.Cycles));
        var rates = _protocol.CRateByCycle;
        if (cycle - 1 < rates.Count) RequestCRate(rates[cycle - 1], "protocol.c_rate_by_cycle");
    }

    private void RaiseBoundary(ScheduledStep? ended, string? reason, int nextIndex)
    {
        var handlers = StepBoundary;
        if (handlers is null) return;
        UpcomingStep? next;
        lock (_gate) next = PreviewLocked(nextIndex);
        var boundary = new StepBoundary(ended, reason, next);
        foreach (var handler in handlers.GetInvocationList().Cast<Action<StepBoundary>>())
        {
            // A planner's mistake must not stop the cell's protocol half-way: it is recorded and the step runs as planned.
            try { handler(boundary); }
            catch (Exception e) { _journal.Write(new StepBoundaryHandlerFailed(e.GetType().Name, e.Message)); }
        }
    }

    private UpcomingStep? PreviewLocked(int index)
    {
        if (index < 0 || index >= _schedule.Count) return null;
        var entry = _schedule[index];
        var step = entry.Step;
        double? rate = step.Kind.SourcesCurrent() ? step.SourceCurrent(_cell.NominalCapacityAh, _requestedCRate).CRate : null;
        return new UpcomingStep(step.Name, entry.Path, step.Kind, entry.Cycle, rate, step.Kind.HasAdjustableCRate());
    }

    // ---- one step ---------------------------------------------------------------------------------------------

    private enum Source { Off, Current, Voltage }

    /// <summary>How a phase ended: by its own condition, its own duration, or a limit of the whole step.</summary>
    private enum PhaseEnd { Condition, PhaseTime, StepTimeLimit, StepChargeLimit }

    /// <summary>
    /// One phase: what is sourced, for how long at most, and when it has done its job. <see cref="Condition"/>
    /// gets the phase's samples so far (newest last) and returns why the phase is done, or null.
    /// </summary>
    private sealed record Phase(
        string Name, Source Source, double Level, double Compliance, TimeSpan? Duration,
        Func<IReadOnlyList<CellReading>, string?>? Condition, double? ApproachVoltageV, double CRate);

    /// <summary>The state shared by the phases of one step run.</summary>
    private sealed class StepRun(ScheduledStep entry, DateTimeOffset start, TimeSpan samplePeriod)
    {
        public ScheduledStep Entry { get; } = entry;
        public ProtocolStep Step => Entry.Step;
        /// <summary>When the step began, moved on by any time it spent held (a hold does not count against its limits).</summary>
        public DateTimeOffset Start { get; set; } = start;
        public TimeSpan SamplePeriod { get; } = samplePeriod;
        public double ChargeAh { get; set; }
        public CellReading? Last { get; set; }
    }

    private async Task<string> RunStepAsync(ScheduledStep entry, CancellationToken ct)
    {
        var step = entry.Step;
        double? requested;
        string requestedBy;
        lock (_gate) { requested = _requestedCRate; requestedBy = _requestedBy; }
        var (cRate, currentA) = step.SourceCurrent(_cell.NominalCapacityAh, requested);
        var sourcesCurrent = step.Kind.SourcesCurrent();
        var adjusted = requested is not null && step.Kind.HasAdjustableCRate();

        var run = new StepRun(entry, _time.GetUtcNow(), step.SamplePeriod ?? _protocol.SamplePeriod);
        _journal.Write(new StepStarted(step.Name, entry.Path, entry.Cycle, step.Kind.Spelling(),
            sourcesCurrent ? cRate : 0, sourcesCurrent ? currentA : 0, sourcesCurrent ? (adjusted ? requestedBy : "protocol") : null,
            step.Kind is StepKind.ConstantVoltage or StepKind.ConstantCurrentConstantVoltage ? step.HoldVoltageV : null,
            step.MaxDuration.TotalSeconds, run.SamplePeriod.TotalSeconds));

        string reason, endedBy;
        try
        {
            (reason, endedBy) = step.Kind switch
            {
                StepKind.ConstantCurrent => await RunConstantCurrentAsync(run, cRate, currentA, ct).ConfigureAwait(false),
                StepKind.ConstantVoltage => await RunConstantVoltageAsync(run, ct).ConfigureAwait(false),
                StepKind.ConstantCurrentConstantVoltage => await RunCccvAsync(run, cRate, currentA, ct).ConfigureAwait(false),
                StepKind.Rest => await RunRestAsync(run, ct).ConfigureAwait(false),
                StepKind.Gitt => await RunGittAsync(run, cRate, currentA, ct).ConfigureAwait(false),
                _ => throw new InvalidOperationException(Inv($"step '{step.Name}' of kind {step.Kind} cannot run on its own")),
            };
        }
        catch (Exception e)
        {
            var stopped = e is OperationCanceledException;
            WriteStepEnd(run, stopped ? "stopped before its end" : "fault: " + e.Message, stopped ? "stopped" : "fault");
            throw;
        }
        WriteStepEnd(run, reason, endedBy);
        return reason;
    }

    private void WriteStepEnd(StepRun run, string reason, string endedBy)
    {
        var last = run.Last;
        _journal.Write(new StepEnded(run.Step.Name, run.Entry.Path, run.Entry.Cycle, run.Step.Kind.Spelling(), reason, endedBy,
            (_time.GetUtcNow() - run.Start).TotalSeconds, run.ChargeAh, last?.VoltageV, last?.StateOfCharge));
    }

    /// <summary>The journal's <c>ended_by</c> code for a step that ended on one of its general limits.</summary>
    private static string EndedByCode(PhaseEnd end) => end switch
    {
        PhaseEnd.StepTimeLimit => "time_limit",
        PhaseEnd.StepChargeLimit => "charge_limit",
        PhaseEnd.PhaseTime => "phase_time",
        _ => "condition",
    };

    private Phase CurrentPhase(string name, double cRate, double currentA, TimeSpan? duration,
        double? stopVoltage, string stopWhat)
    {
        // Directional compliance: a charge may rise to the window's top, a discharge fall to its bottom.
        var compliance = currentA >= 0 ? _cell.VoltageMaxV : _cell.VoltageMinV;
        Func<IReadOnlyList<CellReading>, string?>? condition = stopVoltage is { } v
            ? samples =>
            {
                var r = samples[^1];
                return (currentA > 0 ? r.VoltageV >= v : r.VoltageV <= v) ? Inv($"{stopWhat} {v} V reached ({r.VoltageV:0.000} V)") : null;
            }
            : null;
        return new Phase(name, Source.Current, currentA, compliance, duration, condition, stopVoltage, cRate);
    }

    private static Phase VoltagePhase(string name, double holdV, double currentLimitA, double? stopBelowA) => new(
        name, Source.Voltage, holdV, currentLimitA, null,
        stopBelowA is { } limit
            ? samples => Math.Abs(samples[^1].CurrentA) < limit ? Inv($"current fell below {limit} A ({samples[^1].CurrentA:0.000e0} A)") : null
            : null,
        null, 0);

    private async Task<(string, string)> RunConstantCurrentAsync(StepRun run, double cRate, double currentA, CancellationToken ct)
    {
        var phase = CurrentPhase("cc", cRate, currentA, null, run.Step.CutoffVoltageV, "voltage cut-off");
        var (end, reason) = await RunPhaseAsync(run, phase, journalPhase: false, ct).ConfigureAwait(false);
        return (reason, end == PhaseEnd.Condition ? "voltage_cutoff" : EndedByCode(end));
    }

    private async Task<(string, string)> RunConstantVoltageAsync(StepRun run, CancellationToken ct)
    {
        var phase = VoltagePhase("cv", run.Step.HoldVoltageV, _cell.CurrentCeilingA, run.Step.CutoffCurrentA);
        var (end, reason) = await RunPhaseAsync(run, phase, journalPhase: false, ct).ConfigureAwait(false);
        return (reason, end == PhaseEnd.Condition ? "current_below_limit" : EndedByCode(end));
    }

    private async Task<(string, string)> RunCccvAsync(StepRun run, double cRate, double currentA, CancellationToken ct)
    {
        var step = run.Step;
        var cc = CurrentPhase("cc", cRate, currentA, null, step.HoldVoltageV, "voltage");
        var (end, reason) = await RunPhaseAsync(run, cc, journalPhase: true, ct).ConfigureAwait(false);
        if (end != PhaseEnd.Condition) return (reason + " in the constant-current phase", EndedByCode(end));

        // The hold may not draw more than the constant current did: the cell sees no step up in rate.
        var cv = VoltagePhase("cv", step.HoldVoltageV, Math.Abs(currentA), step.CutoffCurrentA);
        (end, reason) = await RunPhaseAsync(run, cv, journalPhase: true, ct).ConfigureAwait(false);
        return end == PhaseEnd.Condition
            ? (reason + " in the constant-voltage phase", "current_below_limit")
            : (reason + " in the constant-voltage phase", EndedByCode(end));
    }

    private async Task<(string, string)> RunRestAsync(StepRun run, CancellationToken ct)
    {
        var step = run.Step;
        Func<IReadOnlyList<CellReading>, string?>? settled = null;
        if (step.DvDtThresholdVPerS is { } threshold)
        {
            var window = step.DvDtWindow;
            settled = samples =>
            {
                var now = samples[^1];
                // The newest sample at least one window old: the slope is taken over no less than the window.
                for (var i = samples.Count - 2; i >= 0; i--)
                {
                    var span = now.Time - samples[i].Time;
                    if (span < window) continue;
                    var slope = Math.Abs(now.VoltageV - samples[i].VoltageV) / span.TotalSeconds;
                    return slope < threshold ? Inv($"|dV/dt| {slope:0.00e0} V/s over {span.TotalSeconds:0} s below {threshold} V/s") : null;
                }
                return null;
            };
        }
        var phase = new Phase("rest", Source.Off, 0, 0, null, settled, null, 0);
        var (end, reason) = await RunPhaseAsync(run, phase, journalPhase: false, ct).ConfigureAwait(false);
        return (reason, end == PhaseEnd.Condition ? "dv_dt_below_threshold" : EndedByCode(end));
    }

    private async Task<(string, string)> RunGittAsync(StepRun run, double cRate, double currentA, CancellationToken ct)
    {
        var step = run.Step;
        for (var pulse = 1; pulse <= step.MaxPulses; pulse++)
        {
            var pulsePhase = CurrentPhase(Inv($"pulse {pulse}"), cRate, currentA, step.PulseDuration, step.CutoffVoltageV, "voltage limit");
            var (end, reason) = await RunPhaseAsync(run, pulsePhase, journalPhase: true, ct).ConfigureAwait(false);
            if (end is PhaseEnd.StepTimeLimit or PhaseEnd.StepChargeLimit) return (Inv($"{reason} in pulse {pulse}"), EndedByCode(end));
            var limitReached = end == PhaseEnd.Condition;

            // The relaxation after the last pulse is part of the titration's data, so it runs even at the limit.
            var restPhase = new Phase(Inv($"rest {pulse}"), Source.Off, 0, 0, step.RestDuration, null, null, 0);
            var (restEnd, restReason) = await RunPhaseAsync(run, restPhase, journalPhase: true, ct).ConfigureAwait(false);
            if (limitReached) return (Inv($"{reason} in pulse {pulse}"), "voltage_limit");
            if (restEnd is PhaseEnd.StepTimeLimit or PhaseEnd.StepChargeLimit) return (Inv($"{restReason} in the rest after pulse {pulse}"), EndedByCode(restEnd));
        }
        return (Inv($"all {step.MaxPulses} pulses given"), "max_pulses");
    }

    // ---- one phase --------------------------------------------------------------------------------------------

    private async Task<(PhaseEnd End, string Reason)> RunPhaseAsync(StepRun run, Phase phase, bool journalPhase, CancellationToken ct)
    {
        var step = run.Step;
        await ConfigureAsync(run, phase, ct).ConfigureAwait(false);
        var phaseStart = _time.GetUtcNow();
        if (journalPhase)
            _journal.Write(new PhaseStarted(step.Name, run.Entry.Path, run.Entry.Cycle, phase.Name,
                phase.Source.ToString().ToLowerInvariant(), phase.Source == Source.Off ? null : phase.Level));

        var samples = new List<CellReading>();
        var phaseCharge = 0.0;
        PhaseEnd end;
        string reason;
        while (true)
        {
            var reading = await SampleAsync(run, phase, ct).ConfigureAwait(false);
            if (samples.Count > 0)
            {
                var previous = samples[^1];
                var dq = Math.Abs((previous.CurrentA + reading.CurrentA) / 2) * (reading.Time - previous.Time).TotalHours;
                run.ChargeAh += dq;
                phaseCharge += dq;
            }
            samples.Add(reading);
            run.Last = reading;
            // Only the window for dV/dt is needed; older samples would only grow the list over a long rest.
            if (phase.Source == Source.Off && step.DvDtThresholdVPerS is not null) TrimToWindow(samples, step.DvDtWindow);
            else if (samples.Count > 2) samples.RemoveRange(0, samples.Count - 2);

            if (reading.VoltageV > _cell.VoltageMaxV || reading.VoltageV < _cell.VoltageMinV)
                throw new CellWindowException(
                    Inv($"measured {reading.VoltageV:0.000} V is outside the cell window [{_cell.VoltageMinV}, {_cell.VoltageMaxV}] V during step '{step.Name}'"));

            if (phase.Condition?.Invoke(samples) is { } done) { end = PhaseEnd.Condition; reason = done; break; }
            if (step.MaxChargeAh is { } qMax && run.ChargeAh >= qMax)
            { end = PhaseEnd.StepChargeLimit; reason = Inv($"charge limit {qMax} Ah passed ({run.ChargeAh:0.######} Ah)"); break; }
            var stepLeft = step.MaxDuration - (reading.Time - run.Start);
            if (stepLeft <= TimeSpan.Zero)
            { end = PhaseEnd.StepTimeLimit; reason = Inv($"time limit {step.MaxDuration.TotalSeconds:0.###} s reached"); break; }
            var phaseLeft = phase.Duration is { } d ? d - (reading.Time - phaseStart) : TimeSpan.MaxValue;
            if (phaseLeft <= TimeSpan.Zero)
            { end = PhaseEnd.PhaseTime; reason = Inv($"{phase.Name} of {phase.Duration!.Value.TotalSeconds:0.###} s done"); break; }

            if (IsHeld)
            {
                var heldFor = await HoldAsync(run, phase, ct).ConfigureAwait(false);
                run.Start += heldFor;
                phaseStart += heldFor;
                samples.Clear();
                continue;
            }

            // Never sleep past a time limit, so that a step or a GITT pulse ends on time, not up to a period late.
            var period = NextSamplePeriod(run, phase, reading);
            if (stepLeft < period) period = stepLeft;
            if (phaseLeft < period) period = phaseLeft;
            await _time.SleepAsync(period, ct).ConfigureAwait(false);
        }

        if (journalPhase)
            _journal.Write(new PhaseEnded(step.Name, run.Entry.Path, run.Entry.Cycle, phase.Name, reason,
                (_time.GetUtcNow() - phaseStart).TotalSeconds, phaseCharge, run.Last?.VoltageV, run.Last?.CurrentA));
        return (end, reason);
    }

    private static void TrimToWindow(List<CellReading> samples, TimeSpan window)
    {
        var now = samples[^1].Time;
        // Keep the newest sample at least a window old and everything after it.
        var keepFrom = 0;
        for (var i = samples.Count - 2; i >= 0; i--)
        {
            if (now - samples[i].Time >= window) { keepFrom = i; break; }
        }
        if (keepFrom > 0) samples.RemoveRange(0, keepFrom);
    }

    /// <summary>
    /// Output off, then the source and its compliance, then output on. A refusal by the safety envelope is a
    /// refused request, not a glitch: it is recorded and ends the protocol, and is never retried.
    /// </summary>
    private Task ConfigureAsync(StepRun run, Phase phase, CancellationToken ct) =>
        RetryTransientAsync($"configure {run.Entry.Path}/{phase.Name}", async () =>
        {
            await ConfigureOnceAsync(run, phase, ct).ConfigureAwait(false);
            return true;
        }, ct);

    private async Task ConfigureOnceAsync(StepRun run, Phase phase, CancellationToken ct)
    {
        await _potentiostat.SetOutputAsync(false, ct).ConfigureAwait(false);
        try
        {
            switch (phase.Source)
            {
                case Source.Current:
                    await _potentiostat.ConfigureCurrentSourceAsync(phase.Level, phase.Compliance, ct).ConfigureAwait(false);
                    break;
                case Source.Voltage:
                    await _potentiostat.ConfigureVoltageSourceAsync(phase.Level, phase.Compliance, ct).ConfigureAwait(false);
                    break;
                case Source.Off:
                    return;
            }
        }
        catch (SafetyEnvelopeException e)
        {
            _journal.Write(new SetpointRefused(run.Step.Name, run.Entry.Path, run.Entry.Cycle, phase.Name,
                phase.Source.ToString().ToLowerInvariant(), phase.Level, phase.Compliance, e.Refusal.Reason));
            throw;
        }
        await _potentiostat.SetOutputAsync(true, ct).ConfigureAwait(false);
    }

    /// <summary>Samples faster as a voltage cut-off approaches, so that a steep end of charge is not overshot.</summary>
    private TimeSpan NextSamplePeriod(StepRun run, Phase phase, CellReading reading)
    {
        var period = run.SamplePeriod;
        if (phase.Source != Source.Current) return period;
        var margin = Math.Min(Math.Abs(reading.VoltageV - _cell.VoltageMaxV), Math.Abs(reading.VoltageV - _cell.VoltageMinV));
        if (phase.ApproachVoltageV is { } cutoff) margin = Math.Min(margin, Math.Abs(reading.VoltageV - cutoff));
        if (margin < 0.05) return TimeSpan.FromTicks(Math.Min(period.Ticks, Math.Max(TimeSpan.FromSeconds(0.5).Ticks, period.Ticks / 10)));
        if (margin < 0.15) return TimeSpan.FromTicks(Math.Min(period.Ticks, Math.Max(TimeSpan.FromSeconds(1).Ticks, period.Ticks / 3)));
        return period;
    }

    private Task<T> RetryTransientAsync<T>(string what, Func<Task<T>> action, CancellationToken ct) => _transientRetry.RunAsync(what, action, ct);

    private async Task<CellReading> SampleAsync(StepRun run, Phase phase, CancellationToken ct)
    {
        var voltage = await RetryTransientAsync("measure voltage", () => _potentiostat.MeasureVoltageAsync(ct), ct).ConfigureAwait(false);
        // At open circuit no current flows; not asking saves a query per sample on a slow serial line.
        var current = phase.Source == Source.Off ? 0 : await RetryTransientAsync("measure current", () => _potentiostat.MeasureCurrentAsync(ct), ct).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var cRate = phase.Source switch
        {
            Source.Current => phase.CRate,
            Source.Voltage => current / _cell.NominalCapacityAh,
            _ => 0,
        };
        CellReading reading;
        lock (_gate)
        {
            // Trapezoidal charge counting between samples.
            var dtH = Math.Max(0, (now - _latest.Time).TotalHours);
            var soc = _latest.StateOfCharge + (_latest.CurrentA + current) / 2 * dtH / _cell.NominalCapacityAh;
            reading = new CellReading(now, voltage, current, Math.Clamp(soc, 0, 1), run.Step.Name, run.Entry.Cycle, cRate, phase.Source != Source.Off);
            _latest = reading;
        }
        _journal.Write(new CellSample(voltage, current, reading.StateOfCharge, run.Step.Name,
            run.Step.Kind is StepKind.ConstantCurrentConstantVoltage or StepKind.Gitt ? phase.Name : null, run.Entry.Cycle,
            await TemperatureAsync(ct).ConfigureAwait(false)));
        return reading;
    }

    /// <summary>The cell's temperature for the log, or null: a thermometer that does not answer must not stop the cycling.</summary>
    private async Task<double?> TemperatureAsync(CancellationToken ct)
    {
        if (Thermometer is not { } thermometer) return null;
        try
        {
            var t = await RetryTransientAsync("measure temperature", () => thermometer.MeasureTemperatureAsync(ct), ct).ConfigureAwait(false);
            return double.IsFinite(t) ? t : null;
        }
        catch (DeviceException)
        {
            return null;
        }
    }

    /// <summary>Numbers in journal reasons and messages read the same on every machine.</summary>
    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The cell was measured outside its configured window: a fault that ends in the safe state.</summary>
public sealed class CellWindowException(string message) : Exception(message);

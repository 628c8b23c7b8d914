namespace AutonomousBeamline.Control.Cycling;

/// <summary>What a step does to the cell. The YAML spelling of each is in <see cref="StepKinds"/>.</summary>
public enum StepKind
{
    /// <summary>Galvanostatic until a voltage cut-off.</summary>
    ConstantCurrent,
    /// <summary>Potentiostatic hold until |I| falls below a limit.</summary>
    ConstantVoltage,
    /// <summary>Constant current up (or down) to a voltage, then a hold at that voltage: one step, two phases.</summary>
    ConstantCurrentConstantVoltage,
    /// <summary>Open circuit, for a time or until the voltage has settled (|dV/dt| below a threshold).</summary>
    Rest,
    /// <summary>Galvanostatic intermittent titration: pulse, rest, repeat until a voltage limit or a pulse count.</summary>
    Gitt,
    /// <summary>A group of steps repeated a number of times.</summary>
    Loop,
}

public static class StepKinds
{
    /// <summary>The YAML <c>type</c> of a step kind, also what the journal records.</summary>
    public static string Spelling(this StepKind kind) => kind switch
    {
        StepKind.ConstantCurrent => "cc",
        StepKind.ConstantVoltage => "cv",
        StepKind.ConstantCurrentConstantVoltage => "cccv",
        StepKind.Rest => "rest",
        StepKind.Gitt => "gitt",
        StepKind.Loop => "loop",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown step kind"),
    };

    public static StepKind Parse(string spelling, string stepName) => spelling switch
    {
        "cc" => StepKind.ConstantCurrent,
        "cv" => StepKind.ConstantVoltage,
        "cccv" => StepKind.ConstantCurrentConstantVoltage,
        "rest" => StepKind.Rest,
        "gitt" => StepKind.Gitt,
        "loop" => StepKind.Loop,
        _ => throw new ArgumentException($"protocol step '{stepName}': unknown type '{spelling}'"),
    };

    /// <summary>Whether the step drives a constant current (all of it, its first phase, or its pulses).</summary>
    public static bool SourcesCurrent(this StepKind kind) =>
        kind is StepKind.ConstantCurrent or StepKind.ConstantCurrentConstantVoltage or StepKind.Gitt;

    /// <summary>Whether the step sources a constant current whose C-rate the learner or an operator may choose.</summary>
    public static bool HasAdjustableCRate(this StepKind kind) =>
        kind is StepKind.ConstantCurrent or StepKind.ConstantCurrentConstantVoltage;
}

/// <summary>One step of the cell's protocol with its termination conditions.</summary>
public sealed record ProtocolStep
{
    public required string Name { get; init; }
    public required StepKind Kind { get; init; }

    /// <summary>Signed C-rate of a current-sourcing step (cc, cccv, gitt pulses; + charges). Ignored when <see cref="CurrentA"/> is set.</summary>
    public double CRate { get; init; }

    /// <summary>Signed current in amperes, for a step specified by current rather than C-rate.</summary>
    public double? CurrentA { get; init; }

    /// <summary>cv: the held voltage; cccv: the voltage the constant current drives to and then holds.</summary>
    public double HoldVoltageV { get; init; }

    /// <summary>cc: stop when the voltage reaches this in the direction of travel; gitt: the voltage limit that ends the titration.</summary>
    public double? CutoffVoltageV { get; init; }

    /// <summary>cv and the hold of cccv: stop when |I| falls below this.</summary>
    public double? CutoffCurrentA { get; init; }

    /// <summary>The longest the step may run, whatever else happens. Every step except a loop needs one.</summary>
    public TimeSpan MaxDuration { get; init; }

    /// <summary>Stop once this much charge (magnitude, A·h) has passed in the step.</summary>
    public double? MaxChargeAh { get; init; }

    /// <summary>rest: stop once |dV/dt| over <see cref="DvDtWindow"/> is below this (V/s).</summary>
    public double? DvDtThresholdVPerS { get; init; }

    /// <summary>rest: the span over which dV/dt is taken; the rest lasts at least this long when it ends on dV/dt.</summary>
    public TimeSpan DvDtWindow { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>gitt: how long each current pulse lasts.</summary>
    public TimeSpan PulseDuration { get; init; }

    /// <summary>gitt: how long the cell rests at open circuit after each pulse.</summary>
    public TimeSpan RestDuration { get; init; }

    /// <summary>gitt: the most pulses the titration gives.</summary>
    public int MaxPulses { get; init; }

    /// <summary>loop: how many times its steps run.</summary>
    public int Repeat { get; init; } = 1;

    /// <summary>loop: the steps it repeats.</summary>
    public IReadOnlyList<ProtocolStep> Steps { get; init; } = [];

    /// <summary>The step's own sampling period; the protocol's when null.</summary>
    public TimeSpan? SamplePeriod { get; init; }

    /// <summary>The signed source current for a current-sourcing step of a cell of <paramref name="capacityAh"/>, at a C-rate magnitude if one was requested.</summary>
    public (double CRate, double CurrentA) SourceCurrent(double capacityAh, double? requestedCRate)
    {
        var sign = CurrentA is { } a ? Math.Sign(a) : Math.Sign(CRate);
        if (requestedCRate is { } requested && Kind.HasAdjustableCRate())
            return (sign * requested, sign * requested * capacityAh);
        return CurrentA is { } current ? (current / capacityAh, current) : (CRate, CRate * capacityAh);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the step when it cannot run as given.</summary>
    public void Validate()
    {
        void Require(bool ok, string what)
        {
            if (!ok) throw new ArgumentException($"protocol step '{Name}' ({Kind.Spelling()}): {what}");
        }

        if (Kind == StepKind.Loop)
        {
            Require(Repeat >= 1, $"a loop needs repeat >= 1, got {Repeat}");
            Require(Steps.Count > 0, "a loop needs at least one step");
            foreach (var step in Steps) step.Validate();
            return;
        }

        // A bound in time is what guarantees that no step runs forever, whatever the cell does.
        Require(MaxDuration > TimeSpan.Zero && MaxDuration < TimeSpan.MaxValue, "needs a positive time limit");
        Require(MaxChargeAh is null || MaxChargeAh > 0, FormattableString.Invariant($"the charge limit must be positive, got {MaxChargeAh}"));
        Require(SamplePeriod is null || SamplePeriod > TimeSpan.Zero, "the sample period must be positive");
        if (Kind.SourcesCurrent())
            Require(CurrentA is { } a ? a != 0 && double.IsFinite(a) : CRate != 0 && double.IsFinite(CRate), "needs a non-zero current or C-rate");
        switch (Kind)
        {
            case StepKind.ConstantCurrent:
                Require(CutoffVoltageV is not null, "a cc step needs a voltage cut-off");
                break;
            case StepKind.ConstantCurrentConstantVoltage:
                Require(HoldVoltageV > 0, "a cccv step needs the voltage to reach and hold");
                Require(CutoffCurrentA > 0, "a cccv step needs the current below which its hold ends");
                break;
            case StepKind.ConstantVoltage:
                Require(HoldVoltageV > 0, "a cv step needs the voltage to hold");
                break;
            case StepKind.Rest:
                Require(DvDtThresholdVPerS is null || DvDtThresholdVPerS > 0, "the dV/dt threshold must be positive");
                Require(DvDtWindow > TimeSpan.Zero, "the dV/dt window must be positive");
                break;
            case StepKind.Gitt:
                Require(PulseDuration > TimeSpan.Zero, "a gitt step needs a positive pulse duration");
                Require(RestDuration > TimeSpan.Zero, "a gitt step needs a positive rest duration");
                Require(MaxPulses >= 1, $"a gitt step needs max pulses >= 1, got {MaxPulses}");
                Require(CutoffVoltageV is not null, "a gitt step needs its voltage limit");
                break;
        }
    }

}

/// <summary>
/// One run of a step in the protocol's order: the step, which cycle, and where it sits inside loops
/// (<see cref="Path"/> like <c>conditioning[2]/charge</c>, the pass of each enclosing loop counted from 1).
/// </summary>
public sealed record ScheduledStep(ProtocolStep Step, int Cycle, string Path, int Index);

/// <summary>The steps, repeated for a number of cycles.</summary>
public sealed class CyclingProtocol
{
    public CyclingProtocol(IReadOnlyList<ProtocolStep> steps, int cycles, TimeSpan samplePeriod)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Count == 0) throw new ArgumentException("a protocol needs at least one step", nameof(steps));
        if (cycles < 1) throw new ArgumentOutOfRangeException(nameof(cycles), cycles, "a protocol runs at least one cycle");
        if (samplePeriod <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(samplePeriod), samplePeriod, "the sample period must be positive");
        foreach (var step in steps) step.Validate();
        Steps = steps;
        Cycles = cycles;
        SamplePeriod = samplePeriod;
    }

    public IReadOnlyList<ProtocolStep> Steps { get; }
    public int Cycles { get; }
    public TimeSpan SamplePeriod { get; }

    /// <summary>
    /// C-rate magnitudes requested at the start of each cycle (entry 0 for cycle 1); cycles past the end of
    /// the list keep the last request. Empty: the steps' own rates.
    /// </summary>
    public IReadOnlyList<double> CRateByCycle { get; init; } = [];

    /// <summary>Every step run in order, loops and cycles unrolled.</summary>
    public IReadOnlyList<ScheduledStep> Schedule()
    {
        var schedule = new List<ScheduledStep>();
        void Add(IReadOnlyList<ProtocolStep> steps, int cycle, string prefix)
        {
            foreach (var step in steps)
            {
                if (step.Kind == StepKind.Loop)
                {
                    for (var pass = 1; pass <= step.Repeat; pass++) Add(step.Steps, cycle, $"{prefix}{step.Name}[{pass}]/");
                }
                else
                {
                    schedule.Add(new ScheduledStep(step, cycle, prefix + step.Name, schedule.Count));
                }
            }
        }
        for (var cycle = 1; cycle <= Cycles; cycle++) Add(Steps, cycle, "");
        return schedule;
    }
}

/// <summary>The cell's electrical limits as configured: what the cycler must never leave.</summary>
public sealed record CellLimits(double NominalCapacityAh, double VoltageMinV, double VoltageMaxV, double MaxCRate, double MaxCurrentA, double InitialStateOfCharge)
{
    /// <summary>The largest |I| allowed: the lower of the current cap and what the maximum C-rate gives.</summary>
    public double CurrentCeilingA => Math.Min(MaxCurrentA, MaxCRate * NominalCapacityAh);
}

namespace AutonomousBeamline.Control.Operator;

/// <summary>Who sent a command: the user and host of the console, for the audit trail.</summary>
public sealed record OperatorIdentity(string User, string Host)
{
    public override string ToString() => $"{User}@{Host}";
}

/// <summary>
/// Something an operator asks of the running experiment. Every command is validated by the controller
/// (against the safety envelope and the config) and either applied or refused with a reason.
/// </summary>
public abstract record OperatorCommand
{
    public required OperatorIdentity By { get; init; }
}

/// <summary>Pause at the next safe point (between frames); the cell stays on its protocol.</summary>
public sealed record PauseCommand : OperatorCommand;

/// <summary>Leave Paused or Suspended; the loop re-decides from the present state.</summary>
public sealed record ResumeCommand : OperatorCommand;

/// <summary>Suspend to the safe state now: shutter closed, cell to its configured safe state.</summary>
public sealed record SuspendCommand : OperatorCommand;

/// <summary>Stop measuring and run the end of the run (cleanup, cell to its end state, files closed).</summary>
public sealed record SkipToEndCommand : OperatorCommand;

/// <summary>Emergency halt: output off and shutter closed at once, then abort.</summary>
public sealed record HaltCommand : OperatorCommand;

/// <summary>Measure at (x, y) next instead of the learner's choice.</summary>
public sealed record GotoRoiCommand(double XMm, double YMm) : OperatorCommand;

/// <summary>Use this C-rate magnitude for the next constant-current step.</summary>
public sealed record SetCRateCommand(double CRate) : OperatorCommand;

/// <summary>Use this energy window for the next XAS scan.</summary>
public sealed record SetEnergyRangeCommand(double StartEv, double StopEv, double StepEv) : OperatorCommand;

/// <summary>Refuse the decision waiting in the approval window; the planner decides again without it.</summary>
public sealed record VetoCommand : OperatorCommand;

/// <summary>Knobs an operator can hold fixed so that the learner no longer changes them.</summary>
public enum Knob { CRate, EnergyRange, Roi }

/// <summary>Hold (or release) a knob at its present value.</summary>
public sealed record LockKnobCommand(Knob Knob, bool Locked) : OperatorCommand;

/// <summary>Never measure inside this rectangle again.</summary>
public sealed record ExcludeRegionCommand(double XMinMm, double XMaxMm, double YMinMm, double YMaxMm) : OperatorCommand;

/// <summary>Change the run's budget; null leaves a limit as it is.</summary>
public sealed record SetBudgetCommand(int? Frames, double? BeamTimeS) : OperatorCommand;

/// <summary>How long each decision waits for a veto before it runs (0 = unattended).</summary>
public sealed record SetApprovalWindowCommand(double Seconds) : OperatorCommand;

/// <summary>What became of a command.</summary>
public sealed record CommandOutcome(bool Accepted, string Message)
{
    public static CommandOutcome Applied(string message) => new(true, message);
    public static CommandOutcome Refused(string reason) => new(false, reason);
}

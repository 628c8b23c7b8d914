using System.Globalization;
using AutonomousBeamline.Control.Operator;

namespace AutonomousBeamline.Operator;

/// <summary>A command that makes no sense as given (a word where a number belongs, STOP below START, ...); the message says why.</summary>
public sealed class InvalidCommandException(string message) : Exception(message);

/// <summary>
/// The operator commands with arguments, built only when the arguments make plain sense (ordered ranges, positive
/// steps and budgets). The console line and the wire form both build through here, so both refuse the same things
/// with the same words; the controller then checks the command against the safety envelope and the run.
/// </summary>
/// <remarks>Callers have already read finite numbers; every builder throws <see cref="InvalidCommandException"/>.</remarks>
public static class CheckedCommands
{
    public static OperatorCommand Goto(double x, double y, OperatorIdentity by) => new GotoRoiCommand(x, y) { By = by };

    public static OperatorCommand CRate(double rate, OperatorIdentity by) =>
        rate > 0 ? new SetCRateCommand(rate) { By = by }
            : throw new InvalidCommandException($"the C-rate must be positive (a magnitude), got {Format(rate)}");

    public static OperatorCommand Energy(double start, double stop, double step, OperatorIdentity by)
    {
        if (start <= 0) throw new InvalidCommandException($"START must be a positive energy in eV, got {Format(start)}");
        if (stop <= start) throw new InvalidCommandException($"STOP ({Format(stop)}) must be above START ({Format(start)})");
        if (step <= 0) throw new InvalidCommandException($"STEP must be positive, got {Format(step)}");
        if (step > stop - start) throw new InvalidCommandException($"STEP ({Format(step)}) is wider than the window ({Format(stop - start)} eV)");
        return new SetEnergyRangeCommand(start, stop, step) { By = by };
    }

    public static OperatorCommand Exclude(double xMin, double xMax, double yMin, double yMax, OperatorIdentity by)
    {
        if (xMax <= xMin) throw new InvalidCommandException($"XMAX ({Format(xMax)}) must be above XMIN ({Format(xMin)})");
        if (yMax <= yMin) throw new InvalidCommandException($"YMAX ({Format(yMax)}) must be above YMIN ({Format(yMin)})");
        return new ExcludeRegionCommand(xMin, xMax, yMin, yMax) { By = by };
    }

    /// <summary>A new frame budget, beam-time budget or both; null leaves a limit as it is.</summary>
    public static OperatorCommand Budget(int? frames, double? beamTimeS, OperatorIdentity by)
    {
        if (frames is null && beamTimeS is null) throw new InvalidCommandException("budget: give frames, beam time or both");
        if (frames is <= 0) throw new InvalidCommandException($"the frame budget must be positive, got {frames}");
        if (beamTimeS is <= 0) throw new InvalidCommandException($"the beam-time budget must be positive seconds, got {Format(beamTimeS.Value)}");
        return new SetBudgetCommand(frames, beamTimeS) { By = by };
    }

    public static OperatorCommand Approval(double seconds, OperatorIdentity by) =>
        seconds >= 0 ? new SetApprovalWindowCommand(seconds) { By = by }
            : throw new InvalidCommandException($"the approval window cannot be negative, got {Format(seconds)} s");

    /// <summary>A number as the refusals quote it: short, and the same on every machine.</summary>
    internal static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}

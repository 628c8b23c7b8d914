namespace AutonomousBeamline.Simulators.Potentiostat;

/// <summary>
/// Fault injection for the SCPI simulator, so the controller's recovery paths can be exercised:
/// replies that never come, replies that are garbage, replies that come late, settings the instrument refuses.
/// </summary>
public sealed class ScpiServerFaults
{
    private readonly object _gate = new();
    private int _repliesToDrop;
    private int _repliesToGarble;
    private (int Code, string Message)? _nextCommandError;
    private TimeSpan _replyDelay;
    private double _heatC;

    /// <summary>The next <paramref name="count"/> replies are computed but never sent.</summary>
    public void DropReplies(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate) _repliesToDrop += count;
    }

    /// <summary>The next <paramref name="count"/> replies are replaced by line noise.</summary>
    public void GarbleReplies(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate) _repliesToGarble += count;
    }

    /// <summary>The next setting command is not executed; it queues this error instead (e.g. -200 "Execution error").</summary>
    public void RefuseNextCommand(int code, string message)
    {
        if (code >= 0) throw new ArgumentOutOfRangeException(nameof(code), code, "SCPI error codes are negative");
        ArgumentException.ThrowIfNullOrWhiteSpace(message);
        lock (_gate) _nextCommandError = (code, message);
    }

    /// <summary>Degrees the thermocouple reads above the cell's own temperature (an overheating cell); zero by default.</summary>
    public double ExtraHeatC
    {
        get { lock (_gate) return _heatC; }
        set
        {
            if (!double.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "heat must be a finite number of degrees");
            lock (_gate) _heatC = value;
        }
    }

    /// <summary>Real (wall-clock) delay before each reply is written by a host; zero by default.</summary>
    public TimeSpan ReplyDelay
    {
        get { lock (_gate) return _replyDelay; }
        set
        {
            if (value < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(value), "a delay cannot be negative");
            lock (_gate) _replyDelay = value;
        }
    }

    /// <summary>Clears every pending fault.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _repliesToDrop = 0;
            _repliesToGarble = 0;
            _nextCommandError = null;
            _replyDelay = TimeSpan.Zero;
        }
    }

    internal string? FilterReply(string reply)
    {
        lock (_gate)
        {
            if (_repliesToDrop > 0)
            {
                _repliesToDrop--;
                return null;
            }
            if (_repliesToGarble > 0)
            {
                _repliesToGarble--;
                return "\u00ff\u00fe#?!~\u0007";
            }
            return reply;
        }
    }

    internal (int Code, string Message)? TakeCommandError()
    {
        lock (_gate)
        {
            var error = _nextCommandError;
            _nextCommandError = null;
            return error;
        }
    }
}

using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Control.Running;

/// <summary>What the run has used and seen so far. Thread-safe: the console reads it while the loop writes.</summary>
internal sealed class RunCounters
{
    private readonly object _gate = new();
    private readonly Dictionary<DecisionKind, int> _decisions = Enum.GetValues<DecisionKind>().ToDictionary(k => k, _ => 0);
    private int _framesAcquired, _framesRejected, _faults, _suspensions;
    private double _beamTimeUsedS;

    public int FramesAcquired { get { lock (_gate) return _framesAcquired; } }
    public int FramesRejected { get { lock (_gate) return _framesRejected; } }
    public int Faults { get { lock (_gate) return _faults; } }
    public int Suspensions { get { lock (_gate) return _suspensions; } }
    public double BeamTimeUsedS { get { lock (_gate) return _beamTimeUsedS; } }

    /// <summary>Carries the counts of a run that is being resumed.</summary>
    public void Restore(int frames, double beamTimeS, IReadOnlyDictionary<DecisionKind, int> decisions, int faults, int suspensions)
    {
        lock (_gate)
        {
            _framesAcquired = frames;
            _beamTimeUsedS = beamTimeS;
            foreach (var (kind, n) in decisions) _decisions[kind] = n;
            _faults = faults;
            _suspensions = suspensions;
        }
    }

    public void FrameAcquired(double exposureS) { lock (_gate) { _framesAcquired++; _beamTimeUsedS += exposureS; } }
    public void FrameRejected() { lock (_gate) _framesRejected++; }
    public void Fault() { lock (_gate) _faults++; }
    public void Suspended() { lock (_gate) _suspensions++; }
    public void Decision(DecisionKind kind) { lock (_gate) _decisions[kind] = _decisions.GetValueOrDefault(kind) + 1; }
    public IReadOnlyDictionary<DecisionKind, int> DecisionCounts() { lock (_gate) return new Dictionary<DecisionKind, int>(_decisions); }
}

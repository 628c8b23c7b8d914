using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Control.Running;

/// <summary>What the run has used and seen so far. Thread-safe: the console reads it while the loop writes.</summary>
internal sealed class RunCounters
{
    private readonly object _gate = new();
    private readonly Dictionary<string, int> _decisions = new() { [DecisionKinds.Roi] = 0, [DecisionKinds.CRate] = 0, [DecisionKinds.EnergyRange] = 0 };
    private int _framesAcquired, _framesRejected, _faults, _suspensions;
    private double _beamTimeUsedS;

    public int FramesAcquired { get { lock (_gate) return _framesAcquired; } }
    public int FramesRejected { get { lock (_gate) return _framesRejected; } }
    public int Faults { get { lock (_gate) return _faults; } }
    public int Suspensions { get { lock (_gate) return _suspensions; } }
    public double BeamTimeUsedS { get { lock (_gate) return _beamTimeUsedS; } }

    /// <summary>Carries the counts of a run that is being resumed.</summary>
    public void Restore(int frames, double beamTimeS, IReadOnlyDictionary<string, int> decisions, int faults, int suspensions)
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
    public void Decision(string kind) { lock (_gate) _decisions[kind] = _decisions.GetValueOrDefault(kind) + 1; }
    public IReadOnlyDictionary<string, int> DecisionCounts() { lock (_gate) return new Dictionary<string, int>(_decisions); }
}

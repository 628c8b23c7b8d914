using AutonomousBeamline.Core.Safety;
using AutonomousBeamline.Simulators.Potentiostat;

namespace AutonomousBeamline.Simulators.Physics;

/// <summary>Electrical parameters of the simulated cell beyond its capacity.</summary>
/// <param name="OhmicResistanceOhm">Series resistance (electrolyte, contacts).</param>
/// <param name="PolarisationScaleV">Scale of the rate-dependent (charge-transfer) overpotential, b in b·asinh(I/I0).</param>
/// <param name="ExchangeCRate">I0 expressed as a C-rate: below it the overpotential is nearly linear, above it logarithmic.</param>
/// <param name="MaxIntegrationStep">Longest sub-step of the charge integration.</param>
public sealed record CellParameters(
    double OhmicResistanceOhm = 2.0,
    double PolarisationScaleV = 0.03,
    double ExchangeCRate = 0.1,
    TimeSpan? MaxIntegrationStep = null)
{
    public TimeSpan IntegrationStep => MaxIntegrationStep ?? TimeSpan.FromSeconds(1);
}

/// <summary>
/// A LiFePO4 half-cell on a simulated SourceMeter: the physics behind the SCPI simulator and the truth the
/// detector simulators read. Charge is integrated lazily over the injected clock in small sub-steps whenever
/// anything looks at the cell, since the source is piecewise constant between commands.
/// </summary>
public sealed class ElectrochemicalCell : ICellTruth, ISimulatedSourceMeter
{
    private const double VoltageTolerance = 1e-6;
    private const double CurrentTolerance = 1e-9;
    private const int BisectionSteps = 60;

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly CellParameters _parameters;
    private DateTimeOffset _integratedUntil;
    private double _stateOfCharge;
    private OperatingPoint _present;
    private bool _outsideWindow;
    private int _safetyViolations;
    private TimeSpan _timeOutsideWindow;
    private SourceFunction _function = SourceFunction.Current;
    private double _currentLevelA;
    private double _voltageLimitV;
    private double _voltageLevelV;
    private double _currentLimitA;
    private bool _outputOn;

    public ElectrochemicalCell(
        TimeProvider timeProvider,
        double capacityAh,
        SafetyEnvelope window,
        double initialSoc = 0.5,
        CellParameters? parameters = null,
        InstrumentRatings? ratings = null)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(window);
        if (!double.IsFinite(capacityAh) || capacityAh <= 0)
            throw new ArgumentOutOfRangeException(nameof(capacityAh), capacityAh, "capacity must be a positive number of Ah");
        if (!double.IsFinite(initialSoc) || initialSoc < 0 || initialSoc > 1)
            throw new ArgumentOutOfRangeException(nameof(initialSoc), initialSoc, "initial state of charge must lie in [0, 1]");
        window.Validate();
        _time = timeProvider;
        CapacityAh = capacityAh;
        Window = window;
        _parameters = parameters ?? new CellParameters();
        if (_parameters.IntegrationStep <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(parameters), "the integration step must be positive");
        Ratings = ratings ?? new InstrumentRatings();
        _stateOfCharge = initialSoc;
        _integratedUntil = timeProvider.GetUtcNow();
        ResetSourceLocked();
        _present = OperatingPointLocked();
        ObserveWindowLocked(_present, TimeSpan.Zero);
    }

    public double CapacityAh { get; }

    /// <summary>The experiment's configured safety window that excursions are counted against.</summary>
    public SafetyEnvelope Window { get; }

    public InstrumentRatings Ratings { get; }

    /// <summary>How many separate times the cell went outside the safety window (voltage or |I|).</summary>
    public int SafetyViolations
    {
        get { lock (_gate) { AdvanceLocked(); return _safetyViolations; } }
    }

    /// <summary>Total time spent outside the safety window.</summary>
    public TimeSpan TimeOutsideSafetyWindow
    {
        get { lock (_gate) { AdvanceLocked(); return _timeOutsideWindow; } }
    }

    /// <summary>State of charge now, unclamped (it can run slightly past 0 or 1 when driven without limits).</summary>
    public double StateOfCharge
    {
        get { lock (_gate) { AdvanceLocked(); return _stateOfCharge; } }
    }

    public CellSnapshot At(DateTimeOffset t)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            AdvanceLocked(t < now ? t : now);
            return new CellSnapshot(Math.Clamp(_stateOfCharge, 0, 1), _present.CurrentA / CapacityAh);
        }
    }

    public SourceFunction Function
    {
        get { lock (_gate) return _function; }
        set => Change(() => _function = value);
    }

    public double CurrentLevelA
    {
        get { lock (_gate) return _currentLevelA; }
        set => Change(() => _currentLevelA = Ratings.RequireCurrentLevel(value));
    }

    public double VoltageLimitV
    {
        get { lock (_gate) return _voltageLimitV; }
        set => Change(() => _voltageLimitV = Ratings.RequireVoltageLimit(value));
    }

    public double VoltageLevelV
    {
        get { lock (_gate) return _voltageLevelV; }
        set => Change(() => _voltageLevelV = Ratings.RequireVoltageLevel(value));
    }

    public double CurrentLimitA
    {
        get { lock (_gate) return _currentLimitA; }
        set => Change(() => _currentLimitA = Ratings.RequireCurrentLimit(value));
    }

    public bool OutputOn
    {
        get { lock (_gate) return _outputOn; }
        set => Change(() => _outputOn = value);
    }

    public double MeasureVoltage()
    {
        lock (_gate) { AdvanceLocked(); return _present.VoltageV; }
    }

    public double MeasureCurrent()
    {
        lock (_gate) { AdvanceLocked(); return _present.CurrentA; }
    }

    /// <summary>Room temperature, where the cell sits without current.</summary>
    public double AmbientC { get; init; } = 25;

    /// <summary>Kelvin per watt between the cell and the room: a coin cell in its holder.</summary>
    public double ThermalResistanceKPerW { get; init; } = 60;

    /// <summary>The cell at the room's temperature plus its ohmic heating (in steady state: the cell's thermal mass is small).</summary>
    public double MeasureTemperature()
    {
        lock (_gate)
        {
            AdvanceLocked();
            var i = _present.CurrentA;
            return AmbientC + ThermalResistanceKPerW * i * i * _parameters.OhmicResistanceOhm;
        }
    }

    public bool VoltageLimitTripped
    {
        get { lock (_gate) { AdvanceLocked(); return _present.Tripped && _outputOn && _function == SourceFunction.Current; } }
    }

    public bool CurrentLimitTripped
    {
        get { lock (_gate) { AdvanceLocked(); return _present.Tripped && _outputOn && _function == SourceFunction.Voltage; } }
    }

    public void Reset() => Change(ResetSourceLocked);

    /// <summary>Terminal voltage for a given state of charge and cell current (positive charges).</summary>
    public double TerminalVoltage(double stateOfCharge, double currentA) =>
        LfpOpenCircuitVoltage.At(stateOfCharge)
        + currentA * _parameters.OhmicResistanceOhm
        + _parameters.PolarisationScaleV * Math.Asinh(currentA / (_parameters.ExchangeCRate * CapacityAh));

    private void Change(Action change)
    {
        lock (_gate)
        {
            AdvanceLocked();
            change();
            _present = OperatingPointLocked();
            ObserveWindowLocked(_present, TimeSpan.Zero);
        }
    }

    private void ResetSourceLocked()
    {
        _outputOn = false;
        _function = SourceFunction.Current;
        _currentLevelA = 0;
        _voltageLimitV = Ratings.MaxVoltageV;
        _voltageLevelV = 0;
        _currentLimitA = Ratings.MaxAbsCurrentA;
    }

    private void AdvanceLocked() => AdvanceLocked(_time.GetUtcNow());

    private void AdvanceLocked(DateTimeOffset until)
    {
        var step = _parameters.IntegrationStep;
        while (_integratedUntil < until)
        {
            var dt = until - _integratedUntil;
            if (dt > step) dt = step;
            // The operating point is held over the sub-step; the sub-step is short next to the cell's time scale.
            var point = OperatingPointLocked();
            _stateOfCharge += point.CurrentA * dt.TotalHours / CapacityAh;
            _integratedUntil += dt;
            ObserveWindowLocked(point, dt);
        }
        _present = OperatingPointLocked();
        ObserveWindowLocked(_present, TimeSpan.Zero);
    }

    private void ObserveWindowLocked(OperatingPoint point, TimeSpan duration)
    {
        var outside = !Window.Contains(point.VoltageV, point.CurrentA, VoltageTolerance, CurrentTolerance);
        if (outside && !_outsideWindow) _safetyViolations++;
        if (outside) _timeOutsideWindow += duration;
        _outsideWindow = outside;
    }

    private OperatingPoint OperatingPointLocked()
    {
        var soc = _stateOfCharge;
        if (!_outputOn) return new OperatingPoint(0, LfpOpenCircuitVoltage.At(soc), false);
        return _function == SourceFunction.Current ? CurrentSourcePoint(soc) : VoltageSourcePoint(soc);
    }

    /// <summary>
    /// Galvanostat with voltage compliance. Battery-cycler reading of VLIM: a charge stops rising at VLIM and a
    /// discharge stops falling at VLIM, the current shrinking (never reversing) to hold the voltage there.
    /// </summary>
    private OperatingPoint CurrentSourcePoint(double soc)
    {
        var set = _currentLevelA;
        var limit = _voltageLimitV;
        var v = TerminalVoltage(soc, set);
        if (set > 0 && v > limit) return ClampedTo(limit, soc, 0, set);
        if (set < 0 && v < limit) return ClampedTo(limit, soc, set, 0);
        return new OperatingPoint(set, v, false);
    }

    /// <summary>Potentiostat with current compliance (symmetric: |I| ≤ ILIM).</summary>
    private OperatingPoint VoltageSourcePoint(double soc)
    {
        var limit = _currentLimitA;
        var target = _voltageLevelV;
        if (TerminalVoltage(soc, limit) < target) return new OperatingPoint(limit, TerminalVoltage(soc, limit), true);
        if (TerminalVoltage(soc, -limit) > target) return new OperatingPoint(-limit, TerminalVoltage(soc, -limit), true);
        var current = SolveCurrent(target, soc, -limit, limit);
        return new OperatingPoint(current, target, false);
    }

    /// <summary>The current in [lo, hi] at which the terminal voltage equals <paramref name="voltage"/> (or the nearer end).</summary>
    private OperatingPoint ClampedTo(double voltage, double soc, double lo, double hi)
    {
        var current = SolveCurrent(voltage, soc, lo, hi);
        return new OperatingPoint(current, TerminalVoltage(soc, current), true);
    }

    private double SolveCurrent(double voltage, double soc, double lo, double hi)
    {
        // Terminal voltage rises monotonically with current, so bisection always converges.
        if (TerminalVoltage(soc, lo) >= voltage) return lo;
        if (TerminalVoltage(soc, hi) <= voltage) return hi;
        for (var i = 0; i < BisectionSteps; i++)
        {
            var mid = 0.5 * (lo + hi);
            if (TerminalVoltage(soc, mid) < voltage) lo = mid;
            else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    private readonly record struct OperatingPoint(double CurrentA, double VoltageV, bool Tripped);
}

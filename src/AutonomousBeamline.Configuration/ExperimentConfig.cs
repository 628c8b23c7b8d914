using System.ComponentModel.DataAnnotations;

namespace AutonomousBeamline.Configuration;

// The experiment file, one per experiment. YAML keys are the snake_case of these property names
// (NominalCapacityAh -> nominal_capacity_ah). Units are in the names on purpose: a number in a
// config file without a unit is how cells get destroyed. [Required] fields must be in the file (a missing
// voltage_min_v is an error, never 0 V); any other field keeps the default written here.

public sealed class ExperimentConfig
{
    [Required]
    public ExperimentSection Experiment { get; set; } = new();
    [Required]
    public CellSection Cell { get; set; } = new();
    [Required]
    public ProtocolSection Protocol { get; set; } = new();
    public DevicesSection Devices { get; set; } = new();
    /// <summary>Which ICD axis plays which role: x, y (electrode plane, mm), optionally z and energy.</summary>
    public AxesSection Axes { get; set; } = new();
    [Required]
    public SearchSection Search { get; set; } = new();
    public AcquisitionSection Acquisition { get; set; } = new();
    [Required]
    public BudgetSection Budget { get; set; } = new();
    public OutputSection Output { get; set; } = new();
    public OperatorSection Operator { get; set; } = new();
    /// <summary>Used only by dry-run and simulate: what the simulators pretend the world is.</summary>
    public SimulationSection Simulation { get; set; } = new();
    public BeamlineSection Beamline { get; set; } = new();
    public MaterialsSection Materials { get; set; } = new();
    public LearningSection Learning { get; set; } = new();
    /// <summary>The folder relative reference files resolve against: the config file's (set by the loader, not from YAML).</summary>
    [YamlDotNet.Serialization.YamlIgnore]
    public string BaseDirectory { get; set; } = "";
}

public sealed class ExperimentSection
{
    [Required]
    public string Name { get; set; } = "";
    public string Operator { get; set; } = "";
    public int Seed { get; set; } = 1;
}

public sealed class CellSection
{
    [Required]
    public string Chemistry { get; set; } = "";
    [Required]
    public double NominalCapacityAh { get; set; }
    [Required]
    public double VoltageMinV { get; set; }
    [Required]
    public double VoltageMaxV { get; set; }
    [Required]
    public double MaxCRate { get; set; }
    /// <summary>Optional hard cap on |I| in amperes; defaults to max_c_rate × capacity.</summary>
    public double? MaxCurrentA { get; set; }
    [Required]
    public double InitialStateOfCharge { get; set; }
    /// <summary>What "safe" means at a fault or the end: "output_off" or "open_circuit_rest".</summary>
    public string SafeState { get; set; } = "output_off";
    /// <summary>
    /// The cell's temperature window in °C (both or neither). Set, the potentiostat's thermocouple (`:MEAS:TEMP?`) is read
    /// before every frame, and outside the window measuring stops and the cell is held at open circuit.
    /// </summary>
    public double? TemperatureMinC { get; set; }
    public double? TemperatureMaxC { get; set; }
    /// <summary>How long the temperature must be back inside its window before the cell runs again.</summary>
    public double TemperatureSettleS { get; set; } = 300;
}

public sealed class ProtocolSection
{
    public double SamplePeriodS { get; set; } = 10;
    /// <summary>How many times the list of steps runs.</summary>
    public int Cycles { get; set; } = 1;
    /// <summary>
    /// Optional C-rate magnitudes for the cc and cccv steps of each cycle (entry 0 for cycle 1), requested at
    /// the start of the cycle like any other C-rate request; later cycles keep the last entry.
    /// </summary>
    public List<double>? CRateByCycle { get; set; }
    [Required]
    public List<ProtocolStepConfig> Steps { get; set; } = new();
}

public sealed class ProtocolStepConfig
{
    [Required]
    public string Name { get; set; } = "";
    /// <summary>"cc", "cv", "cccv", "rest" (open circuit), "gitt" or "loop".</summary>
    [Required]
    public string Type { get; set; } = "";
    /// <summary>cc, cccv, gitt: signed C-rate, positive charges.</summary>
    public double? CRate { get; set; }
    /// <summary>cc, cccv, gitt: signed current in amperes instead of a C-rate.</summary>
    public double? CurrentA { get; set; }
    /// <summary>cv: the held voltage; cccv: the voltage driven to and then held.</summary>
    public double? VoltageV { get; set; }
    /// <summary>cv, cccv: the hold ends when |I| falls below this.</summary>
    public double? HoldUntilCurrentA { get; set; }
    /// <summary>rest: end once |dV/dt| over dv_dt_window_s is below this.</summary>
    public double? DvDtVPerS { get; set; }
    /// <summary>rest: the span dV/dt is taken over (default 60 s).</summary>
    public double? DvDtWindowS { get; set; }
    /// <summary>gitt: length of each current pulse.</summary>
    public double? PulseS { get; set; }
    /// <summary>gitt: open-circuit rest after each pulse.</summary>
    public double? RestS { get; set; }
    /// <summary>gitt: the most pulses given.</summary>
    public int? MaxPulses { get; set; }
    /// <summary>loop: how many times its steps run.</summary>
    public int? Repeat { get; set; }
    /// <summary>loop: the steps it repeats.</summary>
    public List<ProtocolStepConfig>? Steps { get; set; }
    /// <summary>The step's own sampling period; protocol.sample_period_s when absent.</summary>
    public double? SamplePeriodS { get; set; }
    public StepLimits Until { get; set; } = new();
}

public sealed class StepLimits
{
    /// <summary>cc: stop when the voltage reaches this (upward when charging, downward when discharging); gitt: the voltage limit.</summary>
    public double? VoltageV { get; set; }
    /// <summary>cv: stop when |I| falls below this (same as hold_until_current_a).</summary>
    public double? CurrentA { get; set; }
    public double? DurationS { get; set; }
    /// <summary>Stop after this much charge has passed in the step (A·h, magnitude).</summary>
    public double? ChargeAh { get; set; }
}

public sealed class DevicesSection
{
    public PotentiostatDeviceConfig Potentiostat { get; set; } = new();
    public ZmqDeviceConfig Motion { get; set; } = new() { Endpoint = "tcp://127.0.0.1:5555" };
    public DetectorDeviceConfig Detector { get; set; } = new();
}

public sealed class PotentiostatDeviceConfig
{
    /// <summary>"serial" or "tcp".</summary>
    public string Transport { get; set; } = "serial";
    public string SerialPort { get; set; } = "";
    public int Baud { get; set; } = 9600;
    public string Host { get; set; } = "";
    public int Port { get; set; } = 5025;
    public double TimeoutS { get; set; } = 2;
    /// <summary>How long to keep reopening a vanished line before an exchange counts as failed.</summary>
    public double ReconnectS { get; set; } = 30;
}

public sealed class ZmqDeviceConfig
{
    public string Endpoint { get; set; } = "";
    public double TimeoutS { get; set; } = 2;
    public int Retries { get; set; } = 3;
}

public sealed class DetectorDeviceConfig
{
    public string Control { get; set; } = "tcp://127.0.0.1:5557";
    public string Data { get; set; } = "tcp://127.0.0.1:5558";
    public double TimeoutS { get; set; } = 5;
    public int Retries { get; set; } = 3;
    /// <summary>The most points a frame may carry; a larger one is refused before it is allocated.</summary>
    public int MaxFramePoints { get; set; } = 262_144;
}

public sealed class AxesSection
{
    public string X { get; set; } = "sample_x";
    public string Y { get; set; } = "sample_y";
    public string? Z { get; set; }
    public string? Energy { get; set; }
}

public sealed class SearchSection
{
    [Required]
    public RoiConfig Roi { get; set; } = new();
    public List<double> CRates { get; set; } = new();
    public List<EnergyWindowConfig> EnergyWindows { get; set; } = new();
}

public sealed class RoiConfig
{
    [Required]
    public double XMinMm { get; set; }
    [Required]
    public double XMaxMm { get; set; }
    [Required]
    public double YMinMm { get; set; }
    [Required]
    public double YMaxMm { get; set; }
    [Required]
    public double StepMm { get; set; }
}

public sealed class EnergyWindowConfig
{
    [Required]
    public string Name { get; set; } = "";
    [Required]
    public double StartEv { get; set; }
    [Required]
    public double StopEv { get; set; }
    [Required]
    public double StepEv { get; set; }
}

public sealed class AcquisitionSection
{
    /// <summary>"xrd", "xas" or "xrd+xas" (an XAS scan at every xas_every-th spot, after its pattern).</summary>
    public string Kind { get; set; } = "xrd";
    public double ExposureS { get; set; } = 5;
    /// <summary>With kind xrd+xas: every how many spots an XAS scan is added.</summary>
    public int XasEvery { get; set; } = 5;
    /// <summary>Counting time per energy point of an XAS scan.</summary>
    public double DwellS { get; set; } = 0.5;
    /// <summary>Beam damage: at most this many seconds of beam on any one spot (within 0.25 mm); null: no limit.</summary>
    public double? DoseBudgetS { get; set; }
    /// <summary>Which of search.energy_windows the XAS scans use (default: the first).</summary>
    public string? EnergyWindow { get; set; }
    /// <summary>"learner", "raster" or "random".</summary>
    public string Strategy { get; set; } = "learner";
    /// <summary>Below this storage-ring current a frame is not an observation and the run suspends.</summary>
    public double BeamThresholdMa { get; set; } = 10;
    /// <summary>How long the beam must be back above the threshold before measuring resumes.</summary>
    public double BeamSettleS { get; set; } = 60;
    /// <summary>How often the beam is re-checked while suspended.</summary>
    public double BeamPollS { get; set; } = 5;
    /// <summary>After this many frames in a row the analysis cannot use, measuring waits for an operator.</summary>
    public int UnusableFramesInARow { get; set; } = 10;
    /// <summary>After this many unusable frames in a row at one spot, the spot is left for the rest of the run.</summary>
    public int UnusableFramesPerSpot { get; set; } = 3;
    /// <summary>The last this-many frames over which the unusable share is watched...</summary>
    public int UnusableRateWindow { get; set; } = 30;
    /// <summary>...and the share (0–1) of them at which measuring waits for an operator.</summary>
    public double UnusableRateMax { get; set; } = 0.8;
    /// <summary>How long a suspension for unusable data waits for an operator's resume; nobody by then (an unattended night):
    /// the run ends, the cell in its safe state.</summary>
    public double UnusableOperatorWaitS { get; set; } = 1800;
}

public sealed class BudgetSection
{
    [Required]
    public int Frames { get; set; }
    [Required]
    public double BeamTimeS { get; set; }
}

public sealed class OutputSection
{
    public string Directory { get; set; } = "runs";
    /// <summary>Frames per HDF5 block file (hdf5/block-NNNN.h5 in the run folder).</summary>
    public int Hdf5BlockFrames { get; set; } = 100;
}

/// <summary>The operator endpoint a console attaches to.</summary>
public sealed class OperatorSection
{
    /// <summary>ZeroMQ endpoint for commands (REP); status is published on the next port up. Empty: no endpoint.</summary>
    public string Endpoint { get; set; } = "tcp://127.0.0.1:5560";
    /// <summary>How long each decision waits for a veto before it runs; 0 when unattended.</summary>
    public double ApprovalWindowS { get; set; }
    /// <summary>Z85 CURVE secret key of the endpoint; required to bind anything but loopback.</summary>
    public string? CurveSecretKey { get; set; }
    /// <summary>Z85 CURVE public keys of the consoles allowed to attach beyond loopback (journalled as "console KEYPREFIX").</summary>
    public List<string> CurveClientPublicKeys { get; set; } = new();
    /// <summary>Consoles allowed to attach, each with the name its commands are journalled under (the key's, never the request's).</summary>
    public List<CurveClientConfig> CurveClients { get; set; } = new();

    /// <summary>Every allowed console key with its name.</summary>
    public IReadOnlyDictionary<string, string> NamedClientKeys() =>
        CurveClients.Where(c => c.PublicKey.Length > 0).GroupBy(c => c.PublicKey).ToDictionary(g => g.Key, g => g.First().Name);

    /// <summary>Every allowed console key, named or not.</summary>
    public IReadOnlyList<string> AllClientKeys() => CurveClientPublicKeys.Concat(CurveClients.Select(c => c.PublicKey)).Distinct().ToList();
}

public sealed class CurveClientConfig
{
    [Required]
    public string Name { get; set; } = "";
    [Required]
    public string PublicKey { get; set; } = "";
}

public sealed class SimulationSection
{
    /// <summary>
    /// "native": the simulators keep this project's habits on the wire; "foreign": they behave as differently as the ICD
    /// allows (CR LF, noise lines, late and duplicated replies, re-sent frames, extra fields, other axis speeds and limits).
    /// </summary>
    public string Profile { get; set; } = "native";
    public int FieldSeed { get; set; } = 7;
    public double HeterogeneityBase { get; set; } = 0.15;
    public double HeterogeneityPerCRate { get; set; } = 0.12;
    public double BeamCurrentMa { get; set; } = 200;
    public double FootprintMm { get; set; } = 0.2;
    public double AxisSpeedMmPerS { get; set; } = 2;
    /// <summary>Storage-ring beam dumps, in seconds from the start of the run.</summary>
    public List<BeamDumpConfig> BeamDumps { get; set; } = new();
    /// <summary>Faults the simulators inject on schedule, to rehearse a bad night.</summary>
    public List<FaultConfig> Faults { get; set; } = new();
    public SimulatedPhysicsConfig Physics { get; set; } = new();
    /// <summary>The simulated electrode's reaction; default: the first phase turns into the last.</summary>
    public List<ReactionPhaseConfig>? Reaction { get; set; }
    /// <summary>Phases the simulator renders that the analysers are not given (as <c>materials.xrd.phases</c>: a pattern file or a
    /// lattice with reflections): an unknown phase to rehearse the reference-free decomposition with; <c>simulation.reaction</c>
    /// says how much of each there is.</summary>
    public List<PhaseConfig>? Phases { get; set; }
}

public sealed class BeamDumpConfig
{
    [Required]
    public double AtS { get; set; }
    [Required]
    public double DurationS { get; set; }
}

public sealed class FaultConfig
{
    [Required]
    public double AtS { get; set; }
    /// <summary>"potentiostat", "motion" or "detector".</summary>
    [Required]
    public string Device { get; set; } = "";
    /// <summary>What the device's simulator is to do; the simulators' fault table lists the kinds each device knows.</summary>
    [Required]
    public string Kind { get; set; } = "";
    public int Count { get; set; } = 1;
    /// <summary>For slow replies: the delay; for a device fault state: how long it lasts.</summary>
    public double DurationS { get; set; } = 1;
}

using System.Text.Json.Nodes;
using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Tests.Support;
using AutonomousBeamline.Core.Safety;
using AutonomousBeamline.Core.Time;
using AutonomousBeamline.Instruments.Potentiostat;
using AutonomousBeamline.Instruments.Scpi;
using AutonomousBeamline.Simulators.Physics;
using AutonomousBeamline.Simulators.Potentiostat;

namespace AutonomousBeamline.Control.Tests.Cycling;

/// <summary>
/// The cycler through the envelope guard, the SCPI driver and a pseudo-terminal to the simulated SourceMeter and
/// LiFePO4 cell: every step kind on the wire, as a real instrument would see it.
/// </summary>
public sealed class CyclerOverSerialTests : IDisposable
{
    private const double CapacityAh = 0.005;
    private static readonly SafetyEnvelope Window = new(2.5, 4.0, 0.015, 3, CapacityAh);
    private readonly VirtualTimeProvider _clock = new(new DateTimeOffset(2026, 11, 24, 21, 0, 0, TimeSpan.Zero));
    private readonly JournalOnDisk _disk;

    public CyclerOverSerialTests() => _disk = new JournalOnDisk("cycler-pty-", _clock);

    private Storage.JsonLinesJournal Journal => _disk.Journal;

    public void Dispose()
    {
        _disk.Dispose();
    }

    private List<JsonObject> Records(string type) => _disk.Records(type);

    [Fact]
    public async Task Every_step_kind_runs_on_the_simulated_instrument_inside_the_window_and_ends_safe()
    {
        var cell = new ElectrochemicalCell(_clock, CapacityAh, Window, initialSoc: 0.3);
        await using var host = new PtyScpiHost(new ScpiServer(cell));
        await using var driver = new ScpiPotentiostat(new SerialScpiTransport(host.SlavePath, 9600), "potentiostat",
            new ScpiClientOptions { ReplyTimeout = TimeSpan.FromSeconds(5) });
        var guarded = new EnvelopeGuardedPotentiostat(driver, Window);
        await guarded.ResetAsync();

        var steps = new ProtocolStep[]
        {
            new()
            {
                Name = "charge", Kind = StepKind.ConstantCurrentConstantVoltage, CRate = 2, HoldVoltageV = 3.6,
                CutoffCurrentA = 0.001, MaxDuration = TimeSpan.FromHours(2),
            },
            new() { Name = "relax", Kind = StepKind.Rest, DvDtThresholdVPerS = 1e-4, DvDtWindow = TimeSpan.FromSeconds(60), MaxDuration = TimeSpan.FromHours(1) },
            new() { Name = "discharge", Kind = StepKind.ConstantCurrent, CRate = -2, CutoffVoltageV = 3.0, MaxDuration = TimeSpan.FromMinutes(10) },
            new()
            {
                Name = "titration", Kind = StepKind.Gitt, CRate = -1, PulseDuration = TimeSpan.FromSeconds(120),
                RestDuration = TimeSpan.FromSeconds(240), MaxPulses = 2, CutoffVoltageV = 2.8, MaxDuration = TimeSpan.FromHours(1),
            },
        };
        var cycler = new Cycler(guarded, new CyclingProtocol(steps, 1, TimeSpan.FromSeconds(30)), new CellLimits(CapacityAh, 2.5, 4.0, 3, 0.015, 0.3), _clock, Journal);

        await cycler.RunAsActorAsync(_clock);

        Assert.Equal(4, cycler.StepsCompleted);
        Assert.Equal(["current_below_limit", "dv_dt_below_threshold", "time_limit", "max_pulses"],
            Records("step_end").Select(r => (string)r["ended_by"]!).ToArray());
        // The hold ran at 3.6 V on the instrument: the last charge samples read it back.
        var holdSamples = Records("cell").Where(r => (string?)r["phase"] == "cv").ToList();
        Assert.NotEmpty(holdSamples);
        Assert.All(holdSamples, r => Assert.Equal(3.6, (double)r["voltage_v"]!, 3));
        // The charge-counted state of charge follows the simulator's own integration.
        Assert.Equal(Math.Clamp(cell.StateOfCharge, 0, 1), cycler.Latest.StateOfCharge, tolerance: 0.005);
        Assert.Equal(0, cell.SafetyViolations);
        Assert.False(cell.OutputOn);
        Assert.False(await driver.GetOutputAsync());
    }
}

using AutonomousBeamline.Configuration;
using AutonomousBeamline.Control.Engine;
using AutonomousBeamline.Core.Safety;
using AutonomousBeamline.Instruments.Detector;
using AutonomousBeamline.Instruments.Motion;
using AutonomousBeamline.Instruments.Potentiostat;
using AutonomousBeamline.Instruments.Scpi;
using AutonomousBeamline.ZeroMq;

namespace AutonomousBeamline.Cli.Composition;

/// <summary>Where the equipment is: from the config (live) or from the simulators just started (dry run).</summary>
internal sealed record DeviceEndpoints(
    string PotentiostatTransport, string SerialPath, int Baud, string TcpHost, int TcpPort,
    string MotionEndpoint, string DetectorControl, string DetectorData)
{
    public static DeviceEndpoints FromConfig(ExperimentConfig c) => new(
        c.Devices.Potentiostat.Transport, c.Devices.Potentiostat.SerialPort, c.Devices.Potentiostat.Baud,
        c.Devices.Potentiostat.Host, c.Devices.Potentiostat.Port,
        c.Devices.Motion.Endpoint, c.Devices.Detector.Control, c.Devices.Detector.Data);

    /// <summary>The dry run reaches the potentiostat over the simulator's pseudo-terminal, as it would an RS-232 line.</summary>
    public static DeviceEndpoints FromFacility(SimulationComposition.Facility f, ExperimentConfig c) => new(
        "serial", f.PotentiostatPath, c.Devices.Potentiostat.Baud, "", 0,
        f.MotionEndpoint, f.DetectorControlEndpoint, f.DetectorDataEndpoint);
}

/// <summary>The connected devices, closed together.</summary>
internal sealed class ConnectedDevices(RunDevices devices, ScpiPotentiostat potentiostat, ZmqMotionClient motion, ZmqDetectorClient detector,
    params IAsyncDisposable[] owned) : IAsyncDisposable
{
    public RunDevices Devices { get; } = devices;

    /// <summary>The concrete clients, for their diagnostic events (retries, rejected frames).</summary>
    public ScpiPotentiostat Potentiostat { get; } = potentiostat;
    public ZmqMotionClient Motion { get; } = motion;
    public ZmqDetectorClient Detector { get; } = detector;

    /// <summary>
    /// Every retry the clients make on their own (a lost reply resent, a frame acquired again, a silent instrument
    /// resynchronised) goes to <paramref name="record"/>, so that the journal shows how each fault was handled.
    /// </summary>
    public void ReportRetriesTo(Action<string, string, int, string> record)
    {
        Potentiostat.TimedOut += (query, message) => record("potentiostat", query, 1, message);
        Potentiostat.OutOfStep += (query, message) => record("potentiostat", query, 1, message);
        Potentiostat.ReadingRejected += (query, message) => record("potentiostat", query, 2, message);
        Potentiostat.SafeStateInsisting += (command, message) => record("potentiostat", "safe state: " + command, 1, message);
        Motion.Resending += (cmd, _, attempt, message) => record("motion", cmd, attempt, message);
        Motion.Transport.ReplyDiscarded += (cmd, _, message) => record("motion", cmd, 1, message);
        Detector.Resending += (cmd, _, attempt, message) => record("detector", cmd, attempt, message);
        Detector.Transport.ReplyDiscarded += (cmd, _, message) => record("detector", cmd, 1, message);
        Detector.Reacquiring += (kind, message) => record("detector", $"acquire {kind} again", 2, message);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var o in owned.Reverse()) await o.DisposeAsync().ConfigureAwait(false);
    }
}

internal static class DeviceConnector
{
    public static async Task<ConnectedDevices> ConnectAsync(DeviceEndpoints e, ExperimentConfig config, TimeProvider time, CancellationToken ct)
    {
        var scpiOptions = new ScpiClientOptions { ReplyTimeout = TimeSpan.FromSeconds(config.Devices.Potentiostat.TimeoutS) };
        // A vanished line (an unplugged USB-serial adapter, a dropped socket) is reopened for up to reconnect_s
        // on each attempt; the instrument meanwhile holds its last setting inside its compliance.
        var reconnect = new LinkReconnectPolicy
        {
            MaxAttempts = Math.Max(1, (int)Math.Ceiling(config.Devices.Potentiostat.ReconnectS)),
            FirstDelay = TimeSpan.FromMilliseconds(100),
            MaxDelay = TimeSpan.FromSeconds(1),
        };
        IScpiTransport transport = e.PotentiostatTransport == "tcp"
            ? await TcpScpiTransport.ConnectAsync(e.TcpHost, e.TcpPort, reconnect, ct).ConfigureAwait(false)
            : new SerialScpiTransport(e.SerialPath, new SerialLineSettings { BaudRate = e.Baud }, reconnect);
        var potentiostat = new ScpiPotentiostat(transport, "potentiostat", scpiOptions, time: time);

        // Every set-point passes the configured window before it reaches the wire.
        var cell = config.Cell;
        var envelope = new SafetyEnvelope(cell.VoltageMinV, cell.VoltageMaxV,
            cell.MaxCurrentA ?? cell.MaxCRate * cell.NominalCapacityAh, cell.MaxCRate, cell.NominalCapacityAh);
        var guarded = new EnvelopeGuardedPotentiostat(potentiostat, envelope);

        var roi = config.Search.Roi;
        var motion = new ZmqMotionClient(e.MotionEndpoint, time, new ZmqMotionClientOptions
        {
            Transport = new ZmqRequestClientOptions
            {
                IdPrefix = "m",
                ReplyTimeout = TimeSpan.FromSeconds(config.Devices.Motion.TimeoutS),
                Retries = config.Devices.Motion.Retries,
            },
            // The ROI is the only place the sample may be sent: a learner or a bug cannot drive it elsewhere.
            SoftLimits = new Dictionary<string, AxisSoftLimit>
            {
                [config.Axes.X] = new(roi.XMinMm, roi.XMaxMm),
                [config.Axes.Y] = new(roi.YMinMm, roi.YMaxMm),
            },
        });
        var detector = new ZmqDetectorClient(e.DetectorControl, e.DetectorData, time, new ZmqDetectorClientOptions
        {
            Transport = new ZmqRequestClientOptions
            {
                IdPrefix = "d",
                ReplyTimeout = TimeSpan.FromSeconds(config.Devices.Detector.TimeoutS),
                Retries = config.Devices.Detector.Retries,
            },
            FrameTimeout = TimeSpan.FromSeconds(config.Devices.Detector.TimeoutS),
            MaxFramePoints = config.Devices.Detector.MaxFramePoints,
        });
        // The thermocouple is read only where the config gives the cell a temperature window to keep.
        var thermometer = cell.TemperatureMinC is null ? null : potentiostat;
        return new ConnectedDevices(new RunDevices(guarded, motion, detector, thermometer), potentiostat, motion, detector, guarded, motion, detector);
    }
}

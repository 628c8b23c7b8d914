using AutonomousBeamline.Configuration;
using AutonomousBeamline.Control.Running;
using AutonomousBeamline.Core.Safety;
using AutonomousBeamline.Instruments.Detector;
using AutonomousBeamline.Instruments.Motion;
using AutonomousBeamline.Instruments.Potentiostat;
using AutonomousBeamline.Instruments.Scpi;
using AutonomousBeamline.Instruments.Zmq;

namespace AutonomousBeamline.Cli;

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
internal sealed class ConnectedDevices(ControllerDevices devices, ZmqDetectorClient detector, params IAsyncDisposable[] owned) : IAsyncDisposable
{
    public ControllerDevices Devices { get; } = devices;
    /// <summary>The detector client, for its frame-rejection events.</summary>
    public ZmqDetectorClient Detector { get; } = detector;

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
        IScpiTransport transport = e.PotentiostatTransport == "tcp"
            ? await TcpScpiTransport.ConnectAsync(e.TcpHost, e.TcpPort, ct).ConfigureAwait(false)
            : new SerialScpiTransport(e.SerialPath, e.Baud);
        var potentiostat = new ScpiPotentiostat(transport, "potentiostat", scpiOptions);

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
        });
        return new ConnectedDevices(new ControllerDevices(guarded, motion, detector), detector, guarded, motion, detector);
    }
}

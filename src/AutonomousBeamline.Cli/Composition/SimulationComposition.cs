using AutonomousBeamline.Configuration;
using AutonomousBeamline.Core.Safety;
using AutonomousBeamline.Simulators.Detector;
using AutonomousBeamline.Simulators.Faults;
using AutonomousBeamline.Simulators.Motion;
using AutonomousBeamline.Simulators.Physics;
using AutonomousBeamline.Simulators.Potentiostat;
using AutonomousBeamline.Simulators.Zmq;

namespace AutonomousBeamline.Cli.Composition;

/// <summary>The simulated facility for dry-run and simulate: physics first, then the wire servers over it.</summary>
internal static class SimulationComposition
{
    /// <summary>The running simulators and where they listen. Disposing stops them all.</summary>
    internal sealed class Facility : IAsyncDisposable
    {
        public required ElectrochemicalCell Cell { get; init; }
        public required ElectrodeField Field { get; init; }
        public required SampleTruth Truth { get; init; }
        public required MotionStage Stage { get; init; }
        public required IXrdRenderer XrdRenderer { get; init; }
        public required XasSpectrumRenderer XasRenderer { get; init; }
        public required PtyScpiHost Potentiostat { get; init; }
        public required TcpScpiHost PotentiostatTcp { get; init; }
        private MotionServer _motion = null!;

        /// <summary>The motion server now serving (a restart replaces it on the same port).</summary>
        public required MotionServer Motion
        {
            get => Volatile.Read(ref _motion);
            init => _motion = value;
        }

        /// <summary>
        /// Restarts the motion server: it goes away for <paramref name="downtime"/> of wall time and comes back on the
        /// same port over the same stage, as a real server process would after a crash.
        /// </summary>
        public void RestartMotion(TimeSpan downtime, TimeProvider time) => _ = Task.Run(async () =>
        {
            var old = Motion;
            var port = old.Port;
            old.Dispose();
            await Task.Delay(downtime).ConfigureAwait(false);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (true)
            {
                try
                {
                    // A closed ZeroMQ socket frees its port asynchronously: retry the bind for a while.
                    var fresh = new MotionServer(Stage, time, new MotionServerOptions { Port = port, Brokered = old.Brokered }) { Manner = old.Manner };
                    fresh.Start();
                    Volatile.Write(ref _motion, fresh);
                    return;
                }
                catch (NetMQ.AddressAlreadyInUseException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50).ConfigureAwait(false);
                }
            }
        });
        public required DetectorServer Detector { get; init; }
        /// <summary>The faults injected on schedule (empty unless the config asks for some).</summary>
        public FaultSchedule Faults { get; set; } = null!;

        /// <summary>A stable path to the simulator's serial line (a link to the current pty, kept across disconnects).</summary>
        public string PotentiostatPath => Potentiostat.LinkPath;
        public string PotentiostatTcpEndpoint => $"{PotentiostatTcp.Host}:{PotentiostatTcp.Port}";
        public string MotionEndpoint => Motion.Endpoint;
        public string DetectorControlEndpoint => Detector.Endpoint;
        public string DetectorDataEndpoint => Detector.DataEndpoint;

        public async ValueTask DisposeAsync()
        {
            Faults.Dispose();
            Detector.Dispose();
            Motion.Dispose();
            await PotentiostatTcp.DisposeAsync().ConfigureAwait(false);
            await Potentiostat.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <param name="alreadyElapsed">For a resumed dry run: how far into the run the simulators start (scheduled dumps and faults already past are skipped).</param>
    public static Facility StartFacility(ExperimentConfig c, TimeProvider time, TimeSpan alreadyElapsed = default)
    {
        var cellConfig = c.Cell;
        var window = new SafetyEnvelope(cellConfig.VoltageMinV, cellConfig.VoltageMaxV,
            cellConfig.MaxCurrentA ?? cellConfig.MaxCRate * cellConfig.NominalCapacityAh, cellConfig.MaxCRate, cellConfig.NominalCapacityAh);
        var cell = new ElectrochemicalCell(time, cellConfig.NominalCapacityAh, window, cellConfig.InitialStateOfCharge);
        var roi = c.Search.Roi;
        var s = c.Simulation;
        var field = new ElectrodeField(s.FieldSeed, roi.XMinMm, roi.XMaxMm, roi.YMinMm, roi.YMaxMm, s.HeterogeneityBase, s.HeterogeneityPerCRate);
        var truth = new SampleTruth(cell, field);

        // The stage is a little larger than the ROI, as a real sample stage is; the energy axis spans the configured edge.
        // A foreign facility's stage is slower and barely larger than the ROI.
        var foreign = s.Profile == "foreign";
        var (margin, speed, eVPerS) = foreign ? (1.0, s.AxisSpeedMmPerS * 0.35, 20.0) : (5.0, s.AxisSpeedMmPerS, 50.0);
        var axes = new List<StageAxis>
        {
            new(c.Axes.X, "mm", roi.XMinMm - margin, roi.XMaxMm + margin, speed, (roi.XMinMm + roi.XMaxMm) / 2),
            new(c.Axes.Y, "mm", roi.YMinMm - margin, roi.YMaxMm + margin, speed, (roi.YMinMm + roi.YMaxMm) / 2),
        };
        if (c.Axes.Z is { } z) axes.Add(new StageAxis(z, "mm", -margin, margin, speed, 0));
        var (eMin, eMax, eStart) = ScienceComposition.MonochromatorRange(c);
        if (c.Axes.Energy is { } e) axes.Add(new StageAxis(e, "eV", eMin, eMax, eVPerS, eStart));
        var start = time.GetUtcNow();
        var dumps = s.BeamDumps.Select(d => new BeamDump(start - alreadyElapsed + TimeSpan.FromSeconds(d.AtS), TimeSpan.FromSeconds(d.DurationS)));
        var stage = new MotionStage(time, axes, s.BeamCurrentMa, dumps);
        var xrd = ScienceComposition.XrdRenderer(c, start - alreadyElapsed, time);
        var xas = ScienceComposition.XasRenderer(c);

        var scpi = new ScpiServer(cell);
        // Late replies come after the client's time-out, so that they are late ones.
        var scpiManner = foreign
            ? ScpiWireManner.Foreign(c.Experiment.Seed, TimeSpan.FromSeconds(c.Devices.Potentiostat.TimeoutS + 0.5))
            : ScpiWireManner.Native;
        var zmqManner = foreign ? ZmqWireManner.Foreign(c.Experiment.Seed) : ZmqWireManner.Native;
        var facility = new Facility
        {
            Cell = cell,
            Field = field,
            Truth = truth,
            Stage = stage,
            XrdRenderer = xrd,
            XasRenderer = xas,
            Potentiostat = new PtyScpiHost(scpi) { Manner = scpiManner },
            PotentiostatTcp = new TcpScpiHost(scpi) { Manner = scpiManner },
            // A foreign facility puts its motion server behind a broker: one more hop, every habit kept.
            Motion = new MotionServer(stage, time, new MotionServerOptions { Brokered = foreign }) { Manner = zmqManner },
            Detector = new DetectorServer(stage, truth, xrd, xas, time, new DetectorServerOptions
            {
                XAxis = c.Axes.X,
                YAxis = c.Axes.Y,
                FootprintMm = s.FootprintMm,
                NominalBeamMa = s.BeamCurrentMa,
                Seed = c.Experiment.Seed,
            }) { Manner = zmqManner },
        };
        facility.Motion.Start();
        facility.Detector.Start();
        facility.Faults = new FaultSchedule(time,
            s.Faults.Where(f => TimeSpan.FromSeconds(f.AtS) >= alreadyElapsed)
                .Select(f => new ScheduledFault(TimeSpan.FromSeconds(f.AtS) - alreadyElapsed, f.Device, f.Kind, f.Count, TimeSpan.FromSeconds(f.DurationS))),
            scpi, () => facility.Motion, stage, facility.Detector,
            [facility.Potentiostat.Disconnect, facility.PotentiostatTcp.Disconnect],
            downtime => facility.RestartMotion(downtime, time));
        return facility;
    }
}

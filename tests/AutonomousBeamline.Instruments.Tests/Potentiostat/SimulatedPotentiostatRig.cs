using AutonomousBeamline.Core.Safety;
using AutonomousBeamline.Instruments.Potentiostat;
using AutonomousBeamline.Instruments.Scpi;
using AutonomousBeamline.Simulators.Physics;
using AutonomousBeamline.Simulators.Potentiostat;
using Microsoft.Extensions.Time.Testing;

namespace AutonomousBeamline.Instruments.Tests.Potentiostat;

public enum Link { Pty, Tcp }

/// <summary>The driver against the simulated instrument over a real transport: a pseudo-terminal opened by SerialPort, or loopback TCP.</summary>
internal sealed class SimulatedPotentiostatRig : IAsyncDisposable
{
    public static readonly SafetyEnvelope Window = new(2.5, 3.8, 0.01, 2, 0.005);

    private readonly IAsyncDisposable _host;

    private SimulatedPotentiostatRig(FakeTimeProvider time, ElectrochemicalCell cell, ScpiServer server, IAsyncDisposable host, ScpiPotentiostat potentiostat)
    {
        Time = time;
        Cell = cell;
        Server = server;
        _host = host;
        Potentiostat = potentiostat;
    }

    public FakeTimeProvider Time { get; }
    public ElectrochemicalCell Cell { get; }
    public ScpiServer Server { get; }
    public ScpiPotentiostat Potentiostat { get; }

    public static async Task<SimulatedPotentiostatRig> StartAsync(Link link, double initialSoc = 0.5, ScpiClientOptions? options = null)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 21, 0, 0, TimeSpan.Zero));
        var cell = new ElectrochemicalCell(time, 0.005, Window, initialSoc);
        var server = new ScpiServer(cell);
        IAsyncDisposable host;
        IScpiTransport transport;
        if (link == Link.Pty)
        {
            var ptyHost = new PtyScpiHost(server);
            host = ptyHost;
            transport = new SerialScpiTransport(ptyHost.LinkPath, 9600);
        }
        else
        {
            var tcpHost = new TcpScpiHost(server);
            host = tcpHost;
            transport = await TcpScpiTransport.ConnectAsync(tcpHost.Host, tcpHost.Port);
        }
        var potentiostat = new ScpiPotentiostat(transport, $"potentiostat ({link})", options ?? new ScpiClientOptions
        {
            ReplyTimeout = TimeSpan.FromSeconds(5),
            QueryRetries = 0,
        });
        return new SimulatedPotentiostatRig(time, cell, server, host, potentiostat);
    }

    public async ValueTask DisposeAsync()
    {
        await Potentiostat.DisposeAsync();
        await _host.DisposeAsync();
    }

    public ValueTask StopHostAsync() => _host.DisposeAsync();
}

using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Safety;
using AutonomousBeamline.Instruments.Potentiostat;
using AutonomousBeamline.Instruments.Scpi;
using AutonomousBeamline.Simulators.Physics;
using AutonomousBeamline.Simulators.Potentiostat;
using Microsoft.Extensions.Time.Testing;

namespace AutonomousBeamline.Instruments.Tests.Potentiostat;

/// <summary>
/// The potentiostat link vanishes and comes back (the simulator hangs up its pseudo-terminal or resets its TCP
/// connections), over the real transports: failures surface as device errors, and the link recovers by itself.
/// </summary>
public class LinkLossTests
{
    /// <summary>Two quick attempts, so that a link kept down for a few hundred milliseconds is certainly reported as gone.</summary>
    private static readonly LinkReconnectPolicy QuickToGiveUp = new() { MaxAttempts = 2, FirstDelay = TimeSpan.FromMilliseconds(20) };

    private static readonly TimeSpan Downtime = TimeSpan.FromMilliseconds(300);

    /// <summary>Longer than any test: the link stays down until <see cref="Rig.Restore"/>, so a slow machine cannot see it back early.</summary>
    private static readonly TimeSpan UntilRestored = TimeSpan.FromHours(1);

    /// <summary>Bounds waiting in a test that would otherwise hang on a regression; not a speed requirement.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(15);

    private sealed class Rig : IAsyncDisposable
    {
        private Rig(ElectrochemicalCell cell, ScpiServer server, PtyScpiHost? pty, TcpScpiHost? tcp, IScpiTransport transport, ScpiPotentiostat potentiostat)
        {
            Cell = cell;
            Server = server;
            Pty = pty;
            Tcp = tcp;
            Transport = transport;
            Potentiostat = potentiostat;
        }

        public ElectrochemicalCell Cell { get; }
        public ScpiServer Server { get; }
        public PtyScpiHost? Pty { get; }
        public TcpScpiHost? Tcp { get; }
        public IScpiTransport Transport { get; }
        public ScpiPotentiostat Potentiostat { get; }

        public static async Task<Rig> StartAsync(Link link, LinkReconnectPolicy? reconnect = null)
        {
            var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 3, 0, 0, TimeSpan.Zero));
            var cell = new ElectrochemicalCell(time, 0.005, new SafetyEnvelope(2.5, 3.8, 0.01, 2, 0.005), 0.5);
            var server = new ScpiServer(cell);
            var options = new ScpiClientOptions { ReplyTimeout = TimeSpan.FromSeconds(5), QueryRetries = 0 };
            if (link == Link.Pty)
            {
                var host = new PtyScpiHost(server);
                var transport = new SerialScpiTransport(host.LinkPath,
                    new SerialLineSettings { WriteTimeout = TimeSpan.FromMilliseconds(500) }, reconnect ?? QuickToGiveUp);
                return new Rig(cell, server, host, null, transport, new ScpiPotentiostat(transport, "potentiostat (pty)", options));
            }
            var tcpHost = new TcpScpiHost(server);
            var tcpTransport = await TcpScpiTransport.ConnectAsync(tcpHost.Host, tcpHost.Port, reconnect ?? QuickToGiveUp);
            return new Rig(cell, server, null, tcpHost, tcpTransport, new ScpiPotentiostat(tcpTransport, "potentiostat (tcp)", options));
        }

        public void Disconnect(TimeSpan downtime)
        {
            Pty?.Disconnect(downtime);
            Tcp?.Disconnect(downtime);
        }

        public void Restore()
        {
            Pty?.Restore();
            Tcp?.Restore();
        }

        public bool IsLinkUp => Pty?.IsLinkUp ?? Tcp!.IsLinkUp;

        public async Task WaitUntilLinkUpAsync()
        {
            using var guard = new CancellationTokenSource(HangGuard);
            while (!IsLinkUp) await Task.Delay(20, guard.Token);
        }

        public async ValueTask DisposeAsync()
        {
            await Potentiostat.DisposeAsync();
            if (Pty is not null) await Pty.DisposeAsync();
            if (Tcp is not null) await Tcp.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(Link.Pty)]
    [InlineData(Link.Tcp)]
    public async Task A_query_while_the_link_is_gone_fails_as_a_device_error_and_the_next_one_after_it_returns_succeeds(Link link)
    {
        await using var rig = await Rig.StartAsync(link);
        var p = rig.Potentiostat;
        await p.ConfigureCurrentSourceAsync(0.002, 3.7);
        await p.SetOutputAsync(true);
        var before = await p.MeasureCurrentAsync();
        Assert.Equal(0.002, before, 9);

        rig.Disconnect(UntilRestored);
        Assert.False(rig.IsLinkUp);
        var e = await Assert.ThrowsAsync<DeviceException>(() => p.MeasureVoltageAsync().WaitAsync(HangGuard));
        Assert.Equal($"potentiostat ({link.ToString().ToLowerInvariant()})", e.Device);
        Assert.Contains("\":MEAS:VOLT?\"", e.Message);
        Assert.Contains(rig.Transport.Endpoint, e.Message);
        Assert.IsAssignableFrom<IOException>(e.InnerException);

        rig.Restore();
        await rig.WaitUntilLinkUpAsync();
        Assert.Equal(0.002, await p.MeasureCurrentAsync().WaitAsync(HangGuard), 9);
        // The instrument kept its output on through the loss; nothing turned it off or on again.
        Assert.True(rig.Cell.OutputOn);
        Assert.True(await p.GetOutputAsync());
        Assert.Equal(0, rig.Server.PendingErrors);
    }

    [Theory]
    [InlineData(Link.Pty)]
    [InlineData(Link.Tcp)]
    public async Task A_link_lost_and_back_between_exchanges_is_reported_and_the_next_exchange_recovers_first(Link link)
    {
        await using var rig = await Rig.StartAsync(link);
        var p = rig.Potentiostat;
        var heard = new List<string>();
        p.OutOfStep += (query, message) => heard.Add($"{query}: {message}");
        Assert.False(await p.GetOutputAsync());

        // Down and up again while nobody asked anything: the next write finds the old link dead and reopens it.
        rig.Disconnect(UntilRestored);
        rig.Restore();
        await rig.WaitUntilLinkUpAsync();
        Assert.False(await p.GetOutputAsync().WaitAsync(HangGuard));
        Assert.False(await p.GetOutputAsync().WaitAsync(HangGuard));

        Assert.Contains(heard, h => h.Contains("lost and reopened"));
    }

    [Theory]
    [InlineData(Link.Pty)]
    [InlineData(Link.Tcp)]
    public async Task A_link_that_never_comes_back_is_reported_as_gone_naming_the_endpoint(Link link)
    {
        await using var rig = await Rig.StartAsync(link);
        Assert.Equal(ScpiServer.DefaultIdentity.Split(',')[1], (await rig.Potentiostat.IdentifyAsync()).Model);

        rig.Disconnect(UntilRestored);
        var query = Assert.ThrowsAsync<DeviceException>(() => rig.Potentiostat.MeasureVoltageAsync());
        var e = await query.WaitAsync(HangGuard);
        Assert.Contains("\":MEAS:VOLT?\"", e.Message);
        // The first exchange may fail on the hang-up itself; from then on the link is known gone and reopening is tried.
        var again = await Assert.ThrowsAsync<DeviceException>(() => rig.Potentiostat.MeasureVoltageAsync().WaitAsync(HangGuard));
        // The endpoint is said once, then why reopening failed.
        Assert.Contains($"\":MEAS:VOLT?\" on {rig.Transport.Endpoint}: the link is gone and could not be reopened (2 attempts", again.Message);
        Assert.Contains(link == Link.Pty ? "cannot open the serial device: the device does not exist" : "cannot connect", again.Message);

        var direct = await Assert.ThrowsAsync<IOException>(() => rig.Transport.WriteLineAsync("*OPC?").WaitAsync(HangGuard));
        Assert.StartsWith(rig.Transport.Endpoint + ": the link is gone", direct.Message);
    }

    [Theory]
    [InlineData(Link.Pty)]
    [InlineData(Link.Tcp)]
    public async Task Safe_state_after_the_link_returns_turns_the_output_off(Link link)
    {
        await using var rig = await Rig.StartAsync(link);
        await rig.Potentiostat.ConfigureCurrentSourceAsync(-0.002, 2.8);
        await rig.Potentiostat.SetOutputAsync(true);

        rig.Disconnect(Downtime);
        await rig.WaitUntilLinkUpAsync();
        Assert.True(rig.Cell.OutputOn);

        await rig.Potentiostat.EnterSafeStateAsync().WaitAsync(HangGuard);
        Assert.False(rig.Cell.OutputOn);
        Assert.False(await rig.Potentiostat.GetOutputAsync());
        Assert.Equal(0, rig.Server.PendingErrors);
    }

    [Theory]
    [InlineData(Link.Pty)]
    [InlineData(Link.Tcp)]
    public async Task Explicit_reconnect_reopens_the_link_once_it_is_back(Link link)
    {
        await using var rig = await Rig.StartAsync(link);
        rig.Disconnect(UntilRestored);
        await Assert.ThrowsAsync<IOException>(() => ReconnectAsync(rig.Transport).WaitAsync(HangGuard));
        Assert.False(IsConnected(rig.Transport));

        rig.Restore();
        await rig.WaitUntilLinkUpAsync();
        await ReconnectAsync(rig.Transport).WaitAsync(HangGuard);
        Assert.True(IsConnected(rig.Transport));
        Assert.Equal(1, Reconnections(rig.Transport));
        Assert.Equal(ScpiServer.DefaultIdentity.Split(',')[2], (await rig.Potentiostat.IdentifyAsync().WaitAsync(HangGuard)).Serial);
    }

    private static Task ReconnectAsync(IScpiTransport transport) => transport switch
    {
        SerialScpiTransport serial => serial.ReconnectAsync(),
        TcpScpiTransport tcp => tcp.ReconnectAsync(),
        _ => throw new ArgumentException(transport.GetType().Name),
    };

    private static bool IsConnected(IScpiTransport transport) =>
        transport is SerialScpiTransport serial ? serial.IsConnected : ((TcpScpiTransport)transport).IsConnected;

    private static int Reconnections(IScpiTransport transport) =>
        transport is SerialScpiTransport serial ? serial.Reconnections : ((TcpScpiTransport)transport).Reconnections;
}

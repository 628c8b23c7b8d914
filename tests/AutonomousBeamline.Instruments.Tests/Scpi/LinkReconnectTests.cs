using System.Net;
using System.Net.Sockets;
using System.Text;
using AutonomousBeamline.Core.Time;
using AutonomousBeamline.Instruments.Scpi;

namespace AutonomousBeamline.Instruments.Tests.Scpi;

/// <summary>The transports' own reconnecting, against a bare TCP listener standing in for the instrument.</summary>
public class LinkReconnectTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(10);

    private static async Task<string> ReadLineAsync(TcpClient peer)
    {
        var stream = peer.GetStream();
        var bytes = new List<byte>();
        var one = new byte[1];
        using var guard = new CancellationTokenSource(HangGuard);
        while (await stream.ReadAsync(one, guard.Token) == 1 && one[0] != (byte)'\n') bytes.Add(one[0]);
        return Encoding.ASCII.GetString(bytes.ToArray());
    }

    [Fact]
    public async Task A_write_after_the_peer_closed_connects_again_and_goes_out_on_the_new_connection_only()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var transport = await TcpScpiTransport.ConnectAsync("127.0.0.1", port, new LinkReconnectPolicy());
        using (var first = await listener.AcceptTcpClientAsync())
        {
            await transport.WriteLineAsync("*IDN?");
            Assert.Equal("*IDN?", await ReadLineAsync(first));
        }
        // The pending read learns of the closed connection; nothing is reopened for a read.
        await Assert.ThrowsAsync<IOException>(() => transport.ReadLineAsync().WaitAsync(HangGuard));
        Assert.False(transport.IsConnected);

        await transport.WriteLineAsync(":MEAS:VOLT?").WaitAsync(HangGuard);
        using var second = await listener.AcceptTcpClientAsync().WaitAsync(HangGuard);
        Assert.Equal(":MEAS:VOLT?", await ReadLineAsync(second));
        Assert.True(transport.IsConnected);
        Assert.Equal(1, transport.Reconnections);

        await second.GetStream().WriteAsync("3.4\n"u8.ToArray());
        using var read = new CancellationTokenSource(HangGuard);
        Assert.Equal("3.4", await transport.ReadLineAsync(read.Token));
    }

    [Fact]
    public async Task With_reconnecting_disabled_a_lost_connection_stays_lost()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var transport = new TcpScpiTransport("127.0.0.1", port, LinkReconnectPolicy.Never);
        using (await listener.AcceptTcpClientAsync())
        {
        }
        await Assert.ThrowsAsync<IOException>(() => transport.ReadLineAsync().WaitAsync(HangGuard));
        var e = await Assert.ThrowsAsync<IOException>(() => transport.WriteLineAsync("*OPC?").WaitAsync(HangGuard));
        Assert.Equal($"tcp 127.0.0.1:{port}: the link failed and reconnecting is disabled", e.Message);
    }

    [Fact]
    public async Task A_peer_that_stopped_listening_is_reported_after_the_configured_attempts()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var policy = new LinkReconnectPolicy { MaxAttempts = 3, FirstDelay = TimeSpan.FromMilliseconds(5) };
        await using var transport = await TcpScpiTransport.ConnectAsync("127.0.0.1", port, policy);
        (await listener.AcceptTcpClientAsync()).Dispose();
        listener.Stop();
        await Assert.ThrowsAsync<IOException>(() => transport.ReadLineAsync().WaitAsync(HangGuard));

        var e = await Assert.ThrowsAsync<IOException>(() => transport.WriteLineAsync("*OPC?").WaitAsync(HangGuard));
        Assert.StartsWith($"tcp 127.0.0.1:{port}: the link is gone and could not be reopened (3 attempts over ", e.Message);
        Assert.Contains("cannot connect", e.Message);
        Assert.Equal(0, transport.Reconnections);
    }

    [Theory]
    [InlineData(5, 0.8)] // 100, 200, then the longest, 250 ms twice
    [InlineData(1, 0)]
    public async Task Reopening_waits_the_first_delay_then_doubles_it_up_to_the_longest(int attempts, double seconds)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        // On the virtual clock the waits are the only thing that takes time, so the seconds reported are exactly theirs.
        var clock = new VirtualTimeProvider(new DateTimeOffset(2026, 11, 26, 3, 0, 0, TimeSpan.Zero));
        var policy = new LinkReconnectPolicy
        {
            MaxAttempts = attempts,
            FirstDelay = TimeSpan.FromMilliseconds(100),
            MaxDelay = TimeSpan.FromMilliseconds(250),
            TimeProvider = clock,
        };
        await using var transport = await TcpScpiTransport.ConnectAsync("127.0.0.1", port, policy);
        (await listener.AcceptTcpClientAsync()).Dispose();
        listener.Stop();
        await Assert.ThrowsAsync<IOException>(() => transport.ReadLineAsync().WaitAsync(HangGuard));

        IOException? gone = null;
        await clock.StartActor(async () => gone = await Assert.ThrowsAsync<IOException>(() => transport.WriteLineAsync("*OPC?"))).WaitAsync(HangGuard);

        Assert.Contains($"({attempts} attempts over {seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} s)", gone!.Message);
        Assert.IsType<IOException>(gone.InnerException);
    }

    [Theory]
    [InlineData(-1, 100, 1000, 1000, "MaxAttempts")]
    [InlineData(3, -1, 1000, 1000, "FirstDelay")]
    [InlineData(3, 500, 100, 1000, "MaxDelay")]
    [InlineData(3, 100, 90_000_000, 1000, "MaxDelay")]
    [InlineData(3, 100, 1000, 0, "ConnectTimeout")]
    public void A_nonsensical_policy_is_refused_naming_the_setting(int attempts, int firstMs, int maxMs, int connectMs, string setting)
    {
        var policy = new LinkReconnectPolicy
        {
            MaxAttempts = attempts,
            FirstDelay = TimeSpan.FromMilliseconds(firstMs),
            MaxDelay = TimeSpan.FromMilliseconds(maxMs),
            ConnectTimeout = TimeSpan.FromMilliseconds(connectMs),
        };
        var e = Assert.Throws<ArgumentException>(() => new SerialScpiTransport("/dev/does-not-exist-scpi", new SerialLineSettings(), policy));
        Assert.Contains(setting, e.Message);
    }
}

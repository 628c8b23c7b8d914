using System.Net.Sockets;
using System.Text;
using AutonomousBeamline.Core.Safety;
using AutonomousBeamline.Simulators.Physics;
using AutonomousBeamline.Simulators.Potentiostat;
using Microsoft.Extensions.Time.Testing;

namespace AutonomousBeamline.Simulators.Tests.Potentiostat;

/// <summary>The simulator hosts drop the potentiostat link on purpose and bring it back; the instrument keeps its state.</summary>
public class LinkDisconnectTests
{
    private static readonly TimeSpan Downtime = TimeSpan.FromMilliseconds(200);

    /// <summary>Bounds waiting in a test that would otherwise hang on a regression; not a speed requirement.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(10);

    private readonly ElectrochemicalCell _cell =
        new(new FakeTimeProvider(), 0.005, new SafetyEnvelope(2.5, 3.8, 0.01, 2, 0.005), 0.5);

    /// <summary>Whether a symlink sits at <paramref name="path"/>, dangling or not (Path.Exists follows it).</summary>
    private static bool IsSymlink(string path)
    {
        try
        {
            return File.ResolveLinkTarget(path, returnFinalTarget: false) is not null;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        using var guard = new CancellationTokenSource(HangGuard);
        while (!condition()) await Task.Delay(10, guard.Token);
    }

    private static async Task<List<string>> ExchangeAsync(Stream stream, string line, int replies)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\n"));
        var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true, bufferSize: 1);
        using var guard = new CancellationTokenSource(HangGuard);
        var lines = new List<string>();
        for (var i = 0; i < replies; i++) lines.Add(await reader.ReadLineAsync(guard.Token) ?? throw new EndOfStreamException());
        return lines;
    }

    [Fact]
    public async Task Pty_link_hangs_up_its_path_vanishes_and_a_new_pseudo_terminal_appears_behind_the_same_path()
    {
        var host = new PtyScpiHost(new ScpiServer(_cell));
        var linkPath = host.LinkPath;
        try
        {
            Assert.StartsWith(Path.GetTempPath(), linkPath);
            Assert.Equal(host.SlavePath, File.ResolveLinkTarget(linkPath, returnFinalTarget: false)?.FullName);
            Assert.True(host.IsLinkUp);

            var client = new FileStream(linkPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
            await ExchangeAsync(client, ":SOUR:FUNC CURR;:SOUR:CURR 0.002;:SOUR:CURR:VLIM 3.7;:OUTP ON", 0);
            Assert.Equal(["1"], await ExchangeAsync(client, ":OUTP?", 1));

            host.Disconnect(TimeSpan.FromHours(1));
            Assert.False(host.IsLinkUp);
            Assert.Equal(1, host.Disconnections);
            Assert.False(Path.Exists(linkPath));
            Assert.False(IsSymlink(linkPath));
            // The old client is hung up: it reads end of file and cannot write.
            Assert.Equal(0, await client.ReadAsync(new byte[16]).AsTask().WaitAsync(HangGuard));
            Assert.ThrowsAny<IOException>(() => client.Write("*OPC?\n"u8));
            client.Dispose();

            host.Restore();
            await WaitUntil(() => host.IsLinkUp);
            Assert.Equal(host.SlavePath, File.ResolveLinkTarget(linkPath, returnFinalTarget: false)?.FullName);
            Assert.StartsWith("/dev/pts/", host.SlavePath);
            await using var again = new FileStream(linkPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
            // The instrument did not notice the cable: its output is still on, at the same setting.
            Assert.Equal(["1", "2.000000E-03"], await ExchangeAsync(again, ":OUTP?;:MEAS:CURR?", 2));
            Assert.True(_cell.OutputOn);
            Assert.Null(host.Failure);
        }
        finally
        {
            await host.DisposeAsync();
        }
        Assert.False(Path.Exists(linkPath));
        Assert.False(IsSymlink(linkPath));
    }

    [Fact]
    public async Task Both_links_come_back_by_themselves_after_the_downtime()
    {
        var pty = new PtyScpiHost(new ScpiServer(_cell));
        await using var tcp = new TcpScpiHost(new ScpiServer(_cell));
        try
        {
            pty.Disconnect(Downtime);
            tcp.Disconnect(Downtime);
            Assert.False(pty.IsLinkUp);
            Assert.False(tcp.IsLinkUp);
            await WaitUntil(() => pty.IsLinkUp && tcp.IsLinkUp);
            await using var serial = new FileStream(pty.LinkPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
            Assert.Equal(["1"], await ExchangeAsync(serial, "*OPC?", 1));
            using var client = new TcpClient();
            await client.ConnectAsync(tcp.Host, tcp.Port);
            Assert.Equal(["1"], await ExchangeAsync(client.GetStream(), "*OPC?", 1));
        }
        finally
        {
            await pty.DisposeAsync();
        }
    }

    [Fact]
    public async Task Pty_disconnect_while_down_extends_the_downtime_and_a_host_disposed_while_down_leaves_no_link()
    {
        var host = new PtyScpiHost(new ScpiServer(_cell));
        host.Disconnect(Downtime);
        host.Disconnect(TimeSpan.FromHours(1));
        Assert.Equal(1, host.Disconnections);
        await Task.Delay(Downtime * 2);
        Assert.False(host.IsLinkUp);
        Assert.False(Path.Exists(host.LinkPath));
        await host.DisposeAsync();
        Assert.False(IsSymlink(host.LinkPath));
        Assert.Throws<ObjectDisposedException>(() => host.Disconnect(Downtime));
    }

    [Fact]
    public void Pty_host_refuses_a_link_path_that_already_exists()
    {
        var taken = Path.GetTempFileName();
        try
        {
            var e = Assert.Throws<IOException>(() => new PtyScpiHost(new ScpiServer(_cell), taken));
            Assert.Contains(taken, e.Message);
            Assert.False(IsSymlink(taken));
        }
        finally
        {
            File.Delete(taken);
        }
    }

    [Fact]
    public async Task Tcp_link_resets_its_connections_refuses_new_ones_while_down_and_listens_again_on_the_same_port()
    {
        await using var host = new TcpScpiHost(new ScpiServer(_cell));
        var port = host.Port;
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(host.Host, port);
            var stream = client.GetStream();
            await ExchangeAsync(stream, ":SOUR:FUNC CURR;:SOUR:CURR -0.001;:SOUR:CURR:VLIM 2.8;:OUTP ON", 0);
            Assert.Equal(["1"], await ExchangeAsync(stream, ":OUTP?", 1));

            host.Disconnect(TimeSpan.FromHours(1));
            Assert.False(host.IsLinkUp);
            Assert.Equal(1, host.Disconnections);
            // Reset, not an orderly close: the client's read fails (or, at the latest, sees the end).
            try
            {
                Assert.Equal(0, await stream.ReadAsync(new byte[16]).AsTask().WaitAsync(HangGuard));
            }
            catch (IOException)
            {
            }
        }
        using (var refused = new TcpClient())
            await Assert.ThrowsAsync<SocketException>(() => refused.ConnectAsync(host.Host, port).WaitAsync(HangGuard));

        host.Restore();
        await WaitUntil(() => host.IsLinkUp);
        Assert.Equal(port, host.Port);
        using var again = new TcpClient();
        await again.ConnectAsync(host.Host, port);
        Assert.Equal(["1", "-1.000000E-03"], await ExchangeAsync(again.GetStream(), ":OUTP?;:MEAS:CURR?", 2));
        Assert.True(_cell.OutputOn);
        Assert.Null(host.Failure);
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using AutonomousBeamline.Instruments.Scpi;
using AutonomousBeamline.Simulators.Potentiostat;

namespace AutonomousBeamline.Instruments.Tests.Scpi;

public class ScpiTransportTests
{
    private static async Task<string> ReadWithin(IScpiTransport transport)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await transport.ReadLineAsync(timeout.Token);
    }

    [Fact]
    public async Task Tcp_transport_frames_lines_and_strips_CR()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var transport = await TcpScpiTransport.ConnectAsync("127.0.0.1", port);
        using var peer = await listener.AcceptTcpClientAsync();
        var stream = peer.GetStream();

        await transport.WriteLineAsync("*IDN?");
        var received = new byte[6];
        await stream.ReadExactlyAsync(received);
        Assert.Equal("*IDN?\n", Encoding.ASCII.GetString(received));

        await stream.WriteAsync("ab"u8.ToArray());
        await stream.WriteAsync("c\r\ndef\n"u8.ToArray());
        Assert.Equal("abc", await ReadWithin(transport));
        Assert.Equal("def", await ReadWithin(transport));

        // Bytes split across reads still make one line; an empty line is a line.
        await stream.WriteAsync("1"u8.ToArray());
        await stream.WriteAsync("\n\n"u8.ToArray());
        Assert.Equal("1", await ReadWithin(transport));
        Assert.Equal("", await ReadWithin(transport));
    }

    [Fact]
    public async Task Tcp_transport_reports_a_closed_connection_as_IOException()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var transport = new TcpScpiTransport("127.0.0.1", port);
        using (await listener.AcceptTcpClientAsync())
        {
        }
        var e = await Assert.ThrowsAsync<IOException>(() => ReadWithin(transport));
        Assert.Contains($"tcp 127.0.0.1:{port}", e.Message);
    }

    [Fact]
    public async Task Serial_transport_over_a_real_pty_frames_lines_and_strips_CR()
    {
        using var pty = PseudoTerminal.Open();
        await using var transport = new SerialScpiTransport(pty.SlavePath, new SerialLineSettings { BaudRate = 115200 });
        Assert.Equal($"serial {pty.SlavePath} 115200 8N1", transport.Endpoint);

        await transport.WriteLineAsync(":MEAS:VOLT?");
        var received = new List<byte>();
        var buffer = new byte[64];
        while (!received.Contains((byte)'\n') && pty.WaitForInput(TimeSpan.FromSeconds(10)) == PtyInputState.DataAvailable)
            received.AddRange(buffer.AsSpan(0, pty.Read(buffer)).ToArray());
        Assert.Equal(":MEAS:VOLT?\n", Encoding.ASCII.GetString(received.ToArray()));

        Assert.True(pty.Write("3.420000E+00\r\n"u8));
        Assert.Equal("3.420000E+00", await ReadWithin(transport));
    }

    [Fact]
    public void Serial_transport_names_the_device_it_could_not_open()
    {
        var e = Assert.Throws<IOException>(() => new SerialScpiTransport("/dev/does-not-exist-scpi", 9600));
        Assert.Contains("/dev/does-not-exist-scpi", e.Message);
    }
}

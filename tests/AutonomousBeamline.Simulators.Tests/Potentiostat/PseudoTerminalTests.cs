using System.Text;
using AutonomousBeamline.Core.Safety;
using AutonomousBeamline.Simulators.Physics;
using AutonomousBeamline.Simulators.Potentiostat;
using Microsoft.Extensions.Time.Testing;

namespace AutonomousBeamline.Simulators.Tests.Potentiostat;

public class PseudoTerminalTests
{
    [Fact]
    public void Opens_a_raw_slave_device_and_reports_a_client_that_left_as_no_client()
    {
        using var pty = PseudoTerminal.Open();
        Assert.StartsWith("/dev/pts/", pty.SlavePath);
        Assert.True(File.Exists(pty.SlavePath));
        Assert.NotEqual(PtyInputState.DataAvailable, pty.WaitForInput(TimeSpan.FromMilliseconds(10)));

        var slave = new FileStream(pty.SlavePath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
        Assert.Equal(PtyInputState.Idle, pty.WaitForInput(TimeSpan.FromMilliseconds(10)));
        // Raw mode: CR LF passes through untranslated and nothing is echoed back.
        slave.Write("A\r\n"u8);
        Assert.Equal(PtyInputState.DataAvailable, pty.WaitForInput(TimeSpan.FromSeconds(5)));
        var buffer = new byte[16];
        var received = new List<byte>();
        while (received.Count < 3 && pty.WaitForInput(TimeSpan.FromSeconds(5)) == PtyInputState.DataAvailable)
            received.AddRange(buffer.AsSpan(0, pty.Read(buffer)).ToArray());
        Assert.Equal("A\r\n"u8.ToArray(), received);

        // The client leaves: the master sees a hang-up (EIO on read), reported as "no client", not an error.
        slave.Dispose();
        Assert.Equal(PtyInputState.NoClient, pty.WaitForInput(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, pty.Read(buffer));
    }

    [Fact]
    public async Task Host_serves_scpi_over_the_pty_and_survives_a_client_reconnecting()
    {
        var time = new FakeTimeProvider();
        var cell = new ElectrochemicalCell(time, 0.005, new SafetyEnvelope(2.5, 3.8, 0.01, 2, 0.005));
        await using var host = new PtyScpiHost(new ScpiServer(cell));

        for (var connection = 0; connection < 2; connection++)
        {
            await using var slave = new FileStream(host.SlavePath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
            await slave.WriteAsync(Encoding.ASCII.GetBytes("*OPC?;*IDN?\r\n"));
            using var reader = new StreamReader(slave, Encoding.ASCII);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            Assert.Equal("1", await reader.ReadLineAsync(timeout.Token));
            Assert.Equal(ScpiServer.DefaultIdentity, await reader.ReadLineAsync(timeout.Token));
        }
        Assert.Null(host.Failure);
    }
}

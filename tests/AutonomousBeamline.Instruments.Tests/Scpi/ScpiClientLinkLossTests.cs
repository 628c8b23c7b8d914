using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Safety;
using AutonomousBeamline.Instruments.Scpi;
using AutonomousBeamline.Simulators.Physics;
using AutonomousBeamline.Simulators.Potentiostat;
using Microsoft.Extensions.Time.Testing;

namespace AutonomousBeamline.Instruments.Tests.Scpi;

/// <summary>What the client does after its transport reports the link gone (an <see cref="IOException"/>).</summary>
public class ScpiClientLinkLossTests
{
    private static readonly ScpiClientOptions Fast = new()
    {
        ReplyTimeout = TimeSpan.FromMilliseconds(500),
        QueryRetries = 2,
        RetryBaseDelay = TimeSpan.FromMilliseconds(1),
    };

    private readonly ElectrochemicalCell _cell =
        new(new FakeTimeProvider(), 0.005, new SafetyEnvelope(2.5, 3.8, 0.01, 2, 0.005), 0.5);
    private readonly ScpiServer _server;
    private readonly LinkFailingTransport _transport;

    public ScpiClientLinkLossTests()
    {
        _server = new ScpiServer(_cell);
        _transport = new LinkFailingTransport(new LoopbackScpiTransport(_server));
    }

    /// <summary>Fails the write of one chosen line as a vanished link does, before the instrument sees it.</summary>
    private sealed class LinkFailingTransport(LoopbackScpiTransport inner) : IScpiTransport
    {
        public LoopbackScpiTransport Inner { get; } = inner;
        public string? FailWriteOf { get; set; }
        public int FailuresLeft { get; set; }

        public string Endpoint => "flaky loopback";

        public Task WriteLineAsync(string line, CancellationToken cancellationToken = default)
        {
            if (line == FailWriteOf && FailuresLeft > 0)
            {
                FailuresLeft--;
                throw new IOException($"{Endpoint}: the link is gone");
            }
            return Inner.WriteLineAsync(line, cancellationToken);
        }

        public Task<string> ReadLineAsync(CancellationToken cancellationToken = default) => Inner.ReadLineAsync(cancellationToken);
        public bool TryReadReceivedLine(out string line) => Inner.TryReadReceivedLine(out line);
        public void DiscardInput() => Inner.DiscardInput();
        public ValueTask DisposeAsync() => Inner.DisposeAsync();
    }

    [Fact]
    public async Task A_lost_link_is_a_device_error_naming_device_and_command_and_a_query_is_not_repeated_by_the_client()
    {
        await using var client = new ScpiClient(_transport, "test potentiostat", Fast);
        _transport.FailWriteOf = ":MEAS:VOLT?";
        _transport.FailuresLeft = 1;

        var e = await Assert.ThrowsAsync<DeviceException>(() => client.QueryAsync(":MEAS:VOLT?"));
        Assert.Equal("test potentiostat", e.Device);
        Assert.Contains("link failure during \":MEAS:VOLT?\" on flaky loopback", e.Message);
        Assert.IsType<IOException>(e.InnerException);
        Assert.True(client.LinkRecoveryPending);
        Assert.Equal(0, _transport.Inner.CountWritten(":MEAS:VOLT?"));
    }

    [Fact]
    public async Task The_next_exchange_resynchronises_and_empties_the_error_queue_so_a_stale_error_is_not_blamed_on_it()
    {
        await using var client = new ScpiClient(_transport, "test potentiostat", Fast);
        // A refused setting whose confirmation is lost with the link: its error stays queued in the instrument.
        _transport.FailWriteOf = ":SYST:ERR?";
        _transport.FailuresLeft = 1;
        var lost = await Assert.ThrowsAsync<DeviceException>(() => client.SendConfirmedAsync(":SOUR:CURR 0.5"));
        Assert.IsNotType<ScpiCommandException>(lost);
        Assert.Contains("\":SOUR:CURR 0.5\"", lost.Message);
        Assert.Equal(1, _server.PendingErrors);

        _transport.Inner.Written.Clear();
        await client.SendConfirmedAsync(":SOUR:CURR 0.002");

        Assert.Equal(0.002, _cell.CurrentLevelA, 12);
        Assert.False(client.LinkRecoveryPending);
        Assert.Equal(["*OPC?", ":SYST:ERR?", ":SYST:ERR?", ":SOUR:CURR 0.002", ":SYST:ERR?"], _transport.Inner.Written);
        // The state-changing command that failed is never sent again by the client.
        Assert.Equal(0, _transport.Inner.CountWritten(":SOUR:CURR 0.5"));
    }

    [Fact]
    public async Task A_recovery_that_fails_again_keeps_the_recovery_pending_and_names_the_callers_command()
    {
        await using var client = new ScpiClient(_transport, "test potentiostat", Fast);
        _transport.FailWriteOf = ":OUTP?";
        _transport.FailuresLeft = 1;
        await Assert.ThrowsAsync<DeviceException>(() => client.QueryAsync(":OUTP?"));

        _transport.FailWriteOf = "*OPC?";
        _transport.FailuresLeft = 1;
        var e = await Assert.ThrowsAsync<DeviceException>(() => client.QueryAsync(":MEAS:CURR?"));
        Assert.Contains("\":MEAS:CURR?\"", e.Message);
        Assert.True(client.LinkRecoveryPending);

        Assert.False(await client.QueryBooleanAsync(":OUTP?"));
        Assert.False(client.LinkRecoveryPending);
    }

    [Fact]
    public async Task An_emergency_command_goes_out_before_the_recovery_and_a_lost_one_is_a_device_error()
    {
        await using var client = new ScpiClient(_transport, "test potentiostat", Fast);
        _transport.FailWriteOf = ":OUTP OFF";
        _transport.FailuresLeft = 1;
        var e = await Assert.ThrowsAsync<DeviceException>(() => client.SendBypassingBreakerAsync(":OUTP OFF"));
        Assert.Contains("\":OUTP OFF\"", e.Message);

        _transport.Inner.Written.Clear();
        await client.SendBypassingBreakerAsync(":OUTP OFF");
        Assert.Equal([":OUTP OFF"], _transport.Inner.Written);
        Assert.True(client.LinkRecoveryPending);
    }
}

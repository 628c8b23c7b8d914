using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Safety;
using AutonomousBeamline.Instruments.Scpi;
using AutonomousBeamline.Simulators.Physics;
using AutonomousBeamline.Simulators.Potentiostat;
using Microsoft.Extensions.Time.Testing;

namespace AutonomousBeamline.Instruments.Tests.Scpi;

public class ScpiClientTests
{
    private static readonly ScpiClientOptions Fast = new()
    {
        ReplyTimeout = TimeSpan.FromMilliseconds(200),
        QueryRetries = 0,
        RetryBaseDelay = TimeSpan.FromMilliseconds(10),
    };

    private readonly ElectrochemicalCell _cell =
        new(new FakeTimeProvider(), 0.005, new SafetyEnvelope(2.5, 3.8, 0.01, 2, 0.005), 0.5);
    private readonly ScpiServer _server;
    private readonly LoopbackScpiTransport _transport;

    public ScpiClientTests()
    {
        _server = new ScpiServer(_cell);
        _transport = new LoopbackScpiTransport(_server);
    }

    private ScpiClient Client(ScpiClientOptions? options = null) => new(_transport, "test potentiostat", options ?? Fast);

    [Fact]
    public async Task Confirmed_command_that_the_instrument_refuses_throws_naming_command_code_and_text()
    {
        await using var client = Client();
        var e = await Assert.ThrowsAsync<ScpiCommandException>(() => client.SendConfirmedAsync(":SOUR:CURR 0.5"));
        Assert.Equal(":SOUR:CURR 0.5", e.Command);
        var error = Assert.Single(e.Errors);
        Assert.Equal(-222, error.Code);
        Assert.StartsWith("Data out of range", error.Message);
        Assert.Contains("test potentiostat", e.Message);
        Assert.Contains("\":SOUR:CURR 0.5\"", e.Message);
        Assert.Contains("-222,\"Data out of range", e.Message);
        Assert.Equal(0, _cell.CurrentLevelA);
    }

    [Fact]
    public async Task Confirmed_command_that_the_instrument_accepts_returns_with_the_setting_applied()
    {
        await using var client = Client();
        await client.SendConfirmedAsync(":SOUR:CURR 0.002");
        Assert.Equal(0.002, _cell.CurrentLevelA, 12);
        Assert.Equal(0, _server.PendingErrors);
    }

    [Fact]
    public async Task Drain_returns_every_error_oldest_first_and_leaves_the_queue_empty()
    {
        await using var client = Client();
        await client.SendAsync(":BOGUS");
        await client.SendAsync(":SOUR:CURR 9");
        var errors = await client.DrainErrorsAsync();
        Assert.Equal([-113, -222], errors.Select(e => e.Code));
        Assert.Empty(await client.DrainErrorsAsync());
    }

    [Theory]
    [InlineData("0,\"No error\"", 0, "No error")]
    [InlineData("-222,\"Data out of range;current 0.5\"", -222, "Data out of range;current 0.5")]
    [InlineData("+0,\"No error\"", 0, "No error")]
    [InlineData("-100,\"Command error \"\"x\"\"\"", -100, "Command error \"x\"")]
    public void Parses_error_queue_entries(string reply, int code, string message)
    {
        var error = ScpiClient.ParseError(reply);
        Assert.Equal(code, error.Code);
        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("No error")]
    [InlineData("-222")]
    [InlineData("x,\"y\"")]
    public void Malformed_error_entry_names_the_query_and_quotes_the_reply(string reply)
    {
        var e = Assert.Throws<ScpiReplyFormatException>(() => ScpiClient.ParseError(reply));
        Assert.Contains(":SYST:ERR?", e.Message);
        Assert.Contains($"\"{reply}\"", e.Message);
    }

    [Fact]
    public async Task Read_time_out_discards_input_resynchronises_and_names_the_query()
    {
        await using var client = Client();
        _server.Faults.DropReplies(1);
        var e = await Assert.ThrowsAsync<DeviceTimeoutException>(() => client.QueryAsync(":MEAS:VOLT?"));
        Assert.Contains("\":MEAS:VOLT?\"", e.Message);
        Assert.Contains("resynchronised", e.Message);
        Assert.Equal(1, _transport.CountWritten("*OPC?"));
        // The link is usable at once, and replies line up with their queries again.
        Assert.Equal("0", await client.QueryAsync(":OUTP?"));
        Assert.Equal("1", await client.QueryAsync("*OPC?"));
    }

    [Fact]
    public async Task Resynchronisation_skips_a_late_stale_reply()
    {
        await using var client = Client();
        _server.Faults.DropReplies(1);
        // The reply to the abandoned query shows up late, during the resynchronisation; no exchange may take it as its own.
        _transport.LateLineBeforeNextOpc = "3.300000E+00";
        await Assert.ThrowsAsync<DeviceTimeoutException>(() => client.QueryAsync(":MEAS:VOLT?"));
        Assert.Equal("0", await client.QueryAsync(":OUTP?"));
        Assert.Equal("1", await client.QueryAsync("*OPC?"));
    }

    [Fact]
    public async Task Idempotent_query_is_retried_after_a_time_out()
    {
        await using var client = Client(Fast with { QueryRetries = 2 });
        _server.Faults.DropReplies(1);
        Assert.Equal("0", await client.QueryAsync(":OUTP?"));
        Assert.Equal(2, _transport.CountWritten(":OUTP?"));
    }

    [Fact]
    public async Task A_command_is_never_repeated_even_when_its_confirmation_times_out()
    {
        await using var client = Client(Fast with { QueryRetries = 3 });
        _server.Faults.DropReplies(1);
        await Assert.ThrowsAsync<DeviceTimeoutException>(() => client.SendConfirmedAsync(":SOUR:CURR 0.001"));
        Assert.Equal(1, _transport.CountWritten(":SOUR:CURR 0.001"));
        // Reading the error queue pops it, so it is not blindly repeated either.
        Assert.Equal(1, _transport.CountWritten(":SYST:ERR?"));
    }

    [Fact]
    public async Task A_garbled_reply_is_not_believed_the_link_is_resynchronised_and_the_query_asked_again()
    {
        await using var client = Client(Fast with { QueryRetries = 2 });
        _server.Faults.GarbleReplies(1);
        Assert.Equal(_cell.MeasureVoltage(), await client.QueryNumberAsync(":MEAS:VOLT?"), 6);
        Assert.Equal(2, _transport.CountWritten(":MEAS:VOLT?"));
        Assert.Equal(1, _transport.CountWritten("*OPC?"));
    }

    [Fact]
    public async Task A_garbled_reply_that_persists_is_an_out_of_step_error_that_quotes_it()
    {
        await using var client = Client(Fast with { QueryRetries = 1 });
        _transport.Manner = (line, replies) => line == ":MEAS:VOLT?" ? ["\u00ff#?!~"] : replies;
        var e = await Assert.ThrowsAsync<ScpiOutOfStepException>(() => client.QueryNumberAsync(":MEAS:VOLT?"));
        Assert.Contains(":MEAS:VOLT?", e.Message);
        Assert.Contains("expected a number", e.Message);
        Assert.Equal(2, _transport.CountWritten(":MEAS:VOLT?"));
        // Whatever came before, the next exchange is in step.
        _transport.Manner = null;
        Assert.Equal("0", await client.QueryAsync(":OUTP?"));
    }

    [Fact]
    public async Task Circuit_opens_after_repeated_time_outs_and_fails_fast_without_writing()
    {
        await using var client = Client(Fast with
        {
            ReplyTimeout = TimeSpan.FromMilliseconds(50),
            BreakerMinimumThroughput = 2,
            BreakerFailureRatio = 0.5,
            BreakerBreakDuration = TimeSpan.FromSeconds(30),
        });
        _server.Faults.DropReplies(1000);
        for (var i = 0; i < 2; i++)
            await Assert.ThrowsAsync<DeviceTimeoutException>(() => client.QueryAsync(":MEAS:VOLT?"));
        var writes = _transport.Written.Count;
        var e = await Assert.ThrowsAsync<DeviceException>(() => client.QueryAsync(":MEAS:VOLT?"));
        Assert.IsNotType<DeviceTimeoutException>(e);
        Assert.Contains("circuit open", e.Message);
        Assert.Equal(writes, _transport.Written.Count);

        // Turning an output off must still get through.
        await client.SendBypassingBreakerAsync(":OUTP OFF");
        Assert.Equal(writes + 1, _transport.Written.Count);
        Assert.Equal(":OUTP OFF", _transport.Written[^1]);
    }

    [Fact]
    public async Task Messages_are_checked_before_they_reach_the_wire()
    {
        await using var client = Client();
        await Assert.ThrowsAsync<ArgumentException>(() => client.QueryAsync("*RST"));
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync(":OUTP?"));
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync(":OUTP ON\n:OUTP OFF"));
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync(":OUTP ON;:OUTP?"));
        await Assert.ThrowsAsync<ArgumentException>(() => client.QueryAsync("*OPC?;:OUTP?"));
        Assert.Empty(_transport.Written);
        Assert.Equal("1", await client.QueryAsync(":OUTP ON;*OPC?"));
    }
}

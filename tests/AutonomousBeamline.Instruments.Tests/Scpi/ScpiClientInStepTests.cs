using AutonomousBeamline.Core.Safety;
using AutonomousBeamline.Instruments.Scpi;
using AutonomousBeamline.Simulators.Physics;
using AutonomousBeamline.Simulators.Potentiostat;
using Microsoft.Extensions.Time.Testing;

namespace AutonomousBeamline.Instruments.Tests.Scpi;

/// <summary>
/// A reply is believed only when it provably belongs to its query. The peer here puts its replies on the wire in ways
/// the ICD allows and our own simulator does not do: noise lines before and after, duplicates, blank lines, lines
/// arriving unasked between exchanges.
/// </summary>
public class ScpiClientInStepTests
{
    private const string Noise = "\u00ff~#\u0007?";

    private static readonly ScpiClientOptions Fast = new()
    {
        ReplyTimeout = TimeSpan.FromMilliseconds(200),
        QueryRetries = 2,
        RetryBaseDelay = TimeSpan.FromMilliseconds(1),
    };

    private readonly ElectrochemicalCell _cell =
        new(new FakeTimeProvider(), 0.005, new SafetyEnvelope(2.5, 3.8, 0.01, 2, 0.005), 0.5);
    private readonly ScpiServer _server;
    private readonly LoopbackScpiTransport _transport;
    private readonly List<string> _outOfStep = new();

    public ScpiClientInStepTests()
    {
        _server = new ScpiServer(_cell);
        _transport = new LoopbackScpiTransport(_server);
    }

    private ScpiClient Client(ScpiClientOptions? options = null)
    {
        var client = new ScpiClient(_transport, "test potentiostat", options ?? Fast);
        client.OutOfStep += (query, message) => _outOfStep.Add($"{query}: {message}");
        return client;
    }

    /// <summary>Adds <paramref name="extra"/> to the replies of the <paramref name="nth"/> exchange whose line is <paramref name="query"/>.</summary>
    private void OnNth(string query, int nth, Func<IReadOnlyList<string>, IEnumerable<string>> extra)
    {
        var seen = 0;
        _transport.Manner = (line, replies) => line == query && ++seen == nth ? extra(replies) : replies;
    }

    private async Task ChargeAtAsync(ScpiClient client, double amperes)
    {
        await client.SendConfirmedAsync(":SOUR:FUNC CURR");
        await client.SendConfirmedAsync(":SOUR:CURR:VLIM 3.8");
        await client.SendConfirmedAsync($":SOUR:CURR {amperes}");
        await client.SendConfirmedAsync(":OUTP ON");
    }

    [Fact]
    public async Task A_noise_line_before_a_reply_never_shifts_later_replies_by_one_query()
    {
        await using var client = Client();
        await ChargeAtAsync(client, 1e-4);
        // The failure seen against another lab's gateway: noise just before the third reply.
        OnNth(":MEAS:VOLT?", 2, replies => [Noise, .. replies]);
        for (var i = 0; i < 10; i++)
        {
            var volts = await client.QueryNumberAsync(":MEAS:VOLT?");
            var amperes = await client.QueryNumberAsync(":MEAS:CURR?");
            Assert.InRange(volts, 2.5, 3.8);
            Assert.Equal(1e-4, amperes, 9);
        }
        Assert.Single(_outOfStep);
        Assert.Contains("expected a number", _outOfStep[0]);
    }

    [Fact]
    public async Task A_number_followed_by_another_line_is_doubted_and_asked_again()
    {
        await using var client = Client();
        await ChargeAtAsync(client, 2e-4);
        // Could be our reply and noise, or a stale reply and ours: the client cannot tell, so it believes neither.
        OnNth(":MEAS:CURR?", 1, replies => [.. replies, "3.340000E+00"]);
        Assert.Equal(2e-4, await client.QueryNumberAsync(":MEAS:CURR?"), 9);
        Assert.Equal(2, _transport.CountWritten(":MEAS:CURR?"));
        Assert.Contains("unexpected line \"3.340000E+00\"", Assert.Single(_outOfStep));
    }

    [Fact]
    public async Task Duplicated_reply_lines_and_blank_lines_are_tolerated_without_resynchronising()
    {
        await using var client = Client();
        _transport.Manner = (_, replies) => replies.SelectMany(r => new[] { "", r, r, "" });
        for (var i = 0; i < 5; i++) Assert.Equal("0", await client.QueryAsync(":OUTP?"));
        Assert.Equal("1", await client.QueryAsync("*OPC?"));
        Assert.Empty(_outOfStep);
        Assert.Equal(1, _transport.CountWritten("*OPC?"));
    }

    [Fact]
    public async Task A_line_that_arrives_between_exchanges_makes_the_next_query_resynchronise_first()
    {
        await using var client = Client();
        Assert.Equal("0", await client.QueryAsync(":OUTP?"));
        _transport.Arrive("1");
        Assert.Equal("0", await client.QueryAsync(":OUTP?"));
        Assert.Equal(1, _transport.CountWritten("*OPC?"));
        Assert.Contains("unasked line", Assert.Single(_outOfStep));
    }

    [Fact]
    public async Task A_refusal_is_not_lost_when_noise_comes_before_the_error_queue_reply()
    {
        await using var client = Client();
        // The instrument refuses the setting; a noise line precedes its -222 entry. Reading the queue cannot be repeated,
        // so the entry must be recovered from what the resynchronisation skipped.
        OnNth(":SYST:ERR?", 1, replies => [Noise, .. replies]);
        var e = await Assert.ThrowsAsync<ScpiCommandException>(() => client.SendConfirmedAsync(":SOUR:CURR 5"));
        Assert.Contains(e.Errors, error => error.Code == -222);
        Assert.Equal(0, _server.PendingErrors);
        Assert.Equal("0", await client.QueryAsync(":OUTP?"));
    }

    [Fact]
    public async Task A_late_reply_to_a_timed_out_query_arriving_with_the_next_one_is_not_taken_for_it()
    {
        await using var client = Client(Fast with { QueryRetries = 0 });
        await ChargeAtAsync(client, 3e-4);
        _server.Faults.DropReplies(1);
        await Assert.ThrowsAsync<AutonomousBeamline.Core.Devices.DeviceTimeoutException>(() => client.QueryNumberAsync(":MEAS:VOLT?"));
        // The lost voltage arrives at last, right in front of the current's reply.
        OnNth(":MEAS:CURR?", 1, replies => ["3.300000E+00", .. replies]);
        var e = await Assert.ThrowsAsync<ScpiOutOfStepException>(() => client.QueryNumberAsync(":MEAS:CURR?"));
        Assert.Contains("3.300000E+00", e.Message);
        Assert.Equal(3e-4, await client.QueryNumberAsync(":MEAS:CURR?"), 9);
    }

    [Fact]
    public async Task A_duplicate_that_trickles_in_after_its_reply_is_not_taken_for_the_next_query_s_reply()
    {
        await using var client = Client();
        await ChargeAtAsync(client, 1e-4);
        var current = await client.QueryAsync(":MEAS:CURR?");
        // Over a slow serial line the current's duplicate is still crossing when the voltage is asked: the voltage query
        // reads it first, and the real voltage comes only after.
        string? voltage = null;
        _transport.Manner = (line, replies) =>
        {
            if (line == ":MEAS:VOLT?" && voltage is null)
            {
                voltage = replies[0];
                return [current];
            }
            if (line == "*OPC?" && voltage is { } late) return [late, .. replies];
            return replies;
        };
        var volts = await client.QueryNumberAsync(":MEAS:VOLT?");
        Assert.InRange(volts, 2.5, 3.8);
        Assert.Contains("repeats word for word the reply to \":MEAS:CURR?\"", Assert.Single(_outOfStep));
        // A reply that really is the same as the one before is believed once it is asked again in step.
        Assert.Equal(1e-4, await client.QueryNumberAsync(":MEAS:CURR?"), 9);
    }

    [Fact]
    public async Task A_straggling_answer_to_an_earlier_resynchronisation_is_awaited_not_read_as_the_next_reply()
    {
        await using var client = Client(Fast with { QueryRetries = 0 });
        await ChargeAtAsync(client, 3e-4);
        // The voltage and the first *OPC? go unanswered for longer than a reply time-out; the second *OPC? is answered
        // with the late voltage and the first "1", and the second "1" straggles in a little after.
        var opcs = 0;
        var straggled = new TaskCompletionSource();
        _transport.Manner = (line, replies) =>
        {
            if (line == ":MEAS:VOLT?") return [];
            if (line != "*OPC?") return replies;
            if (++opcs == 1) return [];
            if (opcs == 2)
            {
                _ = Task.Delay(50).ContinueWith(_ =>
                {
                    _transport.Arrive("1");
                    straggled.SetResult();
                });
                return ["3.300000E+00", "1"];
            }
            return replies;
        };
        await Assert.ThrowsAsync<AutonomousBeamline.Core.Devices.DeviceTimeoutException>(() => client.QueryNumberAsync(":MEAS:VOLT?"));
        Assert.Equal(3e-4, await client.QueryNumberAsync(":MEAS:CURR?"), 9);
        await straggled.Task;
        Assert.Equal("1", await client.QueryAsync(":OUTP?"));
        Assert.Empty(_outOfStep);
        Assert.Equal(2, _transport.CountWritten("*OPC?"));
    }

    [Theory]
    [InlineData(ScpiReplyForm.Number, "2.000000E-03", true)]
    [InlineData(ScpiReplyForm.Number, "9.9E37", true)]
    [InlineData(ScpiReplyForm.Number, "1,\"x\"", false)]
    [InlineData(ScpiReplyForm.Boolean, "ON", true)]
    [InlineData(ScpiReplyForm.Boolean, "0.5", false)]
    [InlineData(ScpiReplyForm.ErrorEntry, "-222,\"Data out of range\"", true)]
    [InlineData(ScpiReplyForm.ErrorEntry, "-222", false)]
    [InlineData(ScpiReplyForm.Identity, "KEITHLEY,2450,123,1.0", true)]
    [InlineData(ScpiReplyForm.Identity, "1", false)]
    [InlineData(ScpiReplyForm.OperationComplete, "1", true)]
    [InlineData(ScpiReplyForm.OperationComplete, "0", false)]
    [InlineData(ScpiReplyForm.AnyLine, "  ", false)]
    public void Reply_forms_accept_only_their_grammar(ScpiReplyForm form, string line, bool accepted) =>
        Assert.Equal(accepted, form.Accepts(line));

    [Theory]
    [InlineData("*IDN?", ScpiReplyForm.Identity)]
    [InlineData(":syst:err?", ScpiReplyForm.ErrorEntry)]
    [InlineData("SYSTem:ERRor:NEXT?", ScpiReplyForm.ErrorEntry)]
    [InlineData(":MEAS:VOLT?", ScpiReplyForm.AnyLine)]
    [InlineData("*OPC?", ScpiReplyForm.OperationComplete)]
    public void A_query_header_names_its_reply_form(string query, ScpiReplyForm form) =>
        Assert.Equal(form, ScpiReplyForms.ForQuery(query));
}

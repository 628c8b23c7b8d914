using System.Text.Json.Nodes;

namespace AutonomousBeamline.ZeroMq.Tests;

/// <summary>The client with an interpreter of its own, as the operator console uses it: error replies are values.</summary>
public class ReplyInterpreterTests
{
    private static readonly ZmqRequestClientOptions Fast = new() { ReplyTimeout = TimeSpan.FromSeconds(1), Retries = 1 };

    private sealed record Answer(bool Ok, string Message, string? Code);

    private sealed class AnswerReplies : IReplyInterpreter<Answer>
    {
        public Answer Read(ZmqRequest request, ZmqReply reply) =>
            reply.Error is { } error ? new(false, error.Message, error.Code) : new(true, reply.Message, null);

        public Exception Malformed(ZmqRequest request, string problem, string text) => new FormatException($"{request.Cmd}: {problem}");

        public Exception? Unreadable(ZmqRequest request, string problem) => new InvalidDataException(problem);

        public Exception NoReply(ZmqRequest request, string message) => new TimeoutException(message);
    }

    private static ZmqRequestClient<Answer> Client(ScriptedRouterServer server, ZmqRequestClientOptions? options = null) =>
        new(server.Endpoint, new AnswerReplies(), options ?? Fast);

    private static string Id(JsonObject request) => request["id"]!.GetValue<string>();

    [Fact]
    public async Task Success_and_error_replies_both_come_back_as_what_the_interpreter_reads()
    {
        using var server = new ScriptedRouterServer((request, n) => n == 1
            ? [$$"""{"id":"{{Id(request)}}","ok":true,"message":"done"}"""]
            : [$$$"""{"id":"{{{Id(request)}}}","ok":false,"error":{"code":"REFUSED","message":"said no"}}"""]);
        using var client = Client(server);

        Assert.Equal(new Answer(true, "done", null), await client.RequestAsync("pause"));
        Assert.Equal(new Answer(false, "said no", "REFUSED"), await client.RequestAsync("pause"));
    }

    [Theory]
    [InlineData("not json at all", "not JSON")]
    [InlineData("[\"ID\"]", "not a JSON object")]
    public async Task An_unreadable_reply_ends_the_request_when_the_interpreter_says_so(string junk, string named)
    {
        using var server = new ScriptedRouterServer((request, n) =>
            n == 1 ? [junk.Replace("ID", Id(request))] : [$$"""{"id":"{{Id(request)}}","ok":true}"""]);
        using var client = Client(server);

        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => client.RequestAsync("status"));

        Assert.Contains(named, ex.Message);
        Assert.Single(server.Received);
        Assert.Equal(0, client.Resends);
        Assert.True((await client.RequestAsync("status")).Ok);
    }

    [Fact]
    public async Task A_reply_without_an_envelope_is_malformed_in_the_interpreters_terms()
    {
        using var server = new ScriptedRouterServer((request, _) => [$$"""{"id":"{{Id(request)}}","ok":false}"""]);
        using var client = Client(server);

        var ex = await Assert.ThrowsAsync<FormatException>(() => client.RequestAsync("status"));

        Assert.Equal("status: is an error without \"error\": {\"code\"}", ex.Message);
    }

    [Fact]
    public async Task No_reply_fails_with_the_interpreters_exception_saying_how_often_it_tried()
    {
        using var server = new ScriptedRouterServer((_, _) => []);
        using var client = Client(server, Fast with { ReplyTimeout = TimeSpan.FromMilliseconds(300) });

        var ex = await Assert.ThrowsAsync<TimeoutException>(() => client.RequestAsync("status"));

        Assert.Contains($"from {server.Endpoint} after 2 attempt(s) of 0.3 s", ex.Message);
    }

    [Fact]
    public async Task An_interpreter_that_throws_fails_only_that_request()
    {
        var replies = new ThrowingOnce();
        using var server = new ScriptedRouterServer((request, _) => [$$"""{"id":"{{Id(request)}}","ok":true}"""]);
        using var client = new ZmqRequestClient<Answer>(server.Endpoint, replies, Fast);

        await Assert.ThrowsAsync<InvalidOperationException>(() => client.RequestAsync("status"));
        Assert.True((await client.RequestAsync("status")).Ok);
    }

    private sealed class ThrowingOnce : IReplyInterpreter<Answer>
    {
        private int _reads;

        public Answer Read(ZmqRequest request, ZmqReply reply) =>
            Interlocked.Increment(ref _reads) == 1 ? throw new InvalidOperationException("first one refused") : new(true, "", null);

        public Exception Malformed(ZmqRequest request, string problem, string text) => new FormatException(problem);

        public Exception? Unreadable(ZmqRequest request, string problem) => null;

        public Exception NoReply(ZmqRequest request, string message) => new TimeoutException(message);
    }

    [Fact]
    public async Task A_caller_that_chose_the_id_can_put_it_in_a_field_of_the_same_request()
    {
        using var server = new ScriptedRouterServer((request, _) => [$$"""{"id":"{{Id(request)}}","ok":true}"""]);
        using var client = Client(server);
        var id = client.NewRequestId();

        await client.RequestAsync(id, "status", new JsonObject { ["proof"] = "signed " + id });

        var sent = JsonNode.Parse(Assert.Single(server.Received))!.AsObject();
        Assert.Equal(id, sent["id"]!.GetValue<string>());
        Assert.Equal("signed " + id, sent["proof"]!.GetValue<string>());
    }

    [Fact]
    public async Task Each_resend_is_announced_with_its_attempt_and_its_cause()
    {
        using var server = new ScriptedRouterServer((request, n) => n switch
        {
            1 => ["""{"id":"someone-else","ok":true}"""],
            2 => [],
            _ => [$$"""{"id":"{{Id(request)}}","ok":true}"""],
        });
        using var client = Client(server, Fast with { Retries = 2 });
        var announced = new List<(string Cmd, string Id, int Attempt, string Why)>();
        client.Resending += (cmd, id, attempt, why) => announced.Add((cmd, id, attempt, why));

        await client.RequestAsync("status");

        Assert.Equal(2, client.Resends);
        Assert.Equal([2, 3], announced.Select(a => a.Attempt));
        Assert.Contains("no reply to 'status' within 1 s (1 replies not for it discarded so far); socket reopened", announced[0].Why);
        Assert.Contains("no reply to 'status' within 1 s", announced[1].Why);
        Assert.All(announced, a => Assert.Equal(Id(JsonNode.Parse(server.Received[0])!.AsObject()), a.Id));
    }
}

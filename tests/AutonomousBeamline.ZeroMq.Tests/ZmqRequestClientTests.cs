using System.Text.Json.Nodes;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.ZeroMq;

namespace AutonomousBeamline.ZeroMq.Tests;

public class ZmqRequestClientTests
{
    private static readonly ZmqRequestClientOptions Fast = new() { ReplyTimeout = TimeSpan.FromSeconds(1), Retries = 2 };

    private static string Ok(JsonObject request, string extra = "") =>
        $"{{\"id\":\"{request["id"]}\",\"ok\":true{extra}}}";

    [Fact]
    public async Task Sends_id_and_cmd_with_the_fields_and_returns_the_reply()
    {
        using var server = new ScriptedRouterServer((request, _) => [Ok(request, ",\"answer\":42")]);
        using var client = new ZmqRequestClient(server.Endpoint, "test", Fast);

        var reply = await client.RequestAsync("describe", new JsonObject { ["kind"] = "xrd" });

        Assert.Equal(42, reply["answer"]!.GetValue<int>());
        var sent = JsonNode.Parse(Assert.Single(server.Received))!.AsObject();
        Assert.Equal("describe", sent["cmd"]!.GetValue<string>());
        Assert.Equal("xrd", sent["kind"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(sent["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Ids_differ_between_requests_and_between_clients()
    {
        using var server = new ScriptedRouterServer((request, _) => [Ok(request)]);
        using var first = new ZmqRequestClient(server.Endpoint, "test", Fast);
        using var second = new ZmqRequestClient(server.Endpoint, "test", Fast);
        await first.RequestAsync("status");
        await first.RequestAsync("status");
        await second.RequestAsync("status");

        var ids = server.Received.Select(r => JsonNode.Parse(r)!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(3, ids.Distinct().Count());
    }

    [Theory]
    [InlineData("BAD_REQUEST", FacilityErrorCode.BadRequest)]
    [InlineData("UNKNOWN_AXIS", FacilityErrorCode.UnknownAxis)]
    [InlineData("OUT_OF_RANGE", FacilityErrorCode.OutOfRange)]
    [InlineData("BUSY", FacilityErrorCode.Busy)]
    [InlineData("FAULT", FacilityErrorCode.Fault)]
    [InlineData("SOMETHING_NEW", FacilityErrorCode.Unrecognised)]
    public async Task Error_replies_become_typed_exceptions_with_the_code_and_message(string wire, FacilityErrorCode expected)
    {
        using var server = new ScriptedRouterServer((request, _) =>
            [$"{{\"id\":\"{request["id"]}\",\"ok\":false,\"error\":{{\"code\":\"{wire}\",\"message\":\"said no\"}}}}"]);
        using var client = new ZmqRequestClient(server.Endpoint, "motion", Fast);

        var ex = await Assert.ThrowsAsync<FacilityErrorException>(() => client.RequestAsync("move"));

        Assert.Equal(expected, ex.Code);
        Assert.Equal(wire, ex.WireCode);
        Assert.Equal("said no", ex.ServerMessage);
        Assert.Equal("motion", ex.Device);
    }

    [Fact]
    public async Task A_reply_with_another_id_is_discarded_and_the_client_keeps_waiting_for_its_own()
    {
        // A late reply to an earlier request arrives first, then ours: no resend is needed.
        using var server = new ScriptedRouterServer((request, _) => ["{\"id\":\"someone-else\",\"ok\":true}", Ok(request, ",\"fresh\":true")]);
        using var client = new ZmqRequestClient(server.Endpoint, "test", Fast);
        var discarded = new List<string>();
        client.ReplyDiscarded += (_, _, why) => discarded.Add(why);

        var reply = await client.RequestAsync("status");

        Assert.True(reply["fresh"]!.GetValue<bool>());
        Assert.Equal(1, client.DiscardedReplies);
        Assert.Equal(0, client.Resends);
        Assert.Single(server.Received);
        Assert.Contains("a reply for request 'someone-else'", Assert.Single(discarded));
    }

    [Fact]
    public async Task Only_replies_for_others_mean_no_reply_and_the_request_is_resent_with_its_id()
    {
        using var server = new ScriptedRouterServer((request, n) =>
            n == 1 ? ["{\"id\":\"someone-else\",\"ok\":true}"] : [Ok(request, ",\"fresh\":true")]);
        using var client = new ZmqRequestClient(server.Endpoint, "test", Fast);

        var reply = await client.RequestAsync("status");

        Assert.True(reply["fresh"]!.GetValue<bool>());
        var ids = server.Received.Select(r => JsonNode.Parse(r)!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(2, ids.Count);
        Assert.Equal(ids[0], ids[1]);
    }

    [Fact]
    public async Task A_duplicated_reply_is_not_taken_for_the_next_request()
    {
        var answer = 0;
        using var server = new ScriptedRouterServer((request, _) =>
        {
            var reply = Ok(request, $",\"n\":{++answer}");
            return [reply, reply];
        });
        using var client = new ZmqRequestClient(server.Endpoint, "test", Fast);

        for (var i = 1; i <= 4; i++) Assert.Equal(i, (await client.RequestAsync("status"))["n"]!.GetValue<int>());
        Assert.Equal(0, client.Resends);
    }

    [Fact]
    public async Task A_multipart_reply_is_rejected_not_fatal_and_the_client_goes_on()
    {
        using var server = new ScriptedRouterServer(
            (request, n) => n == 1 ? [Ok(request)] : [Ok(request, ",\"second\":true")],
            multipartFirst: 2);
        using var client = new ZmqRequestClient(server.Endpoint, "motion",
            new ZmqRequestClientOptions { ReplyTimeout = TimeSpan.FromMilliseconds(500), Retries = 1 });
        var discarded = new List<string>();
        client.ReplyDiscarded += (_, _, why) => discarded.Add(why);

        // Every reply to the first request has two frames: it is no reply at all, not a crash.
        var ex = await Assert.ThrowsAsync<DeviceTimeoutException>(() => client.RequestAsync("move"));
        Assert.Contains("discarded", ex.Message);
        Assert.All(discarded, why => Assert.Contains("a reply of 2 frames", why));
        // The socket still sends and receives.
        Assert.True((await client.RequestAsync("status"))["second"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("[\"ID\"]")]
    [InlineData("{\"id\":\"ID\",\"id\":\"ID\",\"ok\":true}")]
    public async Task A_reply_that_is_not_a_usable_JSON_object_is_discarded(string junk)
    {
        using var server = new ScriptedRouterServer((request, n) =>
            n == 1 ? [junk.Replace("ID", request["id"]!.GetValue<string>())] : [Ok(request)]);
        using var client = new ZmqRequestClient(server.Endpoint, "test", Fast);

        await client.RequestAsync("status");

        Assert.Equal(1, client.DiscardedReplies);
    }

    [Fact]
    public async Task A_lost_reply_is_retried_on_a_new_socket()
    {
        using var server = new ScriptedRouterServer((request, n) => n == 1 ? [] : [Ok(request)]);
        using var client = new ZmqRequestClient(server.Endpoint, "test", Fast);

        await client.RequestAsync("status");

        Assert.Equal(1, client.Resends);
        Assert.Equal(2, server.Received.Count);
    }

    [Fact]
    public async Task No_reply_at_all_gives_a_timeout_after_every_retry()
    {
        using var server = new ScriptedRouterServer((_, _) => []);
        using var client = new ZmqRequestClient(server.Endpoint, "detector",
            new ZmqRequestClientOptions { ReplyTimeout = TimeSpan.FromMilliseconds(400), Retries = 1 });

        var ex = await Assert.ThrowsAsync<DeviceTimeoutException>(() => client.RequestAsync("status"));

        Assert.Contains("2 attempt", ex.Message);
        // A request still unsent when its socket is dropped never arrives, so only the upper bound is certain.
        Assert.True(server.Received.Count <= 2, $"{server.Received.Count} requests for 2 attempts");
    }

    [Fact]
    public async Task The_client_recovers_after_a_timeout_for_the_next_request()
    {
        string? ignoredId = null;
        using var server = new ScriptedRouterServer((request, _) =>
        {
            var id = request["id"]!.GetValue<string>();
            ignoredId ??= id;
            return id == ignoredId ? [] : [Ok(request)];
        });
        // A generous time-out: on a loaded machine reopening the socket alone can take a few hundred ms.
        using var client = new ZmqRequestClient(server.Endpoint, "test",
            new ZmqRequestClientOptions { ReplyTimeout = TimeSpan.FromSeconds(1), Retries = 1 });

        await Assert.ThrowsAsync<DeviceTimeoutException>(() => client.RequestAsync("status"));
        var reply = await client.RequestAsync("status");

        Assert.True(reply["ok"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("{\"id\":\"ID\"}", "\"ok\"")]
    [InlineData("{\"id\":\"ID\",\"ok\":\"yes\"}", "\"ok\"")]
    [InlineData("{\"id\":\"ID\",\"ok\":false}", "\"error\"")]
    public async Task A_malformed_reply_is_a_device_error_naming_what_is_wrong(string template, string named)
    {
        using var server = new ScriptedRouterServer((request, _) => [template.Replace("ID", request["id"]!.GetValue<string>())]);
        using var client = new ZmqRequestClient(server.Endpoint, "test", Fast);

        var ex = await Assert.ThrowsAsync<DeviceException>(() => client.RequestAsync("status"));

        Assert.IsNotType<FacilityErrorException>(ex);
        Assert.Contains(named, ex.Message);
    }

    [Fact]
    public async Task A_cancelled_request_ends_as_cancelled_and_later_requests_still_work()
    {
        using var server = new ScriptedRouterServer((request, n) => n == 1 ? [] : [Ok(request)]);
        using var client = new ZmqRequestClient(server.Endpoint, "test",
            new ZmqRequestClientOptions { ReplyTimeout = TimeSpan.FromSeconds(30), Retries = 0 });
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.RequestAsync("status", null, cts.Token));
        var reply = await client.RequestAsync("status");

        Assert.True(reply["ok"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Requests_after_dispose_are_refused()
    {
        using var server = new ScriptedRouterServer((request, _) => [Ok(request)]);
        var client = new ZmqRequestClient(server.Endpoint, "test", Fast);
        await client.DisposeAsync();

        Assert.Throws<ObjectDisposedException>(() => { _ = client.RequestAsync("status"); });
    }
}

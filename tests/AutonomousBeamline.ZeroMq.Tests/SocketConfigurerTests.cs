using System.Text.Json.Nodes;
using AutonomousBeamline.Core.Devices;
using NetMQ;

namespace AutonomousBeamline.ZeroMq.Tests;

/// <summary><see cref="ZmqRequestClientOptions.ConfigureSocket"/>: CURVE keys on every socket the client opens.</summary>
public class SocketConfigurerTests
{
    private static string Ok(JsonObject request) => $$"""{"id":"{{request["id"]}}","ok":true}""";

    private static Action<SocketOptions> CurveServer(NetMQCertificate server) => o =>
    {
        o.CurveServer = true;
        o.CurveCertificate = server;
    };

    private static Action<SocketOptions> CurveClient(NetMQCertificate server, NetMQCertificate client) => o =>
    {
        o.CurveServerKey = server.PublicKey;
        o.CurveCertificate = client;
    };

    [Fact]
    public async Task With_the_servers_key_a_client_talks_to_a_CURVE_server_and_without_it_gets_no_reply()
    {
        var serverKeys = new NetMQCertificate();
        using var server = new ScriptedRouterServer((request, _) => [Ok(request)], CurveServer(serverKeys));
        using var keyed = new ZmqRequestClient(server.Endpoint, "test", new ZmqRequestClientOptions
        {
            ReplyTimeout = TimeSpan.FromSeconds(2), Retries = 1, ConfigureSocket = CurveClient(serverKeys, new NetMQCertificate()),
        });
        using var plain = new ZmqRequestClient(server.Endpoint, "test",
            new ZmqRequestClientOptions { ReplyTimeout = TimeSpan.FromMilliseconds(300), Retries = 0 });

        Assert.True((await keyed.RequestAsync("status"))["ok"]!.GetValue<bool>());
        // A plain-text peer never completes the CURVE handshake, so its request never arrives.
        await Assert.ThrowsAsync<DeviceTimeoutException>(() => plain.RequestAsync("status"));
        Assert.Single(server.Received);
    }

    [Fact]
    public async Task The_configurer_keys_the_fresh_socket_after_a_lost_reply_too()
    {
        var serverKeys = new NetMQCertificate();
        var clientKeys = new NetMQCertificate();
        var configured = 0;
        var keys = CurveClient(serverKeys, clientKeys);
        using var server = new ScriptedRouterServer((request, n) => n == 1 ? [] : [Ok(request)], CurveServer(serverKeys));
        using var client = new ZmqRequestClient(server.Endpoint, "test", new ZmqRequestClientOptions
        {
            ReplyTimeout = TimeSpan.FromSeconds(1), Retries = 2,
            ConfigureSocket = o =>
            {
                Interlocked.Increment(ref configured);
                keys(o);
            },
        });

        await client.RequestAsync("status");

        Assert.Equal(1, client.Resends);
        Assert.Equal(2, Volatile.Read(ref configured));
    }

    [Fact]
    public async Task A_configurer_that_fails_fails_the_request_and_the_client_goes_on()
    {
        var calls = 0;
        using var server = new ScriptedRouterServer((request, _) => [Ok(request)]);
        using var client = new ZmqRequestClient(server.Endpoint, "test", new ZmqRequestClientOptions
        {
            ReplyTimeout = TimeSpan.FromSeconds(1),
            ConfigureSocket = _ =>
            {
                if (Interlocked.Increment(ref calls) == 1) throw new ArgumentException("no such key");
            },
        });

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => client.RequestAsync("status"));
        Assert.Equal("no such key", ex.Message);
        Assert.True((await client.RequestAsync("status"))["ok"]!.GetValue<bool>());
    }
}

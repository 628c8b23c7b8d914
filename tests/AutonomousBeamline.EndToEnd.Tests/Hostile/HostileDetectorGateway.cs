using System.Text;
using System.Text.Json.Nodes;
using NetMQ;
using NetMQ.Sockets;

namespace AutonomousBeamline.EndToEnd.Tests.Hostile;

/// <summary>
/// A detector gateway between the controller and the simulated detector, written here from the ICD (§3) as a facility's
/// gateway gone bad would be: for the first frames it passes control requests, replies and frames through faithfully;
/// then it turns hostile for good: every control reply carries a second frame (a multipart reply, which a REQ client
/// of old crashed on) every other time, and every data frame has a payload four bytes short of its header's <c>n</c>.
/// All sockets live on one poller thread.
/// </summary>
internal sealed class HostileDetectorGateway : IDisposable
{
    private readonly RouterSocket _control = new();
    private readonly DealerSocket _upstreamControl = new();
    private readonly PullSocket _upstreamData = new();
    private readonly PushSocket _data = new();
    private readonly NetMQPoller _poller;
    private readonly Dictionary<string, byte[]> _clientOfRequest = new();
    private readonly int _faithfulFrames;
    private int _framesPassed, _framesSpoiled, _multipartReplies, _replies;

    public HostileDetectorGateway(string upstreamControl, string upstreamData, int faithfulFrames)
    {
        _faithfulFrames = faithfulFrames;
        ControlEndpoint = $"tcp://127.0.0.1:{_control.BindRandomPort("tcp://127.0.0.1")}";
        DataEndpoint = $"tcp://127.0.0.1:{_data.BindRandomPort("tcp://127.0.0.1")}";
        _upstreamControl.Connect(upstreamControl);
        _upstreamData.Connect(upstreamData);
        _control.ReceiveReady += (_, e) => ForwardRequest(e.Socket.ReceiveMultipartMessage());
        _upstreamControl.ReceiveReady += (_, e) => ForwardReply(e.Socket.ReceiveMultipartMessage());
        _upstreamData.ReceiveReady += (_, e) => ForwardFrame(e.Socket.ReceiveMultipartMessage());
        _poller = new NetMQPoller { _control, _upstreamControl, _upstreamData };
        _poller.RunAsync();
    }

    public string ControlEndpoint { get; }
    public string DataEndpoint { get; }

    public bool Hostile => Volatile.Read(ref _framesPassed) >= _faithfulFrames;
    public int FramesSpoiled => Volatile.Read(ref _framesSpoiled);
    public int MultipartReplies => Volatile.Read(ref _multipartReplies);

    /// <summary>[client identity, empty, json] from a DEALER or REQ client; sent on with the REQ envelope (empty, json).</summary>
    private void ForwardRequest(NetMQMessage message)
    {
        if (message.FrameCount < 3) return;
        var json = message.Last.ConvertToString(Encoding.UTF8);
        if (JsonNode.Parse(json)?["id"]?.GetValue<string>() is { } id) _clientOfRequest[id] = message.First.ToByteArray();
        var upstream = new NetMQMessage();
        upstream.AppendEmptyFrame();
        upstream.Append(json, Encoding.UTF8);
        _upstreamControl.SendMultipartMessage(upstream);
    }

    private void ForwardReply(NetMQMessage message)
    {
        var json = message.Last.ConvertToString(Encoding.UTF8);
        if (JsonNode.Parse(json)?["id"]?.GetValue<string>() is not { } id || !_clientOfRequest.Remove(id, out var client)) return;
        var reply = new NetMQMessage();
        reply.Append(client);
        reply.AppendEmptyFrame();
        reply.Append(json, Encoding.UTF8);
        if (Hostile && _replies++ % 2 == 0)
        {
            reply.Append("{\"note\":\"second frame\"}", Encoding.UTF8);
            Interlocked.Increment(ref _multipartReplies);
        }
        _control.SendMultipartMessage(reply);
    }

    private void ForwardFrame(NetMQMessage frame)
    {
        if (Hostile && frame.FrameCount >= 2)
        {
            var spoiled = new NetMQMessage();
            spoiled.Append(frame[0].ToByteArray());
            var payload = frame[1].ToByteArray();
            spoiled.Append(payload.AsSpan(0, Math.Max(0, payload.Length - 4)).ToArray());
            for (var i = 2; i < frame.FrameCount; i++) spoiled.Append(frame[i].ToByteArray());
            _data.SendMultipartMessage(spoiled);
            Interlocked.Increment(ref _framesSpoiled);
            return;
        }
        _data.SendMultipartMessage(frame);
        Interlocked.Increment(ref _framesPassed);
    }

    public void Dispose()
    {
        _poller.Stop();
        _poller.Dispose();
        _control.Dispose();
        _upstreamControl.Dispose();
        _upstreamData.Dispose();
        _data.Dispose();
    }
}

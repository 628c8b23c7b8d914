using System.Text.Json.Nodes;
using AutonomousBeamline.Core.Devices;

namespace AutonomousBeamline.ZeroMq;

/// <summary>
/// Replies as FACILITY-ICD §2 defines them for one device: the body of a success, a <see cref="FacilityErrorException"/>
/// for an error reply, a <see cref="DeviceException"/> for a malformed one and a <see cref="DeviceTimeoutException"/>
/// when nothing answers. Anything that is not a JSON object is a stray on the link and is discarded.
/// </summary>
public sealed class FacilityReplies : IReplyInterpreter<JsonObject>
{
    private readonly string _device;

    public FacilityReplies(string device)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(device);
        _device = device;
    }

    public JsonObject Read(ZmqRequest request, ZmqReply reply) =>
        reply.Error is { } error
            ? throw new FacilityErrorException(_device, FacilityErrorCodes.FromWire(error.Code), error.Code, error.Message)
            : reply.Body;

    public Exception Malformed(ZmqRequest request, string problem, string text) =>
        new DeviceException(_device, $"reply to '{request.Cmd}' {problem}: {(text.Length <= 200 ? text : text[..200] + "...")}");

    public Exception? Unreadable(ZmqRequest request, string problem) => null;

    public Exception NoReply(ZmqRequest request, string message) => new DeviceTimeoutException(_device, message);
}

/// <summary>The request client of the instrument clients (motion, detector control): ICD replies from <c>device</c>.</summary>
public sealed class ZmqRequestClient(string endpoint, string device, ZmqRequestClientOptions? options = null)
    : ZmqRequestClient<JsonObject>(endpoint, new FacilityReplies(device), options);

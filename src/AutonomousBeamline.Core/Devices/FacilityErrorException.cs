namespace AutonomousBeamline.Core.Devices;

/// <summary>The error codes of FACILITY-ICD §2 and §3.</summary>
public enum FacilityErrorCode
{
    BadRequest,
    UnknownAxis,
    OutOfRange,
    Busy,
    Fault,
    /// <summary>A code this client does not know; the wire text is kept in <see cref="FacilityErrorException.WireCode"/>.</summary>
    Unrecognised,
}

public static class FacilityErrorCodes
{
    public static string ToWire(this FacilityErrorCode code) => code switch
    {
        FacilityErrorCode.BadRequest => "BAD_REQUEST",
        FacilityErrorCode.UnknownAxis => "UNKNOWN_AXIS",
        FacilityErrorCode.OutOfRange => "OUT_OF_RANGE",
        FacilityErrorCode.Busy => "BUSY",
        FacilityErrorCode.Fault => "FAULT",
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, "has no wire form"),
    };

    public static FacilityErrorCode FromWire(string? wire) => wire switch
    {
        "BAD_REQUEST" => FacilityErrorCode.BadRequest,
        "UNKNOWN_AXIS" => FacilityErrorCode.UnknownAxis,
        "OUT_OF_RANGE" => FacilityErrorCode.OutOfRange,
        "BUSY" => FacilityErrorCode.Busy,
        "FAULT" => FacilityErrorCode.Fault,
        _ => FacilityErrorCode.Unrecognised,
    };
}

/// <summary>A facility server answered <c>"ok": false</c> (FACILITY-ICD §2 errors).</summary>
public class FacilityErrorException(string device, FacilityErrorCode code, string wireCode, string serverMessage)
    : DeviceException(device, $"{wireCode}: {serverMessage}")
{
    public FacilityErrorCode Code { get; } = code;

    /// <summary>The code exactly as the server sent it.</summary>
    public string WireCode { get; } = wireCode;

    public string ServerMessage { get; } = serverMessage;
}

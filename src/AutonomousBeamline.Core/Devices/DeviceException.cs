namespace AutonomousBeamline.Core.Devices;

/// <summary>A device refused, failed or went silent. <see cref="Device"/> names which one.</summary>
public class DeviceException : Exception
{
    public DeviceException(string device, string message, Exception? inner = null)
        : base($"{device}: {message}", inner) => Device = device;

    public string Device { get; }
}

/// <summary>A device did not answer in time.</summary>
public class DeviceTimeoutException(string device, string message, Exception? inner = null)
    : DeviceException(device, message, inner);

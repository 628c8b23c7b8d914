using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace AutonomousBeamline.Configuration;

/// <summary>A ZeroMQ TCP endpoint as a config writes it: <c>tcp://HOST:PORT</c>, HOST an IPv4 address, a bracketed IPv6 address, a host name or (to bind every interface) <c>*</c>.</summary>
public sealed partial record TcpEndpoint(string Host, int Port)
{
    /// <summary>The host as a socket takes it (an IPv6 address without its brackets).</summary>
    public string BareHost => Host.StartsWith('[') ? Host[1..^1] : Host;

    /// <summary>127.0.0.0/8, ::1 or localhost: reachable from this machine only.</summary>
    public bool IsLoopback => Host == "localhost" || (IPAddress.TryParse(BareHost, out var address) && IPAddress.IsLoopback(address));

    public override string ToString() => $"tcp://{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The endpoint, or null and why it is not one.</summary>
    public static TcpEndpoint? Parse(string text, out string? why)
    {
        why = null;
        if (!text.StartsWith("tcp://", StringComparison.Ordinal))
        {
            why = $"must be a ZeroMQ TCP endpoint like tcp://127.0.0.1:5555, got '{Clip(text)}'";
            return null;
        }
        var rest = text["tcp://".Length..];
        var colon = rest.LastIndexOf(':');
        if (colon < 0 || (rest.StartsWith('[') && colon < rest.IndexOf(']')))
        {
            why = $"needs a port (tcp://HOST:PORT), got '{Clip(text)}'";
            return null;
        }
        var (host, port) = (rest[..colon], rest[(colon + 1)..]);
        if (!PortPattern().IsMatch(port) || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > 65535)
        {
            why = $"the port must be a number from 1 to 65535, got '{Clip(port)}'";
            return null;
        }
        var hostOk = host == "*"
                     || (host.StartsWith('[') && host.EndsWith(']') && IPAddress.TryParse(host[1..^1], out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
                     || (Ipv4Pattern().IsMatch(host) && IPAddress.TryParse(host, out _))
                     || (!Ipv4Pattern().IsMatch(host) && HostNamePattern().IsMatch(host));
        if (!hostOk)
        {
            why = $"'{Clip(host)}' is not a host (an IPv4 address, [an IPv6 address], a host name, or * to bind every interface)";
            return null;
        }
        return new TcpEndpoint(host, number);
    }

    private static string Clip(string text) => text.Length <= 60 ? text : text[..60] + "…";

    [GeneratedRegex("^[0-9]{1,5}$")]
    private static partial Regex PortPattern();

    [GeneratedRegex(@"^[0-9]+(\.[0-9]+){3}$")]
    private static partial Regex Ipv4Pattern();

    [GeneratedRegex(@"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")]
    private static partial Regex HostNamePattern();
}

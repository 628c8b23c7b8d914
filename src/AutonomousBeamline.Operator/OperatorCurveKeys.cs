using System.Security.Cryptography;
using System.Text;
using NaCl;
using NetMQ;

namespace AutonomousBeamline.Operator;

/// <summary>The endpoint's CURVE identity and the operators it lets in. Keys in Z85 text (40 characters).</summary>
/// <param name="ServerSecretKey">The endpoint's long-term secret key; its public key is what consoles are given.</param>
/// <param name="AllowedClientPublicKeys">Public keys of the consoles allowed to send requests.</param>
/// <param name="ClientNames">
/// Who holds each allowed key (public key → name), as the journal is to name them; a key without a name is journalled
/// as "console KEYPREFIX". The name journalled is always the key's, never what the request says.
/// </param>
public sealed record OperatorServerCurve(string ServerSecretKey, IReadOnlyList<string> AllowedClientPublicKeys,
    IReadOnlyDictionary<string, string>? ClientNames = null);

/// <summary>A console's CURVE identity: the endpoint's public key and the console's own secret key (Z85).</summary>
public sealed record OperatorClientCurve(string ServerPublicKey, string ClientSecretKey);

/// <summary>
/// CURVE key handling and the per-request proof of a client key.
/// </summary>
/// <remarks>
/// CURVE (ZMTP-CURVE) encrypts the connection and proves the server to the client, but NetMQ 4.0.4.5 has
/// neither ZAP nor a way to learn a peer's client key (zeromq/netmq#1141): any peer that knows the server's public
/// key completes the handshake. So each request also carries the client's public key and a box made with the
/// client's secret key and the server's public key over the request's canonical text
/// (<see cref="OperatorRequestProof.Canonical"/>: command, arguments, id, run id, time and nonce): only a holder of
/// an allowed secret key can make one, it is bound to that key (the key that made the box is the identity
/// journalled) and to that one request, and the endpoint accepts each nonce once inside the replay window.
/// </remarks>
public static class OperatorCurveKeys
{
    private const int NonceLength = 24;
    private const int TagLength = 16;

    /// <summary>A fresh key pair as (public, secret) Z85 text, for configuration files.</summary>
    public static (string PublicKey, string SecretKey) NewKeyPair()
    {
        var certificate = new NetMQCertificate();
        return (certificate.PublicKeyZ85, certificate.SecretKeyZ85!);
    }

    /// <summary>The public key belonging to a secret key.</summary>
    /// <exception cref="ArgumentException">Not a 40-character Z85 key.</exception>
    public static string PublicKeyOf(string secretKeyZ85) => Certificate(secretKeyZ85, "secret key").PublicKeyZ85;

    internal static NetMQCertificate Certificate(string secretKeyZ85, string what)
    {
        try
        {
            return NetMQCertificate.CreateFromSecretKey(secretKeyZ85);
        }
        catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException or NullReferenceException)
        {
            throw new ArgumentException($"the {what} is not a 40-character Z85 CURVE key", ex);
        }
    }

    internal static byte[] PublicKeyBytes(string publicKeyZ85, string what)
    {
        try
        {
            return NetMQCertificate.FromPublicKey(publicKeyZ85).PublicKey;
        }
        catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException or NullReferenceException)
        {
            throw new ArgumentException($"the {what} is not a 40-character Z85 CURVE key", ex);
        }
    }

    /// <summary>The "auth" field of a request with this canonical text: base64 of the box's nonce and the box.</summary>
    internal static string Prove(string canonical, NetMQCertificate client, byte[] serverPublicKey)
    {
        var message = Encoding.UTF8.GetBytes(canonical);
        var sealedBytes = new byte[NonceLength + message.Length + TagLength];
        var nonce = sealedBytes.AsSpan(0, NonceLength);
        RandomNumberGenerator.Fill(nonce);
        using var box = new Curve25519XSalsa20Poly1305(client.SecretKey, serverPublicKey);
        box.Encrypt(sealedBytes.AsSpan(NonceLength), message, nonce);
        return Convert.ToBase64String(sealedBytes);
    }

    /// <summary>Whether <paramref name="auth"/> proves the secret key of <paramref name="clientPublicKey"/> for this canonical request.</summary>
    internal static bool Verify(string canonical, string auth, byte[] clientPublicKey, byte[] serverSecretKey)
    {
        var message = Encoding.UTF8.GetBytes(canonical);
        var sealedBytes = new byte[NonceLength + message.Length + TagLength];
        if (!Convert.TryFromBase64String(auth, sealedBytes, out var written) || written != sealedBytes.Length) return false;
        using var box = new Curve25519XSalsa20Poly1305(serverSecretKey, clientPublicKey);
        var opened = new byte[message.Length];
        return box.TryDecrypt(opened, sealedBytes.AsSpan(NonceLength), sealedBytes.AsSpan(0, NonceLength)) &&
               CryptographicOperations.FixedTimeEquals(opened, message);
    }
}

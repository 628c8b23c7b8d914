namespace AutonomousBeamline.Configuration;

/// <summary>
/// The device endpoints the controller connects to and the operator endpoint it binds: real TCP endpoints with a port,
/// the operator's status port (the next one up) inside the port range too, and nothing beyond loopback without CURVE.
/// </summary>
internal static class EndpointRules
{
    private const string Z85Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

    public static void Check(ExperimentConfig c, Action<string, string> fail)
    {
        Connect("devices.motion.endpoint", c.Devices.Motion.Endpoint, fail);
        Connect("devices.detector.control", c.Devices.Detector.Control, fail);
        Connect("devices.detector.data", c.Devices.Detector.Data, fail);
        CheckOperator(c.Operator, fail);
    }

    private static void Connect(string path, string text, Action<string, string> fail)
    {
        var endpoint = TcpEndpoint.Parse(text, out var why);
        if (endpoint is null) fail(path, why!);
        else if (endpoint.Host == "*") fail(path, "names the device's host; * (every interface) is only for an endpoint that binds");
        else if (endpoint.Port == 0) fail(path, "the port must be a number from 1 to 65535, got '0'");
    }

    private static void CheckOperator(OperatorSection op, Action<string, string> fail)
    {
        var keyed = !string.IsNullOrEmpty(op.CurveSecretKey);
        if (keyed && !IsZ85Key(op.CurveSecretKey!))
            fail("operator.curve_secret_key", "must be a 40-character Z85 CURVE key (make a pair with `beamline console keys`)");
        for (var i = 0; i < op.CurveClientPublicKeys.Count; i++)
        {
            var key = op.CurveClientPublicKeys[i];
            if (!IsZ85Key(key)) fail($"operator.curve_client_public_keys[{i}]", "must be a 40-character Z85 CURVE public key");
            else if (op.CurveClientPublicKeys.IndexOf(key) < i) fail($"operator.curve_client_public_keys[{i}]", "is given twice");
        }
        for (var i = 0; i < op.CurveClients.Count; i++)
        {
            var client = op.CurveClients[i];
            if (!IsZ85Key(client.PublicKey)) fail($"operator.curve_clients[{i}].public_key", "must be a 40-character Z85 CURVE public key");
            else if (op.CurveClientPublicKeys.Contains(client.PublicKey) || op.CurveClients.FindIndex(c => c.PublicKey == client.PublicKey) < i)
                fail($"operator.curve_clients[{i}].public_key", "is given twice");
            if (string.IsNullOrWhiteSpace(client.Name)) fail($"operator.curve_clients[{i}].name", "is required: the journal names this console's commands by it");
            else if (client.Name.Length > 64 || TextRules.HasControlOrFormat(client.Name))
                fail($"operator.curve_clients[{i}].name", $"must be at most 64 printable characters, got '{TextRules.Shown(client.Name)}'");
        }
        if (op.CurveClients.Count > 0 && !keyed) fail("operator.curve_clients", "needs operator.curve_secret_key: without CURVE no key is checked");
        if (keyed && op.CurveClientPublicKeys.Count == 0 && op.CurveClients.Count == 0)
            fail("operator.curve_clients", "with curve_secret_key, name at least one console (name and public_key); otherwise no one can attach");
        if (op.Endpoint.Length == 0) return;
        var endpoint = TcpEndpoint.Parse(op.Endpoint, out var why);
        if (endpoint is null)
        {
            fail("operator.endpoint", why!);
            return;
        }
        if (endpoint.Port == 65535)
            fail("operator.endpoint", "the status is published on the next port up, so the port must be at most 65534, got 65535");
        if (!endpoint.IsLoopback && !keyed)
            fail("operator.endpoint", $"{endpoint} is reachable from other machines; bind loopback (tcp://127.0.0.1:PORT) or set operator.curve_secret_key and curve_client_public_keys");
    }

    private static bool IsZ85Key(string key) => key.Length == 40 && key.All(ch => Z85Alphabet.Contains(ch));
}

using System.Text;

namespace AutonomousBeamline.Simulators.Potentiostat;

/// <summary>Cuts a received byte stream into LF-terminated lines, dropping a CR before the LF.</summary>
internal sealed class ScpiLineFramer
{
    /// <summary>Longer input without a terminator is noise; it is cut so memory stays bounded.</summary>
    private const int MaxLineLength = 64 * 1024;

    private readonly StringBuilder _partial = new();

    public List<string> Push(ReadOnlySpan<byte> bytes)
    {
        var lines = new List<string>();
        foreach (var b in bytes)
        {
            if (b == (byte)'\n')
            {
                if (_partial.Length > 0 && _partial[^1] == '\r') _partial.Length--;
                lines.Add(_partial.ToString());
                _partial.Clear();
            }
            else if (_partial.Length < MaxLineLength)
            {
                _partial.Append((char)b);
            }
        }
        return lines;
    }

    public void Reset() => _partial.Clear();

}

using AutonomousBeamline.Core.Domain;
using PureHDF;

namespace AutonomousBeamline.Storage;

/// <summary>Where in the HDF5 blocks an observation's frame lies: the block file (relative to the run folder), the dataset, and its row (-1: the dataset is the one spectrum).</summary>
public sealed record BlockLocation(string RelativePath, string Dataset, int Row);

/// <summary>
/// The blocks' frames by observation sequence, read from the block files themselves (their <c>observation_sequence</c>
/// columns), so that what points into a block is what the block holds. A block that cannot be read is passed over:
/// its frames are still in frames.jsonl.
/// </summary>
public static class BlockIndex
{
    public static IReadOnlyDictionary<long, BlockLocation> Read(string runDirectory, Action<string> warn)
    {
        var index = new Dictionary<long, BlockLocation>();
        var directory = Path.Combine(runDirectory, RunFolder.BlocksDirectoryName);
        if (!Directory.Exists(directory)) return index;
        foreach (var path in Directory.GetFiles(directory, "block-*.h5").Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(runDirectory, path);
            try
            {
                using var file = H5File.OpenRead(path);
                foreach (var kind in new[] { FrameKind.Xrd, FrameKind.Xas })
                {
                    var name = kind.Name();
                    if (!file.LinkExists(name)) continue;
                    var group = file.Group(name);
                    var sequences = group.Dataset("observation_sequence").Read<long[]>();
                    var matrix = group.LinkExists("intensities");
                    for (var row = 0; row < sequences.Length; row++)
                    {
                        if (sequences[row] < 0) continue;
                        index[sequences[row]] = matrix
                            ? new BlockLocation(relative, $"/{name}/intensities", row)
                            : new BlockLocation(relative, $"/{name}/scan_{row:0000}/intensities", -1);
                    }
                }
            }
            // Whatever PureHDF throws for a damaged file: its frames get no stream datum, the events still say everything else.
            catch (Exception e)
            {
                warn($"{relative}: cannot be read, its frames are left without a stream datum: {e.Message}");
            }
        }
        return index;
    }
}

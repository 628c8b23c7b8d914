using AutonomousBeamline.Core.Domain;
using PureHDF;

namespace AutonomousBeamline.Storage;

/// <summary>Where in the HDF5 blocks an observation's frame lies: the block file (relative to the run folder), the dataset, and its row (-1: the dataset is the one spectrum).</summary>
public sealed record BlockLocation(string RelativePath, string Dataset, int Row);

/// <summary>
/// The blocks' frames by observation sequence, and preflight's frames by their run frame, read from the block files
/// themselves (their <c>observation_sequence</c>, <c>disposition</c> and <c>run_frame</c> columns), so that what points
/// into a block is what the block holds. A block that cannot be read is passed over: its frames are still in frames.jsonl.
/// </summary>
public sealed record BlockIndex(IReadOnlyDictionary<long, BlockLocation> Observations, IReadOnlyDictionary<long, BlockLocation> PreflightFrames)
{
    public static BlockIndex Read(string runDirectory, Action<string> warn)
    {
        var observations = new Dictionary<long, BlockLocation>();
        var preflight = new Dictionary<long, BlockLocation>();
        var directory = Path.Combine(runDirectory, RunFolder.BlocksDirectoryName);
        if (!Directory.Exists(directory)) return new(observations, preflight);
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
                    var dispositions = group.Dataset("disposition").Read<string[]>();
                    // Blocks written before run_frame existed hold no preflight frame either.
                    var runFrames = group.LinkExists("run_frame") ? group.Dataset("run_frame").Read<long[]>() : null;
                    var matrix = group.LinkExists("intensities");
                    for (var row = 0; row < sequences.Length; row++)
                    {
                        var at = matrix
                            ? new BlockLocation(relative, $"/{name}/intensities", row)
                            : new BlockLocation(relative, $"/{name}/scan_{row:0000}/intensities", -1);
                        if (sequences[row] >= 0) observations[sequences[row]] = at;
                        else if (runFrames is not null && dispositions[row] == FrameDisposition.Preflight) preflight[runFrames[row]] = at;
                    }
                }
            }
            // Whatever PureHDF throws for a damaged file: its frames get no stream datum, the events still say everything else.
            catch (Exception e)
            {
                warn($"{relative}: cannot be read, its frames are left without a stream datum: {e.Message}");
            }
        }
        return new(observations, preflight);
    }
}

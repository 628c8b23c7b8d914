using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using PureHDF;

namespace AutonomousBeamline.Control.Journal;

/// <summary>
/// Copies the frame file into HDF5, one file per block of frames (<c>hdf5/block-0001.h5</c>, ...), for the analysis
/// tools a beamline uses. PureHDF can neither append to a file nor extend a dataset, and a file is valid only once
/// written whole, so each block is written in one go once it is complete (and the last, partial one at the end of
/// the run). The JSON-lines frame file stays the record written as frames arrive; a block can always be rebuilt
/// from it.
/// </summary>
public sealed class Hdf5BlockExporter
{
    private readonly string _framesPath;
    private readonly string _directory;
    private readonly int _blockFrames;
    private int _exportedLines;

    public Hdf5BlockExporter(string framesPath, string directory, int blockFrames = 100)
    {
        if (blockFrames < 1) throw new ArgumentOutOfRangeException(nameof(blockFrames), blockFrames, "a block holds at least one frame");
        _framesPath = framesPath;
        _directory = directory;
        _blockFrames = blockFrames;
        // A resumed run goes on after the blocks it already wrote.
        _exportedLines = Directory.Exists(directory)
            ? Directory.GetFiles(directory, "block-*.h5").Sum(f => (int)H5File.OpenRead(f).Attribute("frames").Read<long>())
            : 0;
    }

    /// <summary>Frames already in HDF5 blocks.</summary>
    public int Exported => _exportedLines;

    /// <summary>Whether enough new frames wait for a block (cheap: the caller knows how many frames are stored).</summary>
    public bool BlockDue(int framesStored) => framesStored - _exportedLines >= _blockFrames;

    public int BlocksWritten => Directory.Exists(_directory) ? Directory.GetFiles(_directory, "block-*.h5").Length : 0;

    /// <summary>Writes every complete block not yet written; with <paramref name="final"/> the partial last one too.</summary>
    public void Export(bool final)
    {
        var pending = FrameFile.Read(_framesPath, skip: _exportedLines).ToList();
        var start = 0;
        while (pending.Count - start >= _blockFrames || (final && pending.Count - start > 0))
        {
            var block = pending.Skip(start).Take(_blockFrames).ToList();
            Write(block, _exportedLines + 1);
            _exportedLines += block.Count;
            start += block.Count;
        }
    }

    private void Write(IReadOnlyList<(string Disposition, long? ObservationSequence, Frame Frame)> block, int firstLine)
    {
        Directory.CreateDirectory(_directory);
        var file = new H5File();
        file.Attributes["frames"] = (long)block.Count;
        file.Attributes["first_frame_line"] = (long)firstLine;
        file.Attributes["source"] = "frames.jsonl";
        foreach (var kind in block.Select(b => b.Frame.Header.Kind).Distinct())
        {
            var frames = block.Where(b => b.Frame.Header.Kind == kind).ToList();
            var group = new H5Group();
            group["frame"] = new H5Dataset(frames.Select(f => f.Frame.Header.Frame).ToArray());
            group["t_start_unix_s"] = new H5Dataset(frames.Select(f => f.Frame.Header.TStart.ToUnixTimeMilliseconds() / 1000.0).ToArray());
            group["beam_current_ma"] = new H5Dataset(frames.Select(f => f.Frame.Header.BeamCurrentMa).ToArray());
            group["observation_sequence"] = new H5Dataset(frames.Select(f => f.ObservationSequence ?? -1).ToArray());
            group["disposition"] = new H5Dataset(frames.Select(f => f.Disposition).ToArray());
            foreach (var axis in frames.SelectMany(f => f.Frame.Header.Positions.Keys).Distinct())
                group[$"position_{axis}"] = new H5Dataset(frames.Select(f => f.Frame.Header.Positions.GetValueOrDefault(axis, double.NaN)).ToArray());

            var sameLength = frames.All(f => f.Frame.Intensities.Length == frames[0].Frame.Intensities.Length);
            var uniform = frames.All(f => f.Frame.X is null) && sameLength;
            if (uniform)
            {
                // Patterns on one uniform axis: a frames × points matrix with the axis as attributes.
                var n = frames[0].Frame.Intensities.Length;
                var matrix = new float[frames.Count, n];
                for (var i = 0; i < frames.Count; i++)
                for (var j = 0; j < n; j++)
                    matrix[i, j] = frames[i].Frame.Intensities[j];
                var header = frames[0].Frame.Header;
                var data = new H5Dataset(matrix);
                data.Attributes["x_name"] = header.XName ?? "";
                data.Attributes["x_unit"] = header.XUnit ?? "";
                data.Attributes["x_start"] = header.XStart ?? double.NaN;
                data.Attributes["x_step"] = header.XStep ?? double.NaN;
                group["intensities"] = data;
            }
            else
            {
                // Spectra on their own energies (each scan may differ): one small group per frame.
                for (var i = 0; i < frames.Count; i++)
                {
                    var f = frames[i].Frame;
                    group[$"scan_{i:0000}"] = new H5Group
                    {
                        ["x"] = new H5Dataset(f.X ?? Enumerable.Range(0, f.Intensities.Length).Select(f.XAt).Select(v => (float)v).ToArray()),
                        ["intensities"] = new H5Dataset(f.Intensities),
                    };
                }
            }
            file[kind.Name()] = group;
        }
        var path = Path.Combine(_directory, $"block-{BlocksWritten + 1:0000}.h5");
        // Written to a temporary name and renamed, so a crash never leaves a half-written block under the real name.
        var temporary = path + ".partial";
        file.Write(temporary);
        File.Move(temporary, path, overwrite: true);
    }
}

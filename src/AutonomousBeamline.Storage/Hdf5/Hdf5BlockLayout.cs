using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using PureHDF;

namespace AutonomousBeamline.Storage;

/// <summary>
/// What a block file holds: attributes <c>frames</c>, <c>first_frame_line</c> (the place of its first frame among
/// frames.jsonl's frames, from 1) and <c>source</c>; per frame kind a group with <c>run_frame</c> (the frame's place in the
/// run, from 1, going on across a resume), <c>frame</c> (the detector's number), <c>t_start_unix_s</c>,
/// <c>beam_current_ma</c>, <c>observation_sequence</c> (-1: none), <c>disposition</c>, <c>position_&lt;axis&gt;</c>, and the
/// data: a frames × points <c>intensities</c> matrix with its axis in attributes (<c>x_name</c>, <c>x_unit</c>,
/// <c>x_start</c>, <c>x_step</c>) when every frame shares one uniform axis, else one <c>scan_NNNN</c> group per frame
/// with its own <c>x</c> and <c>intensities</c>. Where the kind has preflight frames (disposition <c>preflight</c>), a
/// subgroup <c>preflight</c> holds their reference check, a row per such frame: <c>run_frame</c>, <c>explained</c> and
/// <c>conclusive</c> (1 or 0), <c>unexplained</c> (NaN: none), <c>summary</c>, <c>likely_cause</c> ("" when explained).
/// </summary>
internal static class Hdf5BlockLayout
{
    /// <param name="frames">Frames with their payload, in file order.</param>
    public static H5File Build(IReadOnlyList<StoredFrame> frames, long firstFrame)
    {
        var file = new H5File
        {
            Attributes =
            {
                ["frames"] = (long)frames.Count,
                ["first_frame_line"] = firstFrame,
                ["source"] = RunFolder.FramesFileName,
            },
        };
        var numbered = frames.Select((f, i) => (Stored: f, RunFrame: firstFrame + i)).ToList();
        foreach (var kind in frames.Select(f => f.Frame!.Header.Kind).Distinct())
            file[kind.Name()] = KindGroup(numbered.Where(n => n.Stored.Frame!.Header.Kind == kind).ToList());
        return file;
    }

    /// <summary>Which frames of frames.jsonl a block holds, from its attributes.</summary>
    public static (long FirstFrame, int Frames) ReadExtent(string path)
    {
        using var file = H5File.OpenRead(path);
        return (file.Attribute("first_frame_line").Read<long>(), (int)file.Attribute("frames").Read<long>());
    }

    private static H5Group KindGroup(IReadOnlyList<(StoredFrame Stored, long RunFrame)> numbered)
    {
        var stored = numbered.Select(n => n.Stored).ToList();
        var frames = stored.Select(s => s.Frame!).ToList();
        var group = new H5Group
        {
            ["run_frame"] = new H5Dataset(numbered.Select(n => n.RunFrame).ToArray()),
            ["frame"] = new H5Dataset(frames.Select(f => f.Header.Frame).ToArray()),
            ["t_start_unix_s"] = new H5Dataset(frames.Select(f => f.Header.TStart.ToUnixTimeMilliseconds() / 1000.0).ToArray()),
            ["beam_current_ma"] = new H5Dataset(frames.Select(f => f.Header.BeamCurrentMa).ToArray()),
            ["observation_sequence"] = new H5Dataset(stored.Select(s => s.ObservationSequence ?? -1).ToArray()),
            ["disposition"] = new H5Dataset(stored.Select(s => FrameDisposition.Name(s.Fate, s.Flag)).ToArray()),
        };
        if (numbered.Where(n => n.Stored.Fate == FrameFate.Preflight).ToList() is { Count: > 0 } preflight) group["preflight"] = PreflightGroup(preflight);
        foreach (var axis in frames.SelectMany(f => f.Header.Positions.Keys).Distinct())
            group[$"position_{axis}"] = new H5Dataset(frames.Select(f => f.Header.Positions.GetValueOrDefault(axis, double.NaN)).ToArray());

        var uniform = frames.All(f => f.X is null && f.Intensities.Length == frames[0].Intensities.Length);
        if (uniform) group["intensities"] = Matrix(frames);
        else
            // Spectra on their own energies (each scan may differ): one small group per frame.
            for (var i = 0; i < frames.Count; i++)
                group[$"scan_{i:0000}"] = new H5Group
                {
                    ["x"] = new H5Dataset(frames[i].X ?? Enumerable.Range(0, frames[i].Intensities.Length).Select(j => (float)frames[i].XAt(j)).ToArray()),
                    ["intensities"] = new H5Dataset(frames[i].Intensities),
                };
        return group;
    }

    /// <summary>The verdicts beside the preflight frames, by run frame (a frame stored without one reads as not conclusive).</summary>
    private static H5Group PreflightGroup(IReadOnlyList<(StoredFrame Stored, long RunFrame)> preflight)
    {
        var checks = preflight.Select(p => p.Stored.Check).ToList();
        return new H5Group
        {
            Attributes = { ["description"] = "preflight's reference check of each preflight frame (disposition preflight) of this kind, by run_frame" },
            ["run_frame"] = new H5Dataset(preflight.Select(p => p.RunFrame).ToArray()),
            ["explained"] = new H5Dataset(checks.Select(c => (byte)(c?.Explained == true ? 1 : 0)).ToArray()),
            ["conclusive"] = new H5Dataset(checks.Select(c => (byte)(c?.Conclusive == true ? 1 : 0)).ToArray()),
            ["unexplained"] = new H5Dataset(checks.Select(c => c?.Unexplained ?? double.NaN).ToArray()),
            ["summary"] = new H5Dataset(checks.Select(c => c?.Summary ?? "").ToArray()),
            ["likely_cause"] = new H5Dataset(checks.Select(c => c?.LikelyCause ?? "").ToArray()),
        };
    }

    /// <summary>Patterns on one uniform axis: a frames × points matrix with the axis as attributes.</summary>
    private static H5Dataset Matrix(IReadOnlyList<Frame> frames)
    {
        var points = frames[0].Intensities.Length;
        var matrix = new float[frames.Count, points];
        for (var i = 0; i < frames.Count; i++)
        for (var j = 0; j < points; j++)
            matrix[i, j] = frames[i].Intensities[j];
        var header = frames[0].Header;
        return new H5Dataset(matrix)
        {
            Attributes =
            {
                ["x_name"] = header.XName ?? "",
                ["x_unit"] = header.XUnit ?? "",
                ["x_start"] = header.XStart ?? double.NaN,
                ["x_step"] = header.XStep ?? double.NaN,
            },
        };
    }
}

using System.Diagnostics;
using System.Globalization;
using AutonomousBeamline.Control.Engine;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Plan;

namespace AutonomousBeamline.Cli.Feedback;

/// <summary>
/// Where a run stands, one line per frame: virtual time beside wall-clock time, the frame budget (as a bar on a
/// terminal), beam time on observations against its budget, the protocol step, and the wall-clock time left at the
/// pace so far. Fed by the journal's records (thread-safe: the cycler and the loop both write).
/// </summary>
internal sealed class RunProgressLine(RunPlan plan, TimeProvider time, bool terminal)
{
    private const int BarWidth = 20;
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private readonly object _gate = new();
    private string _step = "-";
    private double _beamS;

    public void Observe(JournalEntry entry)
    {
        lock (_gate)
        {
            switch (entry.Record)
            {
                case StepStarted s: _step = s.Step; break;
                case ProtocolDone: _step = "done"; break;
                case ObservationMade o: _beamS += o.Observation.ExposureS ?? 0; break;
            }
        }
    }

    public string Format(RunProgress progress)
    {
        string step;
        double beam;
        lock (_gate) (step, beam) = (_step, _beamS);
        var frames = plan.Budget.Frames;
        var share = frames > 0 ? Math.Clamp((double)progress.Frames / frames, 0, 1) : 0;
        var wall = _wall.Elapsed;
        var eta = progress.Frames > 0 ? TimeSpan.FromTicks((long)(wall.Ticks * (double)(frames - progress.Frames) / progress.Frames)) : (TimeSpan?)null;
        var bar = terminal ? "[" + new string('#', (int)Math.Round(share * BarWidth)).PadRight(BarWidth, '.') + "] " : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"[{time.GetUtcNow():HH:mm:ss} | wall {Clock(wall)}] {bar}{progress.Frames}/{frames} frames, beam {beam:0}/{plan.Budget.BeamTimeS:0} s, step {step}, " +
            $"ETA {(eta is { } e ? Clock(e) : "-")} | {progress.Message}");
    }

    private static string Clock(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);
}

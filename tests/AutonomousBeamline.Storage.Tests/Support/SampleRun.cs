using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Features;
using Microsoft.Extensions.Time.Testing;

namespace AutonomousBeamline.Storage.Tests;

/// <summary>
/// A small run written through the real run folder: a charge with cell samples, diffraction frames on a 2θ axis with
/// their observations and decisions, one XAS scan on explicit energies, a rest, and the run's end. Numbers are not the
/// simulator's: uneven times, a negative current, a frame that is not an observation.
/// </summary>
public static class SampleRun
{
    public static readonly RunDescription Description = new("dry-run", "ann",
        new CellDescription("LFP/Li", 0.005, 2.5, 4.0, 3.0, 10, 45), new BeamlineDescription(0.5));

    public const int XrdPoints = 7;

    /// <summary>A pattern and a spectrum the references explained, as preflight keeps them.</summary>
    public static readonly ReferenceVerdict ExplainedPattern = new(true, "LiFePO4 0.97, FePO4 0.03; unexplained 0.04", null, Unexplained: 0.04);
    public static readonly ReferenceVerdict ExplainedSpectrum = new(true, "E0 7121.4 eV (Fe K-edge 7112.0 eV); LiFePO4 0.98, FePO4 0.02", null);

    /// <param name="preflight">Whether preflight's reference check took a pattern and a spectrum first (both explained).</param>
    public static async Task WriteAsync(string directory, bool end = true, bool preflight = false)
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        await using var folder = RunFolder.Open(directory, clock, hdf5BlockFrames: 2);
        var j = folder.Journal;
        j.Write(new RunStarted("lfp-test", RoiStrategy.Learner, "run-1"));
        j.Write(new StateTransition(RunState.Idle, RunState.Preflight, RunTrigger.Start));
        if (preflight)
        {
            // Numbered past the experiment's own frames, as a detector restarted for the run might.
            Preflight(folder, Xrd(101, clock.GetUtcNow()), ExplainedPattern);
            clock.Advance(TimeSpan.FromSeconds(3));
            Preflight(folder, Xas(102, clock.GetUtcNow()), ExplainedSpectrum);
            j.Write(new PreflightCompleted([new PreflightCheck("references (xrd)", ExplainedPattern.Summary), new PreflightCheck("references (xas)", ExplainedSpectrum.Summary)]));
        }
        j.Write(new StepStarted("charge", "cycle1/charge", 1, "cc", 1, 0.005, "learner", null, 3600, 10));
        j.Write(new DecisionMade(Decision(DecisionKind.CRate, new() { ["c_rate"] = 1.0 }, 0.7, "fastest within the window")));
        long sequence = 0;
        for (var i = 1; i <= 5; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(7 + i));
            // The thermometer's reading is lost once (a gap, not a number).
            j.Write(new CellSample(3.3 + 0.05 * i, 0.005, 0.1 * i, "charge", null, 1, i == 2 ? null : 24.6 + 0.37 * i));
            j.Write(new DecisionMade(Decision(DecisionKind.Roi, new() { ["x_mm"] = i, ["y_mm"] = 10 - i }, 1.0 / i, $"largest spread {i}")));
            var frame = Xrd(i, clock.GetUtcNow());
            if (i == 3)
            {
                folder.Frames.Store(frame, FrameFate.Flagged, "flat");
                j.Write(new FrameNotCounted(i, FrameKind.Xrd, "flat"));
                continue;
            }
            sequence++;
            folder.Frames.Store(frame, FrameFate.Observation, observationSequence: sequence);
            j.Write(new ObservationMade(Observation(sequence, i, clock.GetUtcNow(), FrameKind.Xrd, 0.1 * i, 0.2 * i)));
        }
        clock.Advance(TimeSpan.FromSeconds(30));
        j.Write(new DecisionMade(Decision(DecisionKind.EnergyRange, new() { ["start_ev"] = 7100, ["stop_ev"] = 7140, ["step_ev"] = 20 }, 0.3, "edge in view")));
        sequence++;
        folder.Frames.Store(Xas(6, clock.GetUtcNow()), FrameFate.Observation, observationSequence: sequence);
        j.Write(new ObservationMade(Observation(sequence, 6, clock.GetUtcNow(), FrameKind.Xas, 0.5, 0.6) with { EdgeEnergyEv = 7121.5, WhiteLineEnergyEv = 7131 }));
        j.Write(new StepEnded("charge", "cycle1/charge", 1, "cc", "voltage reached", "condition", 70, 0.0001, 3.6, 0.55));
        j.Write(new StepStarted("rest", "cycle1/rest", 1, "rest", 0, 0, null, null, 300, 10));
        clock.Advance(TimeSpan.FromSeconds(11));
        j.Write(new CellSample(3.45, -0.0001, 0.55, "rest", null, 1));
        j.Write(new StepEnded("rest", "cycle1/rest", 1, "rest", "duration", "condition", 11, 0, 3.45, 0.55));
        if (end) j.Write(new RunEnded(ExitStatus.Success, "frame budget spent", 5, 6));
    }

    /// <summary>
    /// A run that stopped in preflight: the references do not explain its first pattern (taken at another X-ray energy than
    /// the config's), and the journal says so before the run ends.
    /// </summary>
    public static async Task WriteFailedPreflightAsync(string directory)
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        await using var folder = RunFolder.Open(directory, clock, hdf5BlockFrames: 2);
        var j = folder.Journal;
        j.Write(new RunStarted("lfp-test", RoiStrategy.Learner, "run-1"));
        j.Write(new StateTransition(RunState.Idle, RunState.Preflight, RunTrigger.Start));
        clock.Advance(TimeSpan.FromSeconds(4));
        var verdict = new ReferenceVerdict(false, "the references leave 71% of the pattern unexplained at 0.7293 Å (17.000 keV)",
            "X-ray energy: the pattern fits far better at 0.5000 Å (24.797 keV) (unexplained 0.05), the config says 0.7293 Å (17.000 keV)", Unexplained: 0.71);
        Preflight(folder, Xrd(1, clock.GetUtcNow()), verdict);
        var reason = $"preflight: the configured references do not explain the first xrd frame ({verdict.Summary}); likely cause: {verdict.LikelyCause}";
        j.Write(new StateTransition(RunState.Preflight, RunState.Aborted, RunTrigger.Abort));
        j.Write(new FaultRecorded("PreflightException", reason, RunState.Preflight));
        j.Write(new RunEnded(ExitStatus.Fail, reason, 0, 0));
    }

    /// <summary>A preflight frame as <c>ReferenceFramePreflight</c> keeps it: the frame with its verdict, then the verdict's record.</summary>
    private static void Preflight(RunFolder folder, Frame frame, ReferenceVerdict verdict)
    {
        folder.Frames.StorePreflight(frame, verdict);
        folder.Journal.Write(new ReferenceChecked(frame.Header.Kind, frame.Header.Frame, verdict.Explained, verdict.Conclusive, verdict.Summary,
            verdict.Unexplained, verdict.LikelyCause));
    }

    public static Frame Xrd(long n, DateTimeOffset at) => new(new FrameHeader
    {
        Frame = n, RequestId = "r" + n, Kind = FrameKind.Xrd, N = XrdPoints, XMode = "uniform", XName = "two_theta", XUnit = "deg",
        XStart = 10, XStep = 0.25, ExposureS = 20, TStart = at, BeamCurrentMa = 190 + n,
        Positions = new Dictionary<string, double> { ["sample_x"] = n, ["sample_y"] = 10 - n },
    }, Enumerable.Range(0, XrdPoints).Select(j => (float)(100 * n + j)).ToArray(), null);

    public static Frame Xas(long n, DateTimeOffset at) => new(new FrameHeader
    {
        Frame = n, RequestId = "r" + n, Kind = FrameKind.Xas, N = 3, XMode = "explicit", ExposureS = 0.3, TStart = at, BeamCurrentMa = 188,
        Positions = new Dictionary<string, double> { ["sample_x"] = 5, ["sample_y"] = 5 },
    }, [0.1f, 0.9f, 1.1f], [7100f, 7120f, 7140f]);

    private static Decision Decision(DecisionKind kind, Dictionary<string, double> values, double score, string reason) => new()
    {
        Kind = kind, Values = values, Score = score, Reason = reason, ModelVersion = 2,
        Alternatives = [new DecisionOption(values, score / 2)],
    };

    private static Observation Observation(long sequence, long frame, DateTimeOffset at, FrameKind kind, double soc, double fraction) => new()
    {
        Sequence = sequence, Frame = frame, Time = at, Kind = kind, XMm = frame, YMm = 10 - frame, StateOfCharge = soc, CRate = 1,
        PhaseFraction = fraction, PhaseFractionSigma = 0.01, BeamCurrentMa = 190 + frame, ExposureS = 20,
    };
}

using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning;

namespace AutonomousBeamline.Control.Tests.Support;

/// <summary>
/// A motion server without a wire: moves are instant, the beam follows <see cref="Beam"/> (a function of time), the shutter
/// is recorded, and a test can make any call fail. Frames are taken by <see cref="FakeDetector"/> at the stage's position.
/// </summary>
internal sealed class FakeMotion(TimeProvider time) : IMotion
{
    public (double X, double Y) Position { get; private set; } = (5, 5);
    public bool ShutterOpen { get; private set; }
    public List<string> Calls { get; } = new();
    /// <summary>Storage-ring current at a moment; 200 mA throughout unless a test says otherwise.</summary>
    public Func<DateTimeOffset, double> Beam { get; set; } = _ => 200;
    public Func<DateTimeOffset, InterlockState?> Interlock { get; set; } = _ => null;
    /// <summary>Called before every request: throw from it to make the server fail.</summary>
    public Action<string>? Before { get; set; }

    public Task<MotionDescription> DescribeAsync(CancellationToken ct = default)
    {
        Before?.Invoke("describe");
        return Task.FromResult(new MotionDescription(
            [new AxisDescription("sample_x", "mm", -5, 15, 2), new AxisDescription("sample_y", "mm", -5, 15, 2)], HasShutter: true));
    }

    public Task<MotionStatus> MoveAsync(IReadOnlyDictionary<string, double> targets, CancellationToken ct = default)
    {
        Before?.Invoke("move");
        Position = (targets["sample_x"], targets["sample_y"]);
        lock (Calls) Calls.Add(FormattableString.Invariant($"move {Position.X} {Position.Y}"));
        return GetStatusAsync(ct);
    }

    public Task<MotionStatus> GetStatusAsync(CancellationToken ct = default)
    {
        Before?.Invoke("status");
        var now = time.GetUtcNow();
        return Task.FromResult(new MotionStatus(MotionState.Idle, new Dictionary<string, double> { ["sample_x"] = Position.X, ["sample_y"] = Position.Y },
            ShutterOpen, Beam(now)) { Interlock = Interlock(now) });
    }

    public Task StopAsync(CancellationToken ct = default) => Task.CompletedTask;

    public Task SetShutterAsync(bool open, CancellationToken ct = default)
    {
        Before?.Invoke("shutter");
        ShutterOpen = open;
        lock (Calls) Calls.Add(open ? "open" : "close");
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// A detector without a wire: each frame is counted on the run's clock (so a dry run's time passes), carries the stage's
/// position and the beam current at its start, and holds its own x position as its "pattern", which <see cref="FakeAnalyzer"/>
/// reads back as the phase fraction.
/// </summary>
internal sealed class FakeDetector(TimeProvider time, FakeMotion stage) : IDetector
{
    private long _frame;
    public int Acquisitions { get; private set; }
    /// <summary>Called before every request ("describe", "xrd", "xas"), after the acquisition is counted: throw from it to make the detector fail.</summary>
    public Action<string>? Before { get; set; }
    /// <summary>The beam current the n-th acquisition's header claims, when not the stage's (null: the stage's).</summary>
    public Func<int, double?>? HeaderBeamMa { get; set; }

    public Task<DetectorDescription> DescribeAsync(CancellationToken ct = default)
    {
        Before?.Invoke("describe");
        return Task.FromResult(new DetectorDescription(["xrd", "xas"], new UniformAxis(4, "two_theta", "deg", 5, 0.5)));
    }

    public Task<Frame> AcquireXrdAsync(double exposureS, CancellationToken ct = default) => AcquireAsync(FrameKind.Xrd, exposureS, 4, ct);

    public Task<Frame> AcquireXasAsync(XasScanRequest request, CancellationToken ct = default)
    {
        // A list of energies, or a range (as preflight asks for its spectrum).
        var points = request.EnergiesEv?.Count ?? (int)Math.Floor((request.Range!.StopEv - request.Range.StartEv) / request.Range.StepEv + 1e-9) + 1;
        return AcquireAsync(FrameKind.Xas, request.DwellS * points, points, ct);
    }

    private async Task<Frame> AcquireAsync(FrameKind kind, double seconds, int n, CancellationToken ct)
    {
        Acquisitions++;
        Before?.Invoke(kind.Name());
        var start = time.GetUtcNow();
        var beam = HeaderBeamMa?.Invoke(Acquisitions) ?? (await stage.GetStatusAsync(ct)).BeamCurrentMa;
        await Task.Delay(TimeSpan.FromSeconds(seconds), time, ct);
        var (x, y) = stage.Position;
        return new Frame(new FrameHeader
        {
            Frame = ++_frame, RequestId = "fake", Kind = kind, N = n, XMode = "uniform", XName = "two_theta", XUnit = "deg",
            XStart = 5, XStep = 0.5, ExposureS = seconds, TStart = start, BeamCurrentMa = beam,
            Positions = new Dictionary<string, double> { ["sample_x"] = x, ["sample_y"] = y },
        }, Enumerable.Repeat((float)x, n).ToArray(), null);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Reads the phase fraction a <see cref="FakeDetector"/> frame carries (x / 10), or flags every frame when told to.</summary>
internal sealed class FakeAnalyzer : IXrdAnalyzer
{
    public string? FlagEverything { get; set; }

    public XrdFeatures Analyze(Frame frame) =>
        FlagEverything is { } flag ? new XrdFeatures(double.NaN, double.NaN, flag) : new XrdFeatures(Math.Clamp(frame.Intensities[0] / 10.0, 0, 1), 0.01, null);
}

/// <summary>A planner that walks a fixed list of spots, for tests that need to know where the run goes.</summary>
internal sealed class ListPlanner(params (double X, double Y)[] spots) : IRoiPlanner
{
    private int _next;
    public List<Learning.Acquisition.RoiRectangle> Excluded { get; } = new();

    public DecisionSource Strategy => DecisionSource.Learner;

    public Decision NextRoi(IReadOnlyList<Observation> observations, RoiContext context)
    {
        var (x, y) = spots[_next++ % spots.Length];
        return new Decision
        {
            Kind = DecisionKind.Roi, Values = new Dictionary<string, double> { ["x_mm"] = x, ["y_mm"] = y }, Score = 1,
            Alternatives = [new DecisionOption(new Dictionary<string, double> { ["x_mm"] = 9, ["y_mm"] = 9 }, 0.5)],
            Reason = $"spot {_next} of the list", ModelVersion = _next,
        };
    }

    public void Exclude(Learning.Acquisition.RoiRectangle region) => Excluded.Add(region);
}

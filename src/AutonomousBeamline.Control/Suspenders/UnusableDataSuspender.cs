using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Control.Suspenders;

/// <summary>
/// Frames the analysis cannot use, one after another or most of the recent ones: the model of the sample does not fit the
/// data (the X-ray energy, the references or the edge are not what the config says). Taking more of them only wastes beam,
/// so measuring waits for an operator to look (resume, change the settings, or halt), with the likely cause named.
/// "In a row" counts each kind of frame apart: a good absorption scan between diffraction patterns at the wrong X-ray
/// energy says nothing about the patterns, so it must not keep them from ever being in a row.
/// </summary>
public sealed class UnusableDataSuspender : LevelSuspender
{
    private readonly UnusableDataPolicy _policy;
    private readonly Queue<bool> _recent = new();
    private readonly object _gate = new();
    private readonly Dictionary<FrameKind, int> _inARowOf = new();
    private int _unusableInWindow;
    private (FrameKind Kind, string Flag)? _last;
    private readonly Dictionary<FrameKind, string> _lastOf = new();

    public UnusableDataSuspender(UnusableDataPolicy policy)
    {
        if (policy.InARow < 1) throw new ArgumentOutOfRangeException(nameof(policy), policy.InARow, "at least one unusable frame in a row must be allowed");
        if (policy.RateWindow < 1 || policy.RateMax is <= 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(policy), policy, "the unusable-rate window must hold a frame and its share lie in (0, 1]");
        _policy = policy;
    }

    public override string Name => "unusable data";

    public override SuspenderSeverity Severity => SuspenderSeverity.WaitForOperator;

    public override TimeSpan SettleTime => TimeSpan.Zero;

    /// <summary>The longest run of unusable frames of one kind now.</summary>
    public int InARow
    {
        get { lock (_gate) return InARowNow; }
    }

    private int InARowNow => _inARowOf.Count == 0 ? 0 : _inARowOf.Values.Max();

    /// <summary>What the analysis made of the last frame (null flag: usable).</summary>
    public void Record(FrameKind kind, string? flag)
    {
        lock (_gate)
        {
            _recent.Enqueue(flag is not null);
            if (flag is not null) _unusableInWindow++;
            if (_recent.Count > _policy.RateWindow && _recent.Dequeue()) _unusableInWindow--;
            if (flag is null)
            {
                _inARowOf[kind] = 0;
                return;
            }
            _inARowOf[kind] = _inARowOf.GetValueOrDefault(kind) + 1;
            _last = (kind, flag);
            _lastOf[kind] = flag;
        }
    }

    public override Task<SuspenderReading> CheckAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var share = _recent.Count == 0 ? 0 : (double)_unusableInWindow / _recent.Count;
            var inARow = InARowNow;
            if (inARow >= _policy.InARow)
            {
                // Named after the kind whose run tripped, not whichever frame came last.
                var kind = _inARowOf.First(k => k.Value == inARow).Key;
                if (_lastOf.TryGetValue(kind, out var flag)) _last = (kind, flag);
                return Task.FromResult(SuspenderReading.Trip($"{inARow} unusable frames in a row {LastFlag()}: {LikelyCause()}", inARow));
            }
            if (_recent.Count >= _policy.RateWindow && share >= _policy.RateMax)
                return Task.FromResult(SuspenderReading.Trip(FormattableString.Invariant(
                    $"{_unusableInWindow} of the last {_recent.Count} frames unusable {LastFlag()}: {LikelyCause()}"), share));
            return Task.FromResult(SuspenderReading.Clear(FormattableString.Invariant(
                $"{inARow} unusable frames in a row, {_unusableInWindow} of the last {_recent.Count}"), inARow));
        }
    }

    /// <summary>The operator has looked: counting starts again.</summary>
    public override void OperatorResumed(string by)
    {
        lock (_gate)
        {
            _inARowOf.Clear();
            _unusableInWindow = 0;
            _recent.Clear();
        }
    }

    private string LastFlag() => _last is { } l ? $"(last: {l.Kind.Name()} flagged '{l.Flag}')" : "";

    /// <summary>What a beamline scientist should look at first, from what the analysis said of the last frames.</summary>
    private string LikelyCause() => _last switch
    {
        { Kind: FrameKind.Xrd, Flag: "flat" or "empty" } =>
            "the analysis does not fit the data: no reference peaks where they should be; check the X-ray energy (wavelength), " +
            "the reference phases and the detector axis against the sample",
        { Kind: FrameKind.Xrd, Flag: "reference-misfit" } =>
            "the patterns no longer match the reference phases: check the X-ray energy first (a changed wavelength, a moved " +
            "monochromator or undulator, moves every peak at once), then the reference phases against the sample",
        { Kind: FrameKind.Xrd, Flag: "wrong-axis" or "wrong-length" } =>
            "the detector's axis is not the one the analysis expects; check the detector's describe against the config",
        { Kind: FrameKind.Xrd, Flag: "saturated" } => "the detector saturates; shorten the exposure or attenuate the beam",
        { Kind: FrameKind.Xas, Flag: "incomplete-scan" or "flat" or "reference-misfit" } =>
            "the analysis does not fit the spectra: check the absorption edge (element, K or L3), the energy window and the references",
        { Flag: "position-outside-roi" } =>
            "the detector's headers place the sample outside the ROI; check the axis names and the detector's positions against the stage",
        { Flag: "non-finite" or "wrong-kind" } => "the detector sends frames the analysis cannot read; check the detector server",
        _ => "the analysis does not fit the data; check the X-ray energy, the references and the absorption edge against the sample",
    };
}

using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Tests.Support;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Features;

namespace AutonomousBeamline.Control.Tests.Steps;

/// <summary>
/// A target that is not a share (a peak position on the detector's 2θ axis): its observations carry its unit, the progress
/// line gives the value in it to the σ's precision, and the operator's uncertainty view says what its spread is of.
/// </summary>
public sealed class TargetUnitsTests
{
    /// <summary>A map whose spread is a few thousandths of a degree everywhere, as a peak position's is.</summary>
    private sealed class PeakMap : IPhaseMap
    {
        public int Version => 1;
        public (double Mean, double Spread) Predict(double xMm, double yMm, double stateOfCharge) => (6.06, 0.0004 + 0.0001 * xMm);
    }

    [Fact]
    public async Task A_peak_positions_observations_progress_and_snapshot_say_degrees()
    {
        var rig = new EngineRig { Target = ObservationTarget.Parse("peak_position", null, null), Map = new PeakMap() };
        var engine = rig.Build(EngineRig.Plan(frames: 2));
        var lines = new List<string>();
        engine.Progress += p => lines.Add(p.Message);

        await EngineRig.RunAsync(engine);

        var observations = rig.Journal.Records<ObservationMade>().Select(r => r.Observation).ToList();
        Assert.NotEmpty(observations);
        // The fake detector's axis is two_theta in deg: the position is in degrees.
        Assert.All(observations, o => Assert.Equal(("peak position of the last phase", "degree"), (o.Target, o.TargetUnit)));
        // The fake analyser gives x / 10 with σ 0.01: "0.100 ± 0.010 °".
        Assert.Contains(lines, l => l.Contains("peak position of the last phase 0.100 ± 0.010 °", StringComparison.Ordinal));
        var grid = engine.Snapshot().Uncertainty!;
        Assert.Equal(("peak position of the last phase", "degree"), (grid.Quantity, grid.Unit));
        Assert.InRange(grid.Spread.Min(), 0.0003, 0.0005);
    }

    [Fact]
    public async Task A_shares_observations_have_no_unit()
    {
        var rig = new EngineRig();
        await EngineRig.RunAsync(rig.Build(EngineRig.Plan(frames: 2)));

        Assert.All(rig.Journal.Records<ObservationMade>(), r => Assert.Equal("", r.Observation.TargetUnit));
    }
}

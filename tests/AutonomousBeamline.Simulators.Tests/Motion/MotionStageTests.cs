using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Simulators.Physics;
using Microsoft.Extensions.Time.Testing;

namespace AutonomousBeamline.Simulators.Tests.Motion;

public class MotionStageTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 21, 0, 0, TimeSpan.Zero);

    private static (MotionStage Stage, FakeTimeProvider Time) Make(IEnumerable<BeamDump>? dumps = null)
    {
        var time = new FakeTimeProvider(Start);
        var stage = new MotionStage(time,
            [new StageAxis("sample_x", "mm", 0, 20, 2.0), new StageAxis("sample_y", "mm", -5, 5, 1.0, Initial: 1.0)],
            nominalBeamMa: 200, dumps, settleTime: TimeSpan.FromSeconds(0.5));
        return (stage, time);
    }

    [Fact]
    public void Axes_travel_linearly_at_their_speed_and_settle_before_idle()
    {
        var (stage, time) = Make();

        var eta = stage.StartMove(new Dictionary<string, double> { ["sample_x"] = 10, ["sample_y"] = -1 });

        Assert.Equal(TimeSpan.FromSeconds(5.5), eta);
        time.Advance(TimeSpan.FromSeconds(1));
        var halfway = stage.PositionsAt(time.GetUtcNow());
        Assert.Equal(2.0, halfway["sample_x"], 9);
        Assert.Equal(0.0, halfway["sample_y"], 9);
        time.Advance(TimeSpan.FromSeconds(4.2));
        Assert.Equal(10.0, stage.PositionsAt(time.GetUtcNow())["sample_x"], 9);
        Assert.Equal(MotionState.Moving, stage.StateAt(time.GetUtcNow()));
        time.Advance(TimeSpan.FromSeconds(0.3));
        Assert.Equal(MotionState.Idle, stage.StateAt(time.GetUtcNow()));
    }

    [Fact]
    public void Initial_positions_are_zero_or_the_given_value_clamped_into_the_travel()
    {
        var time = new FakeTimeProvider(Start);
        var stage = new MotionStage(time, [new StageAxis("energy", "eV", 7000, 7300, 10), new StageAxis("sample_y", "mm", -5, 5, 1, 2.5)], 200);

        var positions = stage.PositionsAt(Start);

        Assert.Equal(7000, positions["energy"]);
        Assert.Equal(2.5, positions["sample_y"]);
    }

    [Theory]
    [InlineData("sample_x", 25.0, FacilityErrorCode.OutOfRange)]
    [InlineData("sample_q", 1.0, FacilityErrorCode.UnknownAxis)]
    [InlineData("sample_x", double.NaN, FacilityErrorCode.BadRequest)]
    public void A_refused_move_moves_nothing(string axis, double target, FacilityErrorCode code)
    {
        var (stage, time) = Make();
        var targets = new Dictionary<string, double> { ["sample_y"] = 4, [axis] = target };

        var ex = Assert.Throws<StageRefusedException>(() => stage.StartMove(targets));

        Assert.Equal(code, ex.Code);
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1.0, stage.PositionsAt(time.GetUtcNow())["sample_y"]);
        Assert.Equal(MotionState.Idle, stage.StateAt(time.GetUtcNow()));
    }

    [Fact]
    public void A_move_while_moving_is_busy_and_stop_freezes_the_axes()
    {
        var (stage, time) = Make();
        stage.StartMove(new Dictionary<string, double> { ["sample_x"] = 10 });
        time.Advance(TimeSpan.FromSeconds(1.5));

        var busy = Assert.Throws<StageRefusedException>(() => stage.StartMove(new Dictionary<string, double> { ["sample_x"] = 1 }));
        stage.Stop();
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(FacilityErrorCode.Busy, busy.Code);
        Assert.Equal(3.0, stage.PositionsAt(time.GetUtcNow())["sample_x"], 9);
        Assert.Equal(MotionState.Idle, stage.StateAt(time.GetUtcNow()));
    }

    [Fact]
    public void A_fault_halts_and_refuses_moves_until_cleared()
    {
        var (stage, time) = Make();
        stage.StartMove(new Dictionary<string, double> { ["sample_x"] = 10 });
        time.Advance(TimeSpan.FromSeconds(1));

        stage.InjectFault("encoder lost");

        Assert.Equal(MotionState.Fault, stage.StateAt(time.GetUtcNow()));
        var ex = Assert.Throws<StageRefusedException>(() => stage.StartMove(new Dictionary<string, double> { ["sample_x"] = 1 }));
        Assert.Equal(FacilityErrorCode.Fault, ex.Code);
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(2.0, stage.PositionsAt(time.GetUtcNow())["sample_x"], 9);
        stage.ClearFault();
        Assert.Equal(MotionState.Idle, stage.StateAt(time.GetUtcNow()));
    }

    [Fact]
    public void Beam_current_is_nominal_except_during_a_dump()
    {
        var (stage, _) = Make([new BeamDump(Start.AddMinutes(10), TimeSpan.FromMinutes(2))]);

        Assert.Equal(200, stage.BeamCurrentMaAt(Start.AddMinutes(9)));
        Assert.Equal(0, stage.BeamCurrentMaAt(Start.AddMinutes(11)));
        Assert.Equal(200, stage.BeamCurrentMaAt(Start.AddMinutes(12)));
    }

    [Fact]
    public void Shutter_starts_closed_and_follows_commands()
    {
        var (stage, _) = Make();
        Assert.False(stage.ShutterOpen);
        stage.SetShutter(true);
        Assert.True(stage.ShutterOpen);
    }

    [Fact]
    public void Bad_axis_definitions_are_refused()
    {
        var time = new FakeTimeProvider(Start);
        Assert.Throws<ArgumentException>(() => new MotionStage(time, [new StageAxis("x", "mm", 5, 1, 1)], 200));
        Assert.Throws<ArgumentException>(() => new MotionStage(time, [new StageAxis("x", "mm", 0, 1, 0)], 200));
        Assert.Throws<ArgumentException>(() => new MotionStage(time, [new StageAxis("x", "mm", 0, 1, 1), new StageAxis("x", "mm", 0, 1, 1)], 200));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MotionStage(time, [new StageAxis("x", "mm", 0, 1, 1)], 0));
    }
}

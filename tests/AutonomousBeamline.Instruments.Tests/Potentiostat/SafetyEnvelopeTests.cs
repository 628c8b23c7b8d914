using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Safety;
using Moq;

namespace AutonomousBeamline.Instruments.Tests.Potentiostat;

public class SafetyEnvelopeTests
{
    // 5 mAh cell, at most 2C (10 mA) and 10 mA absolute, between 2.5 V and 3.8 V.
    private static readonly SafetyEnvelope Envelope = new(2.5, 3.8, 0.010, 2.0, 0.005);

    [Fact]
    public void Current_beyond_the_absolute_maximum_is_refused_in_plain_words()
    {
        var refusal = Envelope.CheckCurrent(0.012);
        Assert.NotNull(refusal);
        Assert.Equal("current 0.012 A exceeds the window's |I| max 0.010 A", refusal.Reason);
        Assert.NotNull(Envelope.CheckCurrent(-0.012));
        Assert.Null(Envelope.CheckCurrent(-0.010));
    }

    [Fact]
    public void Current_beyond_the_C_rate_limit_is_refused_with_the_rate()
    {
        var tight = Envelope with { MaxCRate = 1.0 };
        var refusal = tight.CheckCurrent(0.006);
        Assert.NotNull(refusal);
        Assert.Contains("C-rate 1.2", refusal.Reason);
        Assert.Contains("max C-rate 1.0", refusal.Reason);
        Assert.NotNull(tight.CheckCRate(-1.5));
        Assert.Null(tight.CheckCRate(-1.0));
    }

    [Theory]
    [InlineData(0.005, 3.9, "above the window's max 3.800 V, so the charge would not stop inside the window")]
    [InlineData(-0.005, 2.4, "below the window's min 2.500 V, so the discharge would not stop inside the window")]
    [InlineData(0.005, 2.4, "below the window's min 2.500 V")]
    public void Compliance_outside_the_window_is_refused(double current, double vlim, string why)
    {
        var refusal = Envelope.CheckCurrentSource(current, vlim);
        Assert.NotNull(refusal);
        Assert.Contains(why, refusal.Reason);
    }

    [Theory]
    [InlineData(0.005, 3.8)]
    [InlineData(-0.005, 2.5)]
    [InlineData(0.0, 3.4)]
    public void Galvanostatic_steps_inside_the_window_pass(double current, double vlim) =>
        Assert.Null(Envelope.CheckCurrentSource(current, vlim));

    [Fact]
    public void Potentiostatic_steps_are_checked_for_voltage_and_current_limit()
    {
        Assert.Null(Envelope.CheckVoltageSource(3.5, 0.005));
        Assert.Contains("above the window's max", Envelope.CheckVoltageSource(3.9, 0.005)!.Reason);
        Assert.Contains("below the window's min", Envelope.CheckVoltageSource(2.0, 0.005)!.Reason);
        Assert.Contains("current limit 0.020 A", Envelope.CheckVoltageSource(3.5, 0.02)!.Reason);
        Assert.NotNull(Envelope.CheckVoltageSource(3.5, 0));
    }

    [Fact]
    public void Non_finite_and_temperature_requests_are_refused()
    {
        Assert.Contains("not a finite number", Envelope.CheckCurrent(double.NaN)!.Reason);
        Assert.Null(Envelope.CheckTemperature(80));
        var warm = Envelope with { MaxTemperatureC = 45 };
        Assert.Contains("exceeds the window's max 45.0 °C", warm.CheckTemperature(50)!.Reason);
    }

    [Fact]
    public void An_inconsistent_envelope_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => (Envelope with { VoltageMinV = 4.0 }).Validate());
        Assert.Throws<ArgumentException>(() => new EnvelopeGuardedPotentiostat(Mock.Of<IPotentiostat>(), Envelope with { NominalCapacityAh = 0 }));
    }

    [Fact]
    public async Task Guard_refuses_unsafe_set_points_before_they_reach_the_instrument()
    {
        var inner = new Mock<IPotentiostat>(MockBehavior.Strict);
        var guarded = new EnvelopeGuardedPotentiostat(inner.Object, Envelope);

        var e = await Assert.ThrowsAsync<SafetyEnvelopeException>(() => guarded.ConfigureCurrentSourceAsync(0.012, 3.6));
        Assert.Contains("current 0.012 A exceeds the window's |I| max 0.010 A", e.Message);
        await Assert.ThrowsAsync<SafetyEnvelopeException>(() => guarded.ConfigureCurrentSourceAsync(0.005, 4.2));
        await Assert.ThrowsAsync<SafetyEnvelopeException>(() => guarded.ConfigureCurrentSourceAsync(-0.005, 2.0));
        await Assert.ThrowsAsync<SafetyEnvelopeException>(() => guarded.SetCurrentAsync(-0.02));
        await Assert.ThrowsAsync<SafetyEnvelopeException>(() => guarded.ConfigureVoltageSourceAsync(4.0, 0.001));
        await Assert.ThrowsAsync<SafetyEnvelopeException>(() => guarded.SetVoltageAsync(2.0));
        // Strict mock: any call that had slipped through would have thrown a MockException instead.
        inner.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task Guard_passes_safe_set_points_and_everything_else_through()
    {
        var inner = new Mock<IPotentiostat>();
        inner.Setup(p => p.MeasureVoltageAsync(It.IsAny<CancellationToken>())).ReturnsAsync(3.42);
        var guarded = new EnvelopeGuardedPotentiostat(inner.Object, Envelope);

        await guarded.ConfigureCurrentSourceAsync(0.005, 3.8);
        await guarded.SetCurrentAsync(-0.005);
        await guarded.ConfigureVoltageSourceAsync(3.5, 0.002);
        await guarded.SetOutputAsync(true);
        Assert.Equal(3.42, await guarded.MeasureVoltageAsync());
        await guarded.EnterSafeStateAsync();

        inner.Verify(p => p.ConfigureCurrentSourceAsync(0.005, 3.8, It.IsAny<CancellationToken>()), Times.Once);
        inner.Verify(p => p.SetCurrentAsync(-0.005, It.IsAny<CancellationToken>()), Times.Once);
        inner.Verify(p => p.ConfigureVoltageSourceAsync(3.5, 0.002, It.IsAny<CancellationToken>()), Times.Once);
        inner.Verify(p => p.SetOutputAsync(true, It.IsAny<CancellationToken>()), Times.Once);
        inner.Verify(p => p.EnterSafeStateAsync(It.IsAny<CancellationToken>()), Times.Once);
    }
}

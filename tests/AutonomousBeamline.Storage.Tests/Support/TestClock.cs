using Microsoft.Extensions.Time.Testing;

namespace AutonomousBeamline.Storage.Tests;

public static class TestClock
{
    public static readonly DateTimeOffset Start = new(2026, 11, 24, 21, 0, 0, TimeSpan.Zero);

    public static FakeTimeProvider Create() => new(Start);
}

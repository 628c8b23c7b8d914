// Shared by the test projects that fuzz a command parser (linked into each csproj).
using AutonomousBeamline.Control.Operator;

namespace AutonomousBeamline.Tests.Shared;

/// <summary>What every command a parser lets through must satisfy, whatever it was fed.</summary>
public static class CommandSanity
{
    /// <param name="command">A command a parser accepted.</param>
    /// <param name="input">What it was parsed from, for the failure message.</param>
    public static void AssertSane(OperatorCommand command, string input)
    {
        Assert.False(string.IsNullOrWhiteSpace(command.By.User), input);
        Assert.False(string.IsNullOrWhiteSpace(command.By.Host), input);
        switch (command)
        {
            case GotoRoiCommand g:
                Assert.True(double.IsFinite(g.XMm) && double.IsFinite(g.YMm), input);
                break;
            case SetCRateCommand c:
                Assert.True(double.IsFinite(c.CRate) && c.CRate > 0, input);
                break;
            case SetEnergyRangeCommand e:
                Assert.True(e.StartEv > 0 && e.StopEv > e.StartEv && e.StepEv > 0 && e.StepEv <= e.StopEv - e.StartEv, input);
                break;
            case ExcludeRegionCommand x:
                Assert.True(x.XMaxMm > x.XMinMm && x.YMaxMm > x.YMinMm, input);
                break;
            case SetBudgetCommand b:
                Assert.True(b.Frames is null or > 0 && b.BeamTimeS is null or > 0 && (b.Frames is not null || b.BeamTimeS is not null), input);
                break;
            case SetApprovalWindowCommand a:
                Assert.True(double.IsFinite(a.Seconds) && a.Seconds >= 0, input);
                break;
        }
    }
}

namespace AutonomousBeamline.Simulators.Faults;

/// <summary>
/// The faults a dry run can make its simulators commit, per device: what <see cref="FaultSchedule"/> can inject, and
/// so what a config's `simulation.faults` may ask for (its callers hand this table to the config validator).
/// </summary>
public static class FaultKinds
{
    public static readonly IReadOnlyDictionary<string, string[]> ByDevice = new Dictionary<string, string[]>
    {
        ["potentiostat"] = ["drop_reply", "garbage_reply", "slow_reply", "scpi_error", "disconnect", "overheat"],
        ["motion"] = ["drop_reply", "slow_reply", "fault", "restart", "interlock"],
        ["detector"] = ["drop_reply", "slow_reply", "drop_frame", "truncated_frame", "wrong_n", "nan_values", "frame_for_no_request", "fault"],
    };
}

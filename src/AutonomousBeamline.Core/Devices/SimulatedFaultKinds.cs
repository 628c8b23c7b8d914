namespace AutonomousBeamline.Core.Devices;

/// <summary>
/// The faults a dry run can make its simulators commit, per device: the shared vocabulary of the config's
/// `simulation.faults` and the simulators' fault schedule.
/// </summary>
public static class SimulatedFaultKinds
{
    public static readonly IReadOnlyDictionary<string, string[]> ByDevice = new Dictionary<string, string[]>
    {
        ["potentiostat"] = ["drop_reply", "garbage_reply", "slow_reply", "scpi_error", "disconnect"],
        ["motion"] = ["drop_reply", "slow_reply", "fault", "restart"],
        ["detector"] = ["drop_reply", "slow_reply", "drop_frame", "truncated_frame", "wrong_n", "nan_values", "frame_for_no_request", "fault"],
    };
}

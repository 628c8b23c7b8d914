namespace AutonomousBeamline.Control.StateMachine;

/// <summary>Where the experiment is. Deciding, Moving, Acquiring and Analyzing are sub-states of Running.</summary>
public enum RunState
{
    Idle,
    Preflight,
    Running,
    Deciding,
    Moving,
    Acquiring,
    Analyzing,
    Paused,
    Faulted,
    Completing,
    Completed,
    Aborted,
}

/// <summary>What can happen to the experiment.</summary>
public enum RunTrigger
{
    Start,
    PreflightPassed,
    Decided,
    Arrived,
    FrameTaken,
    Analyzed,
    /// <summary>The measurement loop skips back to deciding (e.g. a frame that could not be used).</summary>
    Redecide,
    Pause,
    Resume,
    Fault,
    Finish,
    Finished,
    Abort,
}

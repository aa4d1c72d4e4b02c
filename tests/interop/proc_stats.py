"""CPU time of a process from /proc, for the benches and the hold test.

The scheduler's count (/proc/PID/task/TID/schedstat, nanoseconds) is used rather than
/proc/PID/stat's ticks of 10 ms, too coarse for a thousand requests of a few microseconds
each; it is summed over the threads, since h3q-server's workers are threads. A thread that
ended is counted no more, so measure around a phase in which the threads live.
"""

import os


def schedstat(pid):
    """(seconds on a CPU, seconds runnable but waiting for one) of process `pid` so far,
    its live threads summed; None once the process is gone. A large wait means the machine
    was too busy to give the process the CPU it asked for."""
    on_cpu = waiting = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                run, wait, _ = f.read().split()
        except (OSError, ValueError):
            continue  # a thread that just ended
        on_cpu += int(run)
        waiting += int(wait)
    return on_cpu / 1e9, waiting / 1e9

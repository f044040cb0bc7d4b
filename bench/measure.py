"""Run one command and measure it: wall time, and peak memory of its whole process tree.

Peak memory is the larger of two readings: the kernel's own peak RSS of the largest single
process (``wait4``), and the peak of the whole tree's summed proportional set size (PSS: a page
shared by forked workers counts once in total), sampled from /proc every 100 ms or ten times
as long as a reading takes, whichever is longer, so worker processes count too. (At a fixed 20 ms, reading smaps of gigabyte processes took 40%
of one of the two cores away from the build being measured.)
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_bytes: int
    returncode: int
    timed_out: bool = False
    output: str = ""


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


def _rss(pid: int) -> int:
    """Proportional set size (shared pages split between the processes sharing them), else RSS."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(pid: int) -> int:
    total, stack, seen = 0, [pid], set()
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _rss(p)
        stack += _children(p)
    return total


def run(cmd: list[str], cwd: Path, *, env: dict | None = None, timeout: float | None = None) -> Run:
    """Run ``cmd`` to completion (or kill it after ``timeout`` seconds). Its output goes to an
    anonymous temporary file, never into the folder being built."""
    log = tempfile.TemporaryFile()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        # Reading smaps of a multi-gigabyte tree takes milliseconds of kernel time: wait ten
        # times as long as the last reading took (at least 100 ms), so the sampler never takes
        # more than a tenth of a core from the build it measures.
        pause = 0.1
        while not done.wait(pause):
            began = time.perf_counter()
            peak[0] = max(peak[0], tree_rss(proc.pid))
            pause = max(0.1, 10 * (time.perf_counter() - began))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    timed_out = False
    deadline = started + timeout if timeout else None
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if deadline and time.perf_counter() > deadline:
            timed_out = True
            os.killpg(proc.pid, 9)
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    log.seek(0)
    output = log.read().decode("utf-8", "replace")
    log.close()
    return Run(seconds=seconds, peak_bytes=max(peak[0], usage.ru_maxrss * 1024),
               returncode=proc.returncode, timed_out=timed_out, output=output[-4000:])

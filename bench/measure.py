"""Run one command and measure it: wall time, CPU time, and peak memory of its whole process tree.

CPU time is user and system seconds of the command and of every process it waited for (its
workers), from ``wait4``: unlike wall time it does not move with what else the machine does,
and system time shows what the file system costs (creating files right after a large delete
costs several times what it does on a quiet disk).

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
    user: float | None = None  # CPU seconds in the command's own code, its waited-for children included
    system: float | None = None  # CPU seconds in the kernel on its behalf


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


class PeakSampler:
    """The peak PSS of a process tree, read in a thread until ``stop()``. Reading smaps of a
    multi-gigabyte tree takes milliseconds of kernel time: it waits ten times as long as the
    last reading took (at least 100 ms), so it never takes more than a tenth of a core from
    what it measures."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._done = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        pause = 0.1
        while not self._done.wait(pause):
            began = time.perf_counter()
            self.peak = max(self.peak, tree_rss(self.pid))
            pause = max(0.1, 10 * (time.perf_counter() - began))

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        return self.peak


def run(cmd: list[str], cwd: Path, *, env: dict | None = None, timeout: float | None = None) -> Run:
    """Run ``cmd`` to completion (or kill it after ``timeout`` seconds). Its output goes to an
    anonymous temporary file, never into the folder being built."""
    log = tempfile.TemporaryFile()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    sampler = PeakSampler(proc.pid)
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
    peak = sampler.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    log.seek(0)
    output = log.read().decode("utf-8", "replace")
    log.close()
    return Run(seconds=seconds, peak_bytes=max(peak, usage.ru_maxrss * 1024),
               returncode=proc.returncode, timed_out=timed_out, output=output[-4000:],
               user=usage.ru_utime, system=usage.ru_stime)

"""Spread index ranges of one big job (rendering thousands of pages) over forked processes.

The job's inputs (the pages, the site, the compiled templates) reach each worker by ``fork``,
not by pickling, so handing out work costs nothing; only each range's results travel back.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Sequence

# Set once in each worker process by the pool's initializer (inherited through fork, never
# pickled); the parent process never writes it.
_JOB: dict = {}


def _start(fn: Callable, args: tuple) -> None:
    _JOB["fn"], _JOB["args"] = fn, args


def _run(bounds: tuple[int, int]):
    return _JOB["fn"](*_JOB["args"], *bounds)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def map_ranges(fn: Callable, args: tuple, total: int, jobs: int, chunks_per_job: int = 6,
               progress: Callable[[int], None] | None = None) -> list:
    """``fn(*args, start, end)`` over ``range(total)`` cut in pieces, results in order.
    Runs in this process when ``jobs`` is 1 or fork is not available."""
    if jobs <= 1 or total < 2 or not can_fork():
        return [fn(*args, 0, total)]
    pieces = max(1, min(total, jobs * chunks_per_job))
    step = -(-total // pieces)
    bounds: Sequence[tuple[int, int]] = [(s, min(total, s + step)) for s in range(0, total, step)]
    ctx = multiprocessing.get_context("fork")
    out = []
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_start, initargs=(fn, args)) as pool:
        for (start, end), result in zip(bounds, pool.map(_run, bounds)):
            out.append(result)
            if progress:
                progress(end)
    return out

"""Threads for a busy CPU: train on the cores that other programs leave free.

PyTorch splits each CPU operation over its OpenMP threads (one per core by default) and waits
at a barrier for the slowest. When another program (a browser tab, a second notebook) keeps
one of a laptop's two cores busy, the thread that shares that core runs at a fraction of its
speed and every operation waits for it: the DCGAN fell from 148 to 48 images/s with two
threads, where one thread on the free core made 90 (``benchmarks/README.md``, "A busy machine").

:class:`ThreadGovernor` watches how much CPU time *other* processes take: the busy time of
the cores this process may run on, minus this process's own CPU time, per second of wall time.
Every few seconds it sets PyTorch's thread count to the cores they leave free, rounded::

    threads = clamp(cores − ⌊other + ½⌋, 1, threads at the start)

so a competitor that holds a whole core (about 0.67 of one while it shares it with two of our
threads, 1.0 once we use one) takes a thread away, and its thread comes back once it stops.
:func:`ganedu.train.train` runs one on the CPU unless ``OMP_NUM_THREADS`` pins the count.
"""

from __future__ import annotations

import math
import os
import time

import torch
from tqdm.auto import tqdm

__all__ = ["ThreadGovernor", "cpu_busy_seconds", "omp_pinned", "usable_cores"]


def usable_cores() -> list[int]:
    """The CPU numbers this process may run on (all of them where affinity is unknown)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def omp_pinned() -> bool:
    """True when ``OMP_NUM_THREADS`` sets the thread count, which the governor then leaves alone."""
    return bool(os.environ.get("OMP_NUM_THREADS", "").strip())


def cpu_busy_seconds(cpus: list[int]) -> float | None:
    """Seconds ``cpus`` have spent busy since boot, every process counted; ``None`` where unknown.

    Busy is everything but idle and I/O wait, so time a hypervisor steals counts as taken.
    Linux's ``/proc/stat`` first, then psutil where it is installed (macOS, Windows).
    """
    try:
        with open("/proc/stat") as f:
            lines = f.read().splitlines()
    except OSError:
        return _psutil_busy_seconds(cpus)
    wanted, tick, busy = {f"cpu{i}" for i in cpus}, os.sysconf("SC_CLK_TCK"), 0
    found = 0
    for fields in map(str.split, lines):
        if fields and fields[0] in wanted:
            # user nice system idle iowait irq softirq steal (guest time is already in user)
            values = [int(v) for v in fields[1:9]]
            busy += sum(values) - values[3] - values[4]
            found += 1
    return busy / tick if found == len(wanted) else None


def _psutil_busy_seconds(cpus: list[int]) -> float | None:
    try:
        import psutil
    except ImportError:
        return None
    per_cpu = psutil.cpu_times(percpu=True)
    if max(cpus) >= len(per_cpu):
        return None
    return sum(
        sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)
        for t in (per_cpu[i] for i in cpus)
    )


def own_cpu_seconds() -> float:
    """CPU seconds this process has used, all its threads together (user + system)."""
    t = os.times()
    return t.user + t.system


class ThreadGovernor:
    """Give PyTorch the cores other processes leave free; call :meth:`poll` often (it is cheap).

    Args:
        every_s: seconds of wall time between two looks at the CPU.
        report: called with one sentence each time the thread count changes (by default printed
            above any progress bar, with ``tqdm.write``).
        clock, busy, own: where time, the cores' busy seconds and this process's CPU seconds
            come from (tests replace them).
    """

    def __init__(
        self, every_s: float = 3.0, report=tqdm.write, *, clock=time.monotonic, busy=None, own=own_cpu_seconds
    ):
        self.every_s, self.report, self.clock, self.own = every_s, report, clock, own
        self.cpus = usable_cores()
        self.busy = busy or (lambda: cpu_busy_seconds(self.cpus))
        self.start_threads = torch.get_num_threads()
        self.changes: list[tuple[float, int]] = []  # (other processes' cores, new thread count)
        self._last = self._read()

    @classmethod
    def wanted(cls, device: torch.device | str | None) -> bool:
        """True where adapting can help: a CPU run, more than one thread, and no ``OMP_NUM_THREADS`` pin."""
        return (
            torch.device(device or "cpu").type == "cpu" and not omp_pinned() and torch.get_num_threads() > 1
        )

    def _read(self) -> tuple[float, float | None, float]:
        return self.clock(), self.busy(), self.own()

    def other_cores(self, before, after) -> float | None:
        """How many cores other processes kept busy between two readings (``None`` if unknown)."""
        (t0, busy0, own0), (t1, busy1, own1) = before, after
        if busy0 is None or busy1 is None or t1 <= t0:
            return None
        return max(0.0, ((busy1 - busy0) - (own1 - own0)) / (t1 - t0))

    def choose(self, other: float) -> int:
        """Threads for ``other`` busy cores: the rest of the cores, at least 1, at most the start count."""
        return max(1, min(self.start_threads, len(self.cpus) - math.floor(other + 0.5)))

    def poll(self) -> None:
        """Look at the CPU if ``every_s`` have passed since the last look, and adapt the threads."""
        if self.clock() - self._last[0] < self.every_s:
            return
        now = self._read()
        other, self._last = self.other_cores(self._last, now), now
        if other is None:
            return
        threads = self.choose(other)
        if threads != torch.get_num_threads():
            self.report(
                f"other programs are keeping {other:.1f} of {len(self.cpus)} CPU cores busy: training on "
                f"{threads} thread{'s' if threads > 1 else ''} (adapt_threads=False or OMP_NUM_THREADS keeps the count)"
            )
            torch.set_num_threads(threads)
            self.changes.append((round(other, 2), threads))

    def restore(self) -> None:
        """Put PyTorch's thread count back to what it was when the governor started."""
        if torch.get_num_threads() != self.start_threads:
            torch.set_num_threads(self.start_threads)

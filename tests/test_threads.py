"""Threads on a busy CPU: the governor counts other processes' cores and trains on the free ones."""

import subprocess
import sys
import time

import pytest
import torch

import ganedu.train
from ganedu.threads import ThreadGovernor, cpu_busy_seconds, usable_cores
from ganedu.train import train
from tests.test_train import tiny_data, tiny_dcgan


@pytest.fixture
def two_threads():
    """PyTorch on 2 threads for the test, the machine's count afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


class FakeCPU:
    """A 2-core machine: each tick of the clock is one second, with ``other`` cores kept busy by others.

    This process is busy on all its threads for the whole second, as a training loop is.
    """

    def __init__(self):
        self.t, self.busy_s, self.own_s, self.other = 0.0, 0.0, 0.0, 0.0

    def tick(self, seconds=1.0):
        own = min(torch.get_num_threads(), 2 - self.other) if self.other < 2 else 0.0
        self.t += seconds
        self.own_s += own * seconds
        self.busy_s += (own + self.other) * seconds


def governor_on(cpu: FakeCPU, reports=None) -> ThreadGovernor:
    gov = ThreadGovernor(
        every_s=1.0, report=(reports.append if reports is not None else lambda s: None),
        clock=lambda: cpu.t, busy=lambda: cpu.busy_s, own=lambda: cpu.own_s,
    )  # fmt: skip
    gov.cpus = [0, 1]
    return gov


@pytest.mark.parametrize(
    ("other", "threads"), [(0.0, 2), (0.3, 2), (0.49, 2), (0.67, 1), (1.0, 1), (1.9, 1), (3.0, 1)]
)
def test_choose_leaves_a_thread_per_core_other_processes_keep_busy_and_never_less_than_one(
    two_threads, other, threads
):
    gov = governor_on(FakeCPU())
    assert gov.choose(other) == threads


def test_choose_never_goes_above_the_starting_count_and_counts_many_cores(two_threads):
    gov = governor_on(FakeCPU())
    gov.cpus = list(range(8))
    assert gov.choose(0.0) == 2  # 8 free cores, but the learner (or PyTorch) chose 2 threads
    gov.start_threads = 8
    assert [gov.choose(o) for o in (0.0, 1.0, 2.6)] == [8, 7, 5]


def test_other_cores_subtracts_this_process_own_cpu_time():
    gov = governor_on(FakeCPU())
    # 3 s of wall time; the cores were busy 6 s, 4.5 of them ours: others took 0.5 cores
    assert gov.other_cores((10.0, 100.0, 50.0), (13.0, 106.0, 54.5)) == pytest.approx(0.5)
    # our own time can exceed the machine's by rounding; never a negative load
    assert gov.other_cores((0.0, 0.0, 0.0), (1.0, 1.0, 1.2)) == 0.0
    assert gov.other_cores((0.0, None, 0.0), (1.0, 1.0, 1.0)) is None


def test_a_competitor_takes_a_thread_away_and_gives_it_back_when_it_stops(two_threads):
    cpu, reports = FakeCPU(), []
    gov = governor_on(cpu, reports)
    for _ in range(3):  # idle machine: both threads stay
        cpu.tick()
        gov.poll()
    assert torch.get_num_threads() == 2 and not reports
    cpu.other = 0.67  # a CPU-bound program shares the cores with our two threads
    cpu.tick()
    gov.poll()
    assert torch.get_num_threads() == 1
    assert "keeping 0.7 of 2 CPU cores busy: training on 1 thread" in reports[-1]
    for _ in range(3):  # now it has a core to itself, 1.0 busy: no flapping back to 2
        cpu.other = 1.0
        cpu.tick()
        gov.poll()
    assert torch.get_num_threads() == 1 and len(reports) == 1
    cpu.other = 0.0
    cpu.tick()
    gov.poll()
    assert torch.get_num_threads() == 2 and "training on 2 threads" in reports[-1]
    assert gov.changes == [(0.67, 1), (0.0, 2)]


def test_poll_looks_only_every_every_s_seconds(two_threads):
    cpu = FakeCPU()
    gov = governor_on(cpu)
    gov.every_s = 5.0
    cpu.other = 1.0
    for _ in range(4):
        cpu.tick()
        gov.poll()
    assert torch.get_num_threads() == 2  # 4 s: not yet looked
    cpu.tick()
    gov.poll()
    assert torch.get_num_threads() == 1


def test_unknown_cpu_times_change_nothing(two_threads):
    cpu = FakeCPU()
    gov = ThreadGovernor(every_s=1.0, clock=lambda: cpu.t, busy=lambda: None, own=lambda: cpu.own_s)
    cpu.other = 1.0
    cpu.tick()
    gov.poll()
    assert torch.get_num_threads() == 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/stat")
def test_the_real_reading_sees_a_spinning_competitor_as_about_one_core():
    cpus = usable_cores()
    gov = ThreadGovernor(every_s=0.0)
    competitor = subprocess.Popen(
        [sys.executable, "-c", "import time\nt = time.time()\nwhile time.time() - t < 5: pass"]
    )
    try:
        time.sleep(0.5)  # let it start spinning
        before = gov._read()
        time.sleep(1.5)  # this process sleeps: all of the busy time is someone else's
        other = gov.other_cores(before, gov._read())
    finally:
        competitor.kill()
        competitor.wait()
    assert cpu_busy_seconds(cpus) > 0
    assert other is not None and 0.7 <= other <= len(cpus) + 0.1, other
    assert cpu_busy_seconds([max(cpus) + 1000]) is None  # a CPU that is not there: unknown, not 0


def test_train_adapts_then_restores_the_learners_thread_count(two_threads, monkeypatch):
    cpu, made, seen = FakeCPU(), [], []

    class BusyGovernor(ThreadGovernor):  # every step is a second in which another program holds a core
        def __init__(self):
            super().__init__(every_s=1.0, report=lambda s: None, clock=lambda: cpu.t, busy=lambda: cpu.busy_s,
                             own=lambda: cpu.own_s)  # fmt: skip
            self.cpus = [0, 1]
            made.append(self)

    class Watch(ganedu.train.Callback):
        def on_step(self, gan, logs):
            cpu.other = 1.0
            cpu.tick()
            seen.append(torch.get_num_threads())

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(ganedu.train, "ThreadGovernor", BusyGovernor)
    train(tiny_dcgan(), tiny_data(), steps=4, batch_size=8, callbacks=[Watch()])
    assert seen == [2, 1, 1, 1]  # the first step ran before the first look
    assert torch.get_num_threads() == 2  # restored when train returns
    assert made[0].changes == [(1.0, 1)]


def test_train_leaves_threads_alone_when_omp_num_threads_pins_them_or_when_asked(two_threads, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert not ThreadGovernor.wanted("cpu")
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert ThreadGovernor.wanted("cpu") and ThreadGovernor.wanted(None)
    assert not ThreadGovernor.wanted("cuda")
    torch.set_num_threads(1)
    assert not ThreadGovernor.wanted("cpu")  # one thread has nothing to give up
    torch.set_num_threads(2)
    monkeypatch.setattr(ganedu.train, "ThreadGovernor", None)  # would fail if train built one
    train(tiny_dcgan(), tiny_data(), steps=1, batch_size=8, adapt_threads=False)


def test_train_restores_the_thread_count_when_training_fails(two_threads, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    gan = tiny_dcgan()

    def step_then_fail(data, batch_size):
        torch.set_num_threads(1)  # as the governor would have, mid-run
        raise KeyboardInterrupt

    gan.train_step = step_then_fail
    with pytest.raises(KeyboardInterrupt):
        train(gan, tiny_data(), steps=3, batch_size=8)
    assert torch.get_num_threads() == 2


def test_cli_threads_pins_the_count_and_turns_the_governor_off(two_threads, tmp_path, monkeypatch, capsys):
    from ganedu.__main__ import main

    class Refused(ThreadGovernor):
        def __init__(self):
            raise AssertionError("--threads must turn the governor off")

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(ganedu.train, "ThreadGovernor", Refused)
    flags = ["--device", "cpu", "--precision", "fp32", "--batch-size", "16"]
    assert main(["train", "gan", "--steps", "2", "--threads", "1", "--out", str(tmp_path / "a"), *flags]) == 0
    assert torch.get_num_threads() == 1
    assert main(["train", "gan", "--steps", "2", "--threads", "0", "--out", str(tmp_path / "b"), *flags]) == 1
    assert "--threads must be a positive number, not 0" in capsys.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="compares with /proc/stat")
def test_the_psutil_reading_for_other_systems_agrees_with_proc_stat():
    pytest.importorskip("psutil")
    from ganedu.threads import _psutil_busy_seconds

    cpus = usable_cores()
    assert _psutil_busy_seconds(cpus) == pytest.approx(cpu_busy_seconds(cpus), abs=1.0)

"""Instructor mode (``python -m ganedu instructor``): refuses without a GPU, reports times, counts and metrics.

The runs here are real: the CPU smoke run grades chapter 10's solutions and runs its notebook
(the fastest in smoke mode, about 18 s on a 2-core EPYC) in a kernel of its own; the fixture
notebooks in a temporary course folder fail, record, write a file and overrun for real.
"""

import json
import subprocess
import sys
import time

import nbformat
import pytest
import torch

from ganedu import report
from tests.real_faults import ROOT, run_cli, unprivileged

no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")


def instructor(*args, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganedu", "instructor", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


@no_gpu
def test_without_a_gpu_it_says_so_in_one_line_and_runs_nothing(tmp_path):
    start = time.monotonic()
    result = instructor("--out", tmp_path / "report")
    seconds = time.monotonic() - start
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "ganedu: no CUDA GPU found: instructor mode runs every solution and notebook at full size on a "
        "GPU; nothing was run. On a CPU: --allow-cpu --mode smoke|cpu"
    ]
    assert result.stdout == ""
    assert not (tmp_path / "report").exists()
    assert seconds < 15, f"the refusal took {seconds:.1f} s: something heavy ran before it"


def test_an_unknown_chapter_is_one_readable_error(tmp_path):
    result = instructor("--allow-cpu", "--notebooks", "42", "--out", tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("ganedu: error: no notebook for chapter 42 in ")
    assert "Traceback" not in result.stderr


def test_an_unwritable_report_folder_is_refused_before_anything_runs(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    status, line = run_cli("instructor", "--allow-cpu", "--mode", "smoke", "--out", locked / "report",
                           prefix=unprivileged(), timeout=30)  # fmt: skip
    assert status == 1
    assert (
        line
        == f"ganedu: error: cannot write the report in {locked / 'report'}: permission denied; choose another --out"
    )


def test_cpu_smoke_run_reports_wall_times_passed_counts_and_metrics(tmp_path):
    out = tmp_path / "report"
    result = instructor("--allow-cpu", "--mode", "smoke", "--notebooks", "10", "--out", out)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((out / "report.json").read_text())
    assert data["mode"] == "smoke" and data["torch"] == torch.__version__ and data["device"].startswith("CPU")
    (row,) = data["chapters"]
    assert row["notebook"] == "10_modern_gans.ipynb"
    solutions = row["solutions"]
    assert solutions["exercise"] == "ex10_modern_gans"
    assert solutions["total"] > 0 and solutions["passed"] == solutions["total"], solutions
    assert solutions["seconds"] > 0
    run = row["run"]
    assert run["ok"] and run["error"] is None and run["seconds"] > 0
    trainings = [m for m in run["metrics"] if m["name"].startswith("training ")]
    assert trainings, run["metrics"]
    assert all(m["value"]["steps"] > 0 and m["value"]["steps/s"] > 0 for m in trainings)
    table = (out / "report.md").read_text()
    assert f"| 10 | {solutions['passed']}/{solutions['total']} |" in table
    assert "10_modern_gans.ipynb: ran" in table and "training R3GAN" in table


def notebook(path, *sources: str) -> None:
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources]), path)


def test_a_failing_notebook_is_reported_with_its_error_and_the_others_still_run(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    notebook(course / "01_raises.ipynb", "x = 1", "raise ValueError('the second cell fails')", "x = 2")
    notebook(
        course / "02_records.ipynb",
        "import ganedu\nfrom ganedu.report import record",
        "open('written.txt', 'w').write('a notebook writes where it runs')",
        "record('answer', 42)\nrecord('mode is smoke', ganedu.budget(smoke=1, cpu=0, full=0))",
    )
    notebook(course / "03_overruns.ipynb", "import time\ntime.sleep(120)")
    out = tmp_path / "report"
    start = time.monotonic()
    result = instructor("--allow-cpu", "--mode", "smoke", "--skip-solutions", "--timeout-per-notebook", 6,
                        "--course", course, "--out", out)  # fmt: skip
    assert time.monotonic() - start < 60, "the overrunning notebook was not stopped at its time limit"
    assert result.returncode == 1, result.stdout + result.stderr
    rows = {row["chapter"]: row for row in json.loads((out / "report.json").read_text())["chapters"]}
    assert rows["01"]["run"]["error"] == "cell 1: ValueError: the second cell fails"
    assert rows["01"]["solutions"] is None
    assert rows["02"]["run"]["ok"], rows["02"]
    assert rows["02"]["run"]["metrics"] == [
        {"name": "answer", "value": 42},
        {"name": "mode is smoke", "value": 1},
    ]
    assert not (course / "written.txt").exists(), "the notebook ran in course/ instead of a copy"
    assert rows["03"]["run"]["error"].startswith("cell 0: CellTimeoutError: A cell timed out")
    assert rows["03"]["run"]["seconds"] < 20
    table = (out / "report.md").read_text()
    assert "01_raises.ipynb: failed: cell 1: ValueError: the second cell fails" in table
    assert "answer: 42<br>mode is smoke: 1" in table


def test_record_does_nothing_without_the_variable_and_appends_whole_lines_with_it(tmp_path, monkeypatch):
    monkeypatch.delenv(report.METRICS_ENV, raising=False)
    report.record("FD", 1.0)
    path = tmp_path / "metrics.jsonl"
    monkeypatch.setenv(report.METRICS_ENV, str(path))
    report.record("FD", torch.tensor(12.345678))
    report.record("training", {"steps": 200, "loss_D": 0.123456})
    assert report.recorded(path) == [
        {"name": "FD", "value": 12.35},
        {"name": "training", "value": {"steps": 200, "loss_D": 0.1235}},
    ]
    with pytest.raises(TypeError, match="record a number or a dict of numbers, not str"):
        report.record("FD", "low")

"""`python -m ganedu doctor`: every part of the machine the course depends on gets a line, and
each problem comes with the command that fixes it."""

import hashlib
import json
import subprocess
import sys

import pytest
import torch

from ganedu import doctor, runtime
from ganedu.pretrained import PretrainedSpec
from tests.real_faults import ROOT, small_disk, unprivileged


def test_report_names_every_part_the_course_depends_on():
    text = doctor.report()
    for what in ["Python", "PyTorch", "GPU", "device", "precision", "speed mode", "threads", "JupyterLab"]:
        assert f" {what} " in text
    for what in ["fashion-mnist", "Inception", "cyclegan", "stylegan", "disk"]:
        assert f" {what} " in text


def test_device_and_precision_lines_say_what_the_runtime_chooses():
    lines = {f.what: f.found for f in doctor.runtime_findings()}
    dev = runtime.device()
    assert lines["device"].startswith(f"{dev} (")
    assert lines["precision"].startswith(runtime.resolve_precision("auto", dev) + " (")
    assert lines["threads"].startswith(f"{torch.get_num_threads()} PyTorch threads")


@pytest.mark.parametrize(
    "units, bf16_seconds, expected",
    [(False, None, "fp32"), (True, 0.5, "bf16"), (True, 1.7, "fp32"), (True, 0.95, "fp32")],
    ids=["no-bf16-units", "units-and-bf16-faster", "units-but-bf16-slower", "units-and-bf16-level"],
)
def test_auto_precision_on_a_cpu_takes_bf16_only_where_it_measured_faster(
    monkeypatch, tmp_path, units, bf16_seconds, expected
):
    # An Intel Xeon reporting AVX512-BF16 without AMX ran bf16 convolutions at 0.6x the fp32 speed
    # and trained every recipe ~1.45x slower in bf16: the flags alone must not pick bf16.
    probed = []

    def fake_conv(x, w, passes=3):
        probed.append(x.dtype)
        return bf16_seconds if x.dtype == torch.bfloat16 else 1.0

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # no answer kept from an earlier process
    monkeypatch.setattr(runtime, "cpu_has_bf16_units", lambda: units)
    monkeypatch.setattr(runtime, "_fastest_conv", fake_conv)
    runtime.cpu_bf16_faster.cache_clear()
    try:
        assert runtime.resolve_precision("auto", torch.device("cpu")) == expected
        assert bool(probed) == units  # the probe runs only on CPUs with bf16 units
        reason = {f.what: f.found for f in doctor.runtime_findings()}["precision"]
        if runtime.device().type == "cpu":
            assert reason.startswith(expected + " (")
            assert ("measured slower" in reason) == (units and expected == "fp32")
    finally:
        runtime.cpu_bf16_faster.cache_clear()


def test_the_bf16_probe_times_a_real_convolution_once_per_process(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    runtime.cpu_bf16_faster.cache_clear()
    first = runtime.cpu_bf16_faster()
    assert isinstance(first, bool)
    assert runtime.cpu_bf16_faster.cache_info().hits == 0
    assert runtime.cpu_bf16_faster() is first
    assert runtime.cpu_bf16_faster.cache_info().hits == 1
    assert runtime._fastest_conv(torch.randn(2, 8, 8, 8), torch.randn(4, 8, 4, 4), passes=2) > 0


def probe_with(monkeypatch, bf16_seconds: float) -> tuple[bool, int]:
    """``cpu_bf16_faster()`` in a fresh process whose probe measures ``bf16_seconds`` (fp32: 1 s): answer, probes run."""
    probes = []

    def fake_conv(x, w, passes=3):
        probes.append(x.dtype)
        return bf16_seconds if x.dtype == torch.bfloat16 else 1.0

    monkeypatch.setattr(runtime, "_fastest_conv", fake_conv)
    runtime.cpu_bf16_faster.cache_clear()
    try:
        return runtime.cpu_bf16_faster(), len(probes) // 2
    finally:
        runtime.cpu_bf16_faster.cache_clear()


def test_the_probe_answer_is_kept_per_machine_and_pytorch(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert probe_with(monkeypatch, 0.5) == (True, 1)
    assert probe_with(monkeypatch, 2.0) == (True, 0)  # the next process: kept, not measured
    kept = json.loads((tmp_path / "ganedu" / "precision-probe.json").read_text())
    assert list(kept) == [runtime._probe_key()] and torch.__version__ in runtime._probe_key()
    monkeypatch.setattr(torch, "__version__", "9.9.9")  # another PyTorch measures anew
    assert probe_with(monkeypatch, 2.0) == (False, 1)


@pytest.mark.parametrize(
    "content", [b"{not json", b"[1, 2]", b'{"x": '], ids=["garbled", "a-list", "truncated"]
)
def test_a_corrupt_probe_file_is_measured_over(monkeypatch, tmp_path, content):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    (tmp_path / "ganedu").mkdir()
    (tmp_path / "ganedu" / "precision-probe.json").write_bytes(content)
    assert probe_with(monkeypatch, 0.5) == (True, 1)
    assert probe_with(monkeypatch, 2.0) == (True, 0)


def test_an_unwritable_probe_file_is_measured_in_every_process(tmp_path):
    """A process without root's powers whose cache folder is read-only: the probe runs, without a word."""
    cache = tmp_path / "readonly"
    (cache / "ganedu").mkdir(parents=True)
    (cache / "ganedu" / "precision-probe.json").write_text("{broken")
    cache.chmod(0o555)
    (cache / "ganedu").chmod(0o555)
    code = "from ganedu import runtime; print(runtime.cpu_bf16_faster())"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(cache), "HOME": str(cache)}
    done = subprocess.run(
        [*unprivileged(), sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.strip() in ("True", "False")
    assert (cache / "ganedu" / "precision-probe.json").read_text() == "{broken"


def test_missing_fashion_mnist_is_a_problem_with_the_apt_fix():
    rows = [{"name": "fashion-mnist", "status": "missing", "source": "not found", "path": None}]
    finding = doctor.data_findings(rows)[0]
    assert finding.problem
    assert "apt-get install dataset-fashion-mnist" in finding.fix


def test_missing_optional_dataset_is_not_a_problem():
    rows = [{"name": "cifar10", "status": "missing", "source": "not found", "path": None}]
    assert not doctor.data_findings(rows)[0].problem


def test_corrupt_dataset_file_says_to_delete_and_fetch_again():
    rows = [{"name": "mnist", "status": "checksum mismatch: x.gz", "source": "cache", "path": "/d"}]
    finding = doctor.data_findings(rows)[0]
    assert finding.problem and "python -m ganedu data fetch mnist" in finding.fix


def test_shipped_model_with_another_hash_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr("ganedu.pretrained.WEIGHTS_DIR", tmp_path)
    (tmp_path / "good.pt").write_bytes(b"good")
    (tmp_path / "bad.pt").write_bytes(b"tampered")
    good = hashlib.sha256(b"good").hexdigest()
    specs = {"good": PretrainedSpec("good", "good.pt", good), "bad": PretrainedSpec("bad", "bad.pt", good)}
    found = {f.what: f for f in doctor.pretrained_findings(specs)}
    assert not found["good"].problem
    assert found["bad"].problem and "bad.pt" in found["bad"].fix


def test_too_little_free_disk_is_a_problem(tmp_path):
    """A real small disk: a 3 MB tmpfs, far below the room the course needs."""
    with small_disk(tmp_path / "disk", 3) as disk:
        finding = doctor.disk_finding(disk / "not-yet" / "ganedu")
    assert finding.problem and "XDG_CACHE_HOME" in finding.fix


def test_invalid_speed_mode_is_reported_not_raised(monkeypatch):
    monkeypatch.setenv("GANEDU_MODE", "fast")
    mode = {f.what: f for f in doctor.runtime_findings()}["speed mode"]
    assert mode.problem and "GANEDU_MODE" in mode.fix


@pytest.mark.parametrize(("problem", "status"), [(False, 0), (True, 1)])
def test_main_exits_1_when_a_problem_is_found(monkeypatch, capsys, problem, status):
    rows = [
        doctor.Finding("Python", "3.11"),
        doctor.Finding("disk", "1 GB", "free some" if problem else None),
    ]
    monkeypatch.setattr(doctor, "findings", lambda: rows)
    assert doctor.main([]) == status
    out = capsys.readouterr().out
    assert ("disk: free some" in out) == problem
    assert ("No problems found." in out) != problem

"""`python -m ganedu doctor`: every part of the machine the course depends on gets a line, and
each problem comes with the command that fixes it."""

import hashlib

import pytest
import torch

from ganedu import doctor, runtime
from ganedu.pretrained import PretrainedSpec


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


def test_too_little_free_disk_is_a_problem(tmp_path, monkeypatch):
    monkeypatch.setattr(doctor, "MIN_FREE_BYTES", 10**18)
    assert doctor.disk_finding(tmp_path / "not-yet" / "ganedu").problem


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

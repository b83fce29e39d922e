"""Faults and bad input: one readable line, a non-zero exit, nothing lost, nothing silently wrong."""

import errno
import json
import zipfile

import numpy as np
import pytest
import torch

from ganedu.__main__ import main
from ganedu.checkpoint import load_checkpoint, save_checkpoint
from ganedu.errors import CheckpointError, GaneduError
from ganedu.rundir import RunLock

FAST = ["--precision", "fp32", "--batch-size", "8", "--device", "cpu"]


def train(out, *args):
    return main(["train", "gan", "--out", str(out), *FAST, *map(str, args)])


def error_line(capsys) -> str:
    text = capsys.readouterr().err
    assert "Traceback" not in text
    errors = [line[line.index("ganedu: error:") :] for line in text.splitlines() if "ganedu: error:" in line]
    assert len(errors) == 1, text  # (a progress bar may share the line the error starts on)
    return errors[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 2-step gan run, copied by the tests that change it."""
    out = tmp_path_factory.mktemp("runs") / "gan"
    assert train(out, "--steps", 2, "--checkpoint-every", 1) == 0
    return out


@pytest.fixture
def run(trained, tmp_path):
    import shutil

    return shutil.copytree(trained, tmp_path / "gan")


def test_weights_that_blew_up_are_never_saved_as_the_last_good_checkpoint(tmp_path, capsys):
    out = tmp_path / "r"
    assert train(out, "--steps", 5, "--checkpoint-every", 1, "--option", "lr=1e30") == 1
    line = error_line(capsys)
    assert "diverged" in line or "NaN or infinite" in line
    if (out / "ckpt.pt").exists():  # whatever was written holds finite weights
        state = load_checkpoint(out / "ckpt.pt")["gan"]["models"]
        assert all(t.isfinite().all() for m in state.values() for t in m.values() if t.is_floating_point())


def test_a_learning_rate_that_overflows_the_optimizer_is_the_divergence_message(tmp_path, capsys):
    # the fused Adam writes inf into D's weights, so G's loss through D is NaN in the same step
    out = tmp_path / "r"
    assert main(["train", "wgan-gp", "--out", str(out), *FAST, "--steps", "2", "--option", "lr=1e300"]) == 1
    line = error_line(capsys)
    assert "diverged at step 1" in line and "loss_G = nan" in line and "lower learning rate" in line


def flip_a_bit_in_the_largest_tensor(path):
    with zipfile.ZipFile(path) as z:
        info = max((i for i in z.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    raw = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + info.file_size // 2] ^= 0x10
    path.write_bytes(bytes(raw))


def test_a_flipped_bit_in_a_checkpoint_is_reported_not_loaded(run, tmp_path, capsys):
    flip_a_bit_in_the_largest_tensor(run / "ckpt.pt")
    with pytest.raises(CheckpointError, match="does not match the checksum"):
        load_checkpoint(run / "ckpt.pt")
    assert main(["sample", str(run), "-n", "4", "--out", str(tmp_path / "s.npz"), "--device", "cpu"]) == 1
    assert "corrupt" in error_line(capsys)


def test_a_checkpoint_whose_networks_the_config_no_longer_builds_is_one_line(tmp_path, capsys):
    # an lsgan run saved when its D had no BatchNorm, read after the default became the paper's D
    run = tmp_path / "lsgan"
    assert main(["train", "lsgan", "--out", str(run), "--steps", "1", *FAST, "--option", "norm=none"]) == 0
    config = json.loads((run / "config.json").read_text())
    config["options"]["norm"] = "auto"
    (run / "config.json").write_text(json.dumps(config))
    assert main(["sample", str(run), "-n", "4", "--out", str(tmp_path / "s.npz"), "--device", "cpu"]) == 1
    line = error_line(capsys)
    assert "checkpoint's D does not fit" in line and "config.json" in line, line
    assert main(["train", "lsgan", "--out", str(run), "--resume", "--steps", "2", *FAST]) == 1
    assert "checkpoint's D does not fit" in error_line(capsys)


def test_a_run_records_the_d_its_auto_options_built_so_a_new_default_cannot_orphan_it(tmp_path):
    # config.json names the D that norm=auto built (not "auto", which a later default could read
    # as another D, as in the test above) and the learning rate that followed from it
    run = tmp_path / "lsgan"
    assert main(["train", "lsgan", "--out", str(run), "--steps", "1", *FAST]) == 0
    options = json.loads((run / "config.json").read_text())["options"]
    assert options["norm"] == "batch" and options["lr"] == 1e-3, options
    assert main(["sample", str(run), "-n", "4", "--out", str(tmp_path / "s.npz"), "--device", "cpu"]) == 0


def test_a_second_run_into_the_same_folder_is_refused(run, capsys):
    with RunLock(run):
        assert train(run, "--steps", 3, "--resume") == 1
    assert "in use by another training run" in error_line(capsys)


def test_out_on_a_folder_of_other_files_or_on_a_file_is_refused(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    assert train(folder, "--steps", 1) == 1
    assert "not a ganedu run (notes.txt)" in error_line(capsys)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    (tmp_path / "file").write_text("x")
    assert train(tmp_path / "file", "--steps", 1) == 1
    assert "is a file" in error_line(capsys)


def test_a_full_disk_is_named_and_the_previous_checkpoint_survives(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, {"step": 1, "w": torch.ones(3)})

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(GaneduError, match="the disk is full: could not write .*ckpt.pt"):
        save_checkpoint(path, {"step": 2, "w": torch.zeros(3)})
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]


def test_resume_cleans_stale_temporary_files_and_does_not_repeat_log_steps(run):
    (run / ".ckpt.pt.0123abcd.tmp").write_bytes(b"half a checkpoint")
    with (run / "log.jsonl").open("a") as f:  # a line logged after the last checkpoint, then a crash
        f.write(json.dumps({"step": 3, "loss_D": 1.0}) + "\n" + '{"step": 4, "lo')
    assert train(run, "--steps", 3, "--resume") == 0
    assert not list(run.glob("*.tmp"))
    steps = [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()]
    assert len(steps) == len(set(steps)), steps


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--steps", "2"], "already at step 2"),
        (["--steps", "3", "--batch-size", "32"], "--batch-size 32 contradicts"),
        (["--steps", "3", "--dataset", "mnist"], "--dataset mnist contradicts"),
        (["--steps", "3", "--option", "lr=1e-3"], "keeps the options"),
    ],
)
def test_resume_refuses_what_contradicts_the_run(run, flags, message, capsys):
    assert main(["train", "gan", "--out", str(run), "--resume", "--device", "cpu", *flags]) == 1
    assert message in error_line(capsys)


@pytest.mark.parametrize(
    "flags",
    [
        ["--steps", "0"],
        ["--steps", "-5"],
        ["--minutes", "-1"],
        ["--steps", "1", "--batch-size", "0"],
        ["--steps", "1", "--batch-size", "-3"],
        ["--steps", "1", "--checkpoint-every", "0"],
        ["--steps", "1", "--device", "tpu"],
        pytest.param(
            ["--steps", "1", "--device", "cuda"],
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is visible"),
        ),
    ],
)
def test_bad_training_values_are_one_line_errors_and_write_nothing(tmp_path, flags, capsys):
    out = tmp_path / "r"
    assert main(["train", "gan", "--out", str(out), *flags]) == 1
    error_line(capsys)
    assert not (out / "ckpt.pt").exists()


def test_bad_sample_and_eval_values_are_one_line_errors(run, tmp_path, capsys):
    assert main(["sample", str(run), "-n", "0", "--out", str(tmp_path / "s.npz")]) == 1
    assert "-n must be a positive number" in error_line(capsys)
    assert main(["sample", str(run), "-n", "2", "--out", str(tmp_path / "x.txt")]) == 1
    assert "name it FILE.npz" in error_line(capsys)
    assert not (tmp_path / "x.txt").exists() and not (tmp_path / "x.txt.npz").exists()
    assert main(["eval", str(run), "-n", "-5"]) == 1
    assert "-n must be a positive number" in error_line(capsys)


def test_damaged_or_wrong_npz_files_are_one_line_errors(tmp_path, capsys):
    good = tmp_path / "good.npz"
    np.savez_compressed(good, images=np.zeros((50, 1, 28, 28), np.uint8))
    cases = {
        "empty.npz": b"",
        "truncated.npz": good.read_bytes()[: len(good.read_bytes()) // 2],
    }
    flipped = bytearray(good.read_bytes())
    flipped[len(flipped) // 3] ^= 0xFF
    cases["flipped.npz"] = bytes(flipped)
    for name, raw in cases.items():
        (tmp_path / name).write_bytes(raw)
        assert main(["eval", str(tmp_path / name)]) == 1, name
        assert "not a readable .npz" in error_line(capsys)
    np.savez(tmp_path / "rgb.npz", images=np.zeros((50, 3, 28, 28), np.uint8))
    assert main(["eval", str(tmp_path / "rgb.npz")]) == 1
    assert "cannot be compared with fashion-mnist" in error_line(capsys)


def test_code_running_checkpoint_refusal_is_a_whole_sentence(tmp_path):
    import os

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "evil.pt"
    torch.save({"x": Evil()}, path)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    message = str(caught.value)
    assert "GLOBAL" in message and "system" in message and message.endswith("written by ganedu")


def test_an_out_folder_that_cannot_be_written_is_one_line(tmp_path, monkeypatch, capsys):
    from pathlib import Path

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)  # as root, a read-only folder cannot be made to refuse
    assert train(tmp_path / "locked" / "r", "--steps", 1) == 1
    assert "permission denied writing" in error_line(capsys)


def test_eval_on_few_samples_warns_about_the_bias(tmp_path, capsys):
    np.savez(
        tmp_path / "few.npz",
        images=np.random.default_rng(0).integers(0, 256, (20, 1, 28, 28), dtype=np.uint8),
    )
    assert main(["eval", str(tmp_path / "few.npz"), "--device", "cpu"]) == 0
    assert "FID from only 20 samples is biased" in capsys.readouterr().err


def test_a_damaged_cached_feature_file_is_rebuilt_not_trusted(tmp_path, monkeypatch, capsys):
    import importlib

    evaluate = importlib.import_module("ganedu.metrics.evaluate")  # the module, not the function it exports
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    images = torch.randint(0, 256, (8, 1, 28, 28), dtype=torch.uint8)

    class Extractor:
        weights_sha256 = "0" * 64

        def __call__(self, x):
            return torch.ones(len(x), 3)

    first = evaluate.real_features(Extractor(), "classifier", "fashion-mnist", "test", images)
    (cached,) = (tmp_path / "ganedu" / "stats").glob("*.npz")
    cached.write_bytes(cached.read_bytes()[:40])  # cut off, as by a crash
    again = evaluate.real_features(Extractor(), "classifier", "fashion-mnist", "test", images)
    assert np.array_equal(first, again) and "computing them again" in capsys.readouterr().err
    with np.load(cached) as npz:  # rebuilt on disk too
        assert npz["features"].shape == (8, 3)


def test_sampling_streams_uint8_chunks_of_at_most_500_images():
    from ganedu.models import RunConfig, build_gan

    gan = build_gan(RunConfig("dcgan", device="cpu", precision="fp32"))
    chunks = list(gan.export_chunks(1100, crop_to=28))
    assert [len(c["images"]) for c in chunks] == [500, 500, 100]
    assert all(c["images"].dtype == np.uint8 and c["images"].shape[1:] == (1, 28, 28) for c in chunks)

"""Faults and bad input: one readable line, a non-zero exit, nothing lost, nothing silently wrong.

Each fault is made for real where this machine can make it (``tests/real_faults.py``): a full
tmpfs for a full disk, a process without root's powers for a folder it may not write, SIGKILL
for a crash mid-write, a second process for a held lock, a real divergence for a blow-up. A test
that makes its fault by hand says why in its docstring.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganedu.__main__ import main
from ganedu.checkpoint import load_checkpoint
from ganedu.errors import CheckpointError, TrainingDiverged
from tests.real_faults import fill, ganedu_cli, resize, run_cli, small_disk, unprivileged, wait_for

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


def log_steps(run) -> list[int]:
    """The steps of ``log.jsonl``; every line must be whole JSON."""
    return [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()]


def assert_varied_samples(run, tmp_path) -> None:
    """``sample`` from the run's checkpoint gives finite, varied images (not one flat colour)."""
    out = tmp_path / "samples.npz"
    assert main(["sample", str(run), "-n", "64", "--out", str(out), "--device", "cpu"]) == 0
    with np.load(out) as npz:
        images = npz["images"]
    assert images.std() > 5 and len(np.unique(images)) > 50, (images.std(), len(np.unique(images)))


def test_a_blow_up_at_the_first_step_writes_no_grid_and_names_no_checkpoint(tmp_path, capsys):
    # with lr_g = 1e30 the first G update leaves finite weights whose samples are NaN in eval mode
    out = tmp_path / "r"
    flags = ["--steps", "6", "--checkpoint-every", "1", "--option", "lr_g=1e30", *FAST]
    assert main(["train", "lsgan", "--out", str(out), *flags]) == 1
    line = error_line(capsys)
    assert "at step 1 the generator's samples are broken" in line and "NaN" in line, line
    assert "no checkpoint was written before it" in line and "last good" not in line
    assert not list(out.glob("samples_*.png")) and not (out / "ckpt.pt").exists()
    assert main(["sample", str(out), "-n", "4", "--out", str(tmp_path / "s.npz")]) == 1
    assert "stopped before its first checkpoint was written" in error_line(capsys)


def test_the_last_good_checkpoint_after_a_real_divergence_samples_varied_images(trained, tmp_path):
    from ganedu.callbacks import Checkpointer, SampleGrid
    from ganedu.models import RunConfig, build
    from ganedu.train import resume
    from ganedu.train import train as train_loop

    run = Path(shutil.copytree(trained, tmp_path / "gan"))
    config = RunConfig.load(run / "config.json")
    config.device = "cpu"
    gan, data = build(config)
    resume(run / "ckpt.pt", gan, data)
    for group in gan.opt_g.param_groups:  # the same optimizer, told to take a step it cannot survive
        group["lr"] = 1e30
    callbacks = [SampleGrid(run, every=1, n=16), Checkpointer(run / "ckpt.pt", data, every=1)]
    with pytest.raises(TrainingDiverged, match="at step 3 the generator's samples are broken"):
        train_loop(gan, data, steps=10, batch_size=8, callbacks=callbacks)
    assert load_checkpoint(run / "ckpt.pt")["gan"]["step"] == 2  # the last good one, untouched
    assert not (run / "samples_000003.png").exists()
    assert_varied_samples(run, tmp_path)


def test_a_blown_buffer_is_caught_though_every_weight_is_finite():
    """BatchNorm's running variance is a buffer: one forward of huge codes in train mode makes it
    infinite while every parameter stays finite, and the eval-mode samples NaN."""
    from ganedu.health import check_healthy
    from ganedu.models import RunConfig, build_gan

    gan = build_gan(
        RunConfig("dcgan", device="cpu", precision="fp32", image_shape=[1, 28, 28], num_classes=10)
    )
    check_healthy(gan)  # a fresh generator is healthy
    gan.G.train()
    with torch.no_grad():
        gan.G(torch.full((4, gan.nz), 1e30))
    assert all(p.isfinite().all() for p in gan.G.parameters())
    with pytest.raises(TrainingDiverged, match=r"NaN or infinite values \(models\.G\..*running_var"):
        check_healthy(gan)


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
    """The bit is flipped by hand: a disk or memory that flips one cannot be had on demand."""
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


def test_a_second_training_process_into_the_same_folder_is_refused(run):
    first = ganedu_cli("train", "gan", "--out", run, "--resume", "--steps", 10**6, "--device", "cpu")
    try:
        wait_for(lambda: (run / ".lock").read_text().startswith(f"pid {first.pid}"), timeout=60)
        status, line = run_cli("train", "gan", "--out", run, "--resume", "--steps", 10**6, "--device", "cpu")
        assert status == 1 and f"in use by another training run (pid {first.pid})" in line, line
    finally:
        first.kill()
        first.communicate()


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


@pytest.mark.parametrize("name", ["config.json", "log.jsonl", "ckpt.pt"])
@pytest.mark.parametrize("resume", [False, True])
def test_a_folder_holding_a_run_file_of_the_users_own_is_refused_untouched(tmp_path, capsys, name, resume):
    folder = tmp_path / "u"
    folder.mkdir()
    (folder / name).write_text("mine")
    assert train(folder, "--steps", 1, *(["--resume"] if resume else [])) == 1
    line = error_line(capsys)
    assert ("not a ganedu run" in line or "nothing to resume" in line) and "Traceback" not in line, line
    assert [p.name for p in folder.iterdir()] == [name] and (folder / name).read_text() == "mine"


def test_a_config_json_of_another_program_naming_a_model_is_still_not_a_run(tmp_path, capsys):
    folder = tmp_path / "u"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model": "gan", "note": "my own settings"}))
    assert train(folder, "--steps", 1) == 1
    assert "its config.json was not written by ganedu" in error_line(capsys)
    assert [p.name for p in folder.iterdir()] == ["config.json"]


def test_a_full_disk_at_the_first_checkpoint_is_one_line_and_leaves_nothing_half_written(tmp_path, capsys):
    with small_disk(tmp_path / "disk", megabytes=3) as disk:  # the gan's checkpoint is 25 MB
        out = disk / "run"
        assert train(out, "--steps", 4) == 1
        line = error_line(capsys)
        assert line.startswith(f"ganedu: error: the disk is full: could not write {out / 'ckpt.pt'}"), line
        assert "no checkpoint was written yet: free some space and train again" in line
        assert not list(out.glob(".*.tmp")) and not (out / "ckpt.pt").exists()
        assert json.loads((out / "config.json").read_text())["model"] == "gan"
        for grid in out.glob("samples_*.png"):
            Image.open(grid).verify()  # whole PNGs only
        resize(disk, 64)
        assert train(out, "--steps", 4) == 0  # the folder is the user's run: training again works


def test_a_full_disk_mid_checkpoint_keeps_the_last_good_one_and_resume_continues(tmp_path, capsys):
    with small_disk(tmp_path / "disk", megabytes=40) as disk:  # one checkpoint fits, not two
        out = disk / "run"
        assert train(out, "--steps", 3, "--checkpoint-every", 1) == 1
        line = error_line(capsys)
        assert f"could not write {out / 'ckpt.pt'}" in line, line
        assert f"last good checkpoint: {out / 'ckpt.pt'} (step 1); free some space, then continue" in line
        assert load_checkpoint(out / "ckpt.pt")["gan"]["step"] == 1 and not list(out.glob(".*.tmp"))
        resize(disk, 80)
        assert train(out, "--steps", 3, "--resume") == 0
        assert load_checkpoint(out / "ckpt.pt")["gan"]["step"] == 3
        assert_varied_samples(out, tmp_path)


def test_a_full_disk_mid_log_leaves_whole_lines_and_resume_continues(trained, tmp_path, capsys):
    with small_disk(tmp_path / "disk", megabytes=64) as disk:
        out = Path(shutil.copytree(trained, disk / "run"))
        assert train(out, "--steps", 30, "--resume") == 0  # three lines in the log
        filler = fill(disk)
        # a line every 10 steps fills the log's last page; the next one needs a page the disk lacks
        assert train(out, "--steps", 2000, "--resume", "--checkpoint-every", 5000) == 1
        line = error_line(capsys)
        assert f"could not add a line to {out / 'log.jsonl'}" in line, line
        assert f"last good checkpoint: {out / 'ckpt.pt'} (step 30); free some space, then continue" in line
        logged = log_steps(out)  # every line whole
        assert logged[:3] == [10, 20, 30] and logged[-1] > 30, logged
        filler.unlink()
        assert train(out, "--steps", logged[-1] + 20, "--resume") == 0
        steps = log_steps(out)
        assert steps == sorted(set(steps)) and steps[-1] == logged[-1] + 20, steps


def test_a_run_killed_mid_checkpoint_resumes_from_the_last_whole_one(tmp_path):
    out = tmp_path / "run"
    running = ganedu_cli("train", "gan", "--out", out, "--steps", 10**6, "--checkpoint-every", 1, *FAST)
    try:

        def writing_a_checkpoint():
            """a checkpoint half written over an earlier one"""
            names = os.listdir(out) if out.is_dir() else []
            return "ckpt.pt" in names and any(n.startswith(".ckpt.pt.") for n in names)

        wait_for(writing_a_checkpoint, timeout=90)
        running.send_signal(signal.SIGKILL)
    finally:
        running.communicate()
    assert running.returncode == -signal.SIGKILL
    assert list(out.glob(".ckpt.pt.*.tmp")), "the kill left no half-written file: it came too late"
    step = load_checkpoint(out / "ckpt.pt")["gan"]["step"]  # the last whole one loads
    assert train(out, "--steps", step + 12, "--resume") == 0
    assert not list(out.glob(".*.tmp"))
    steps = log_steps(out)
    assert steps == sorted(set(steps)) and steps[-1] == (step + 12) // 10 * 10, steps


def test_a_checkpoint_cut_short_by_a_killed_save_is_reported_not_loaded(run, tmp_path, capsys):
    """A plain ``torch.save`` (not ganedu's atomic write, which never leaves one) killed mid-file
    leaves the truncated checkpoint a copy cut short would."""
    target = run / "ckpt.pt"
    target.unlink()
    code = f"import torch; torch.save({{'w': torch.randn(50_000_000)}}, {str(target)!r})"
    saving = subprocess.Popen([sys.executable, "-c", code])
    try:
        wait_for(lambda: target.exists() and target.stat().st_size > 1 << 20, timeout=60)
        saving.send_signal(signal.SIGKILL)
    finally:
        saving.wait()
    assert saving.returncode == -signal.SIGKILL and 0 < target.stat().st_size < 200_000_000
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(target)
    assert main(["sample", str(run), "-n", "4", "--out", str(tmp_path / "s.npz"), "--device", "cpu"]) == 1
    assert "corrupt or truncated" in error_line(capsys)


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
    """Damaged by hand: these are files a user hands to ganedu, written by other programs, so
    no save of ganedu's can be interrupted to make them (its own are tested killed mid-save)."""
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


def test_an_out_folder_that_cannot_be_written_is_one_line(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    status, line = run_cli("train", "gan", "--out", locked / "r", "--steps", 1, *FAST, prefix=unprivileged())
    assert status == 1 and f"cannot write to {locked}" in line, line
    assert list(locked.iterdir()) == []


def test_a_run_file_that_cannot_be_written_is_one_line_and_the_run_is_intact(run):
    (run / "log.jsonl").write_text("")  # a 2-step run has logged nothing yet
    (run / "log.jsonl").chmod(0o444)
    before = (run / "ckpt.pt").read_bytes()
    status, line = run_cli(
        "train", "gan", "--out", run, "--resume", "--steps", 40, *FAST, prefix=unprivileged()
    )
    assert status == 1 and f"permission denied writing {run / 'log.jsonl'}" in line, line
    assert (run / "ckpt.pt").read_bytes() == before


def test_eval_on_few_samples_warns_about_the_bias(tmp_path, capsys):
    np.savez(
        tmp_path / "few.npz",
        images=np.random.default_rng(0).integers(0, 256, (20, 1, 28, 28), dtype=np.uint8),
    )
    assert main(["eval", str(tmp_path / "few.npz"), "--device", "cpu"]) == 0
    assert "FID from only 20 samples is biased" in capsys.readouterr().err


def test_a_damaged_cached_feature_file_is_rebuilt_not_trusted(tmp_path, monkeypatch, capsys):
    """Cut by hand: ganedu writes the cache atomically, so no crash of its own can cut it; a
    copy from elsewhere or a damaged disk can. (monkeypatch only points XDG_CACHE_HOME here.)"""
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

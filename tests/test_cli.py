"""The command line: train / sample / resume, and one readable line for every expected error."""

import json
import os
import subprocess
import sys

import numpy as np
import torch

from ganedu.__main__ import main

FAST = ["--precision", "fp32", "--batch-size", "16", "--device", "cpu"]


def run_cli(*args, cwd=None, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "ganedu", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=240)  # fmt: skip


def assert_one_line_error(result, pattern):
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("ganedu: error:") and pattern in lines[-1], result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_model_is_one_line_error(tmp_path):
    assert_one_line_error(
        run_cli("train", "vae", "--steps", "1", "--out", tmp_path / "r"), "unknown model 'vae'"
    )


def test_unknown_dataset_is_one_line_error(tmp_path):
    assert_one_line_error(
        run_cli("train", "dcgan", "--dataset", "imagenet", "--steps", "1", "--out", tmp_path / "r"),
        "imagenet",
    )


def test_missing_run_directory_is_one_line_error(tmp_path):
    assert_one_line_error(
        run_cli("sample", tmp_path / "nope", "-n", "4", "--out", tmp_path / "s.npz"), "no run directory"
    )


def test_corrupt_data_file_is_one_line_error(tmp_path):
    """Written by hand: a data file someone put in the folder; a download cut for real is
    tests/test_data.py::test_interrupted_download_leaves_no_file_behind."""
    folder = tmp_path / "data" / "fashion-mnist"
    folder.mkdir(parents=True)
    for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]:
        (folder / name).write_bytes(b"not the real file")
    result = run_cli(
        "train",
        "dcgan",
        "--steps",
        "1",
        "--out",
        tmp_path / "r",
        env_extra={"GANEDU_DATA": tmp_path / "data"},
    )
    assert_one_line_error(result, "SHA-256")


def test_train_sample_resume_and_corrupt_checkpoint(tmp_path, capsys):
    """30 steps straight and 15 + resume to 30 give identical samples; a damaged ckpt is one line
    (cut by hand here; cut by a real SIGKILL mid-save in tests/test_faults.py)."""
    straight, split = tmp_path / "straight", tmp_path / "split"
    pinned = [*FAST, "--threads", str(torch.get_num_threads())]  # bit for bit even on a busy machine
    assert main(["train", "dcgan", "--steps", "30", "--out", str(straight), *pinned]) == 0
    assert main(["train", "dcgan", "--steps", "15", "--out", str(split), *pinned]) == 0
    assert main(["train", "dcgan", "--steps", "30", "--out", str(split), "--resume", *pinned]) == 0
    assert {p.name for p in straight.iterdir()} >= {
        "config.json",
        "ckpt.pt",
        "log.jsonl",
        "samples_000030.png",
    }
    for run in (straight, split):
        assert main(["sample", str(run), "-n", "20", "--seed", "4", "--out", str(run / "s.npz")]) == 0
    a, b = np.load(straight / "s.npz")["images"], np.load(split / "s.npz")["images"]
    assert a.shape == (20, 1, 28, 28) and a.dtype == np.uint8
    assert np.array_equal(a, b), "a resumed run must sample exactly what the straight run samples"

    assert (
        main(["train", "dcgan", "--steps", "31", "--out", str(straight), *FAST]) == 1
    )  # exists: needs --resume
    ckpt = straight / "ckpt.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:1000])
    capsys.readouterr()
    assert main(["sample", str(straight), "-n", "4", "--out", str(tmp_path / "x.npz")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "corrupt" in err[0]


def test_sample_starts_without_importing_the_compiler(tmp_path):
    """``sample`` builds the optimizers and loads their state without ``torch._dynamo`` (~2 s of start-up),
    and samples exactly what a process that imported it samples."""
    run = tmp_path / "run"
    assert main(["train", "dcgan", "--steps", "2", "--out", str(run), *FAST]) == 0
    assert main(["sample", str(run), "-n", "8", "--out", str(tmp_path / "here.npz")]) == 0
    code = (
        "import sys; from ganedu.__main__ import main; "
        f"main(['sample', {str(run)!r}, '-n', '8', '--out', {str(tmp_path / 'fresh.npz')!r}]); "
        "print('compiler imported:', 'torch._dynamo' in sys.modules)"
    )
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert fresh.returncode == 0, fresh.stderr
    assert "compiler imported: False" in fresh.stdout
    here, there = (np.load(tmp_path / f)["images"] for f in ("here.npz", "fresh.npz"))
    assert np.array_equal(here, there)


def test_conditional_sample_writes_labels_in_equal_shares(tmp_path):
    run = tmp_path / "c"
    assert main(["train", "cgan", "--steps", "2", "--out", str(run), *FAST]) == 0
    assert main(["sample", str(run), "-n", "30", "--out", str(run / "s.npz")]) == 0
    labels = np.load(run / "s.npz")["labels"]
    assert np.array_equal(np.bincount(labels), [3] * 10)


def test_train_needs_a_length(tmp_path, capsys):
    assert main(["train", "dcgan", "--out", str(tmp_path / "r")]) == 1
    assert "--steps" in capsys.readouterr().err


def test_eval_prints_the_metric_with_its_feature_space_and_n(tmp_path, capsys):
    import json

    run = tmp_path / "d"
    assert main(["train", "dcgan", "--steps", "2", "--out", str(run), *FAST]) == 0
    assert main(["sample", str(run), "-n", "200", "--out", str(run / "s.npz")]) == 0
    capsys.readouterr()
    assert main(["eval", str(run / "s.npz"), "--metric", "fid", "--features", "classifier", "-n", "200"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["n"] == 200 and "classifier" in result["name"] and result["value"] > 0
    assert main(["eval", str(run), "--metric", "pr", "-n", "100"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["n"] == 100 and 0 <= result["precision"] <= 1 and 0 <= result["recall"] <= 1
    assert main(["eval", str(tmp_path / "missing.npz")]) == 1


def test_sampling_options_a_model_does_not_take_are_one_line_errors(tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["train", "gan", "--steps", "1", "--out", str(run), *FAST]) == 0
    capsys.readouterr()
    assert main(["sample", str(run), "-n", "4", "--out", str(tmp_path / "s.npz"), "--truncation", "0.5"]) == 1
    err = capsys.readouterr().err
    assert "ganedu: error:" in err and "truncation" in err and "Traceback" not in err


def test_each_model_trains_at_the_batch_its_documented_results_used(tmp_path, capsys):
    """No --batch-size: CycleGAN's 10-minute result was measured at batch 8, StyleGAN's at 32."""
    out = tmp_path / "cyclegan"
    tiny = ["--option", "ngf=8", "--option", "ndf=8", "--option", "n_blocks=1"]
    assert main(["train", "cyclegan", "--steps", "1", "--out", str(out), "--device", "cpu", *tiny]) == 0
    assert json.loads((out / "config.json").read_text())["batch_size"] == 8
    assert main(["options", "stylegan"]) == 0
    assert "default --batch-size: 32" in capsys.readouterr().out


# `python -m ganedu ARGV` with something of the caller's registered first: an atexit handler that
# writes a file, and (with "thread" as the first argument) a thread the interpreter waits for,
# which writes its file half a second later
EXIT_RUNNER = """
import atexit, runpy, sys, threading, time
marks = sys.argv[1]
atexit.register(lambda: open(marks + ".atexit", "w").write("ran"))
if sys.argv[2] == "thread":
    threading.Thread(target=lambda: (time.sleep(0.5), open(marks + ".thread", "w").write("done"))).start()
sys.argv = ["ganedu", *sys.argv[3:]]
runpy.run_module("ganedu", run_name="__main__")
"""


def exit_runner(marks, thread: bool, *argv):
    return subprocess.run([sys.executable, "-c", EXIT_RUNNER, str(marks), "thread" if thread else "-", *argv],
                          capture_output=True, text=True, timeout=240)  # fmt: skip


def test_the_quick_exit_runs_the_atexit_handlers_and_loses_no_output(tmp_path):
    done = exit_runner(tmp_path / "m", False, "options")
    assert done.returncode == 0, done.stderr
    assert done.stdout == run_cli("options").stdout  # every line, flushed
    assert done.stdout.split("\n\n")[-1].startswith("r3gan: ")  # the last model's table, whole
    assert (tmp_path / "m.atexit").read_text() == "ran"


def test_the_quick_exit_waits_for_a_running_thread_and_keeps_the_exit_status(tmp_path):
    done = exit_runner(tmp_path / "m", True, "options", "dcgan")
    assert done.returncode == 0 and done.stdout.startswith("dcgan: ")
    assert (tmp_path / "m.thread").read_text() == "done"  # the ordinary exit waited for it
    assert (tmp_path / "m.atexit").read_text() == "ran"
    failed = exit_runner(tmp_path / "f", False, "train", "nomodel", "--steps", "1")
    assert failed.returncode == 1 and "unknown model 'nomodel'" in failed.stderr


def test_a_trained_run_is_complete_after_the_quick_exit(tmp_path):
    run = tmp_path / "run"
    done = run_cli("train", "dcgan", "--steps", "2", "--out", run, *FAST)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"trained dcgan to step 2; run directory: {run}"
    names = {".lock", "ckpt.pt", "config.json", "samples_000002.png"}  # the lock's file stays, unlocked
    assert {p.name for p in run.iterdir()} == names
    assert main(["sample", str(run), "-n", "4", "--out", str(tmp_path / "s.npz")]) == 0


def test_a_profiler_watching_the_command_line_still_writes_its_profile(tmp_path):
    """``python -m cProfile -o FILE -m ganedu ...`` writes FILE after the program: the quick exit waits."""
    prof = tmp_path / "options.prof"
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "ganedu", "options", "dcgan"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("dcgan: ")
    assert prof.stat().st_size > 0

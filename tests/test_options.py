"""Typed model options: every model lists its options, and a wrong one is one line naming the valid ones."""

import dataclasses
import subprocess
import sys
import typing

import pytest

from ganedu.__main__ import main
from ganedu.models import MODELS, RunConfig, build_gan, options_of
from ganedu.models.options import OptionError, describe, option, parse_options


def one_error_line(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    assert err[0].startswith("ganedu: error:") and "Traceback" not in err[0]
    return err[0]


def numeric_option(model: str) -> str:
    """The first int or float option of ``model``."""
    hints = typing.get_type_hints(MODELS[model].options)
    return next(f.name for f in dataclasses.fields(MODELS[model].options) if hints[f.name] in (int, float))


@pytest.mark.parametrize("model", list(MODELS))
def test_unknown_option_is_one_line_listing_the_valid_ones(model, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", model, "--steps", "1", "--out", str(out), "--option", "n_critc=1"]) == 1
    line = one_error_line(capsys)
    assert "'n_critc'" in line
    assert all(f.name in line for f in dataclasses.fields(MODELS[model].options)), line
    assert not out.exists()  # refused before anything was written


@pytest.mark.parametrize("model", list(MODELS))
def test_option_of_the_wrong_type_is_one_line_naming_the_key(model, tmp_path, capsys):
    key = numeric_option(model)
    assert main(["train", model, "--steps", "1", "--out", str(tmp_path / "r"), "--option", f"{key}=abc"]) == 1
    line = one_error_line(capsys)
    assert f"'{key}'" in line and "'abc'" in line


@pytest.mark.parametrize("model", list(MODELS))
def test_every_model_builds_from_its_config_without_data(model, monkeypatch):
    def no_data(*args, **kwargs):
        raise AssertionError("building for sampling must not load the dataset")

    monkeypatch.setattr("ganedu.models.base.load_dataset", no_data)
    gan = build_gan(RunConfig(model, device="cpu", precision="fp32"))
    assert gan.G is not None


def test_option_without_equals_sign_and_out_of_range_values_are_refused(tmp_path, capsys):
    assert main(["train", "wgan", "--steps", "1", "--out", str(tmp_path / "r"), "--option", "clip"]) == 1
    assert "KEY=VALUE" in one_error_line(capsys)
    assert (
        main(["train", "wgan", "--steps", "1", "--out", str(tmp_path / "r"), "--option", "n_critic=0"]) == 1
    )
    assert "below the minimum 1" in one_error_line(capsys)
    assert (
        main(["train", "lsgan", "--steps", "1", "--out", str(tmp_path / "r"), "--option", "loss=wasserstein"])
        == 1
    )
    assert "least-squares, hinge" in one_error_line(capsys)


@pytest.mark.parametrize("model", ["wgan", "wgan-gp", "lsgan"])
def test_minibatch_stddev_group_that_does_not_divide_the_batch_is_refused_before_training(
    model, tmp_path, capsys
):
    out = tmp_path / "run"
    argv = ["train", model, "--steps", "1", "--batch-size", "30", "--out", str(out), "--option", "mbstd=4"]
    assert main(argv) == 1
    line = one_error_line(capsys)
    assert "'mbstd'" in line and "--batch-size 30" in line and "divisible by 4" in line, line
    assert not (out / "checkpoint.pt").exists()  # no step was taken


def test_stylegan_refuses_a_batch_its_minibatch_stddev_groups_do_not_divide_before_training(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "stylegan", "--steps", "1", "--batch-size", "30", "--out", str(out)]) == 1
    line = one_error_line(capsys)
    assert "stylegan" in line and "--batch-size 30" in line and "divisible by 4" in line, line
    assert not (out / "checkpoint.pt").exists()  # no step was taken


def test_values_are_converted_to_the_declared_types():
    @dataclasses.dataclass
    class Options:
        steps: int = option(3, "an int", min=1)
        rate: float | None = option(None, "a float or none")
        flag: bool = option(False, "a yes/no")
        name: str = option("a", "a choice", choices=("a", "b"))

    parsed = parse_options("m", Options, ["steps=4", "rate=1e-3", "flag=yes", "name=b"])
    assert parsed == Options(4, 1e-3, True, "b")
    assert parse_options("m", Options, {"rate": "none"}).rate is None
    for bad in ("steps=2.5", "flag=maybe", "rate=nan", "steps=true"):
        with pytest.raises(OptionError):
            parse_options("m", Options, [bad])


def test_train_model_help_and_the_options_command_list_each_option(capsys):
    assert main(["train", "wgan-gp", "--help"]) == 0
    text = capsys.readouterr().out
    assert "gp_weight (float, default 10.0" in text and "Gulrajani" in text
    assert main(["options", "stylegan"]) == 0
    assert "r1_interval (int, default 16" in capsys.readouterr().out


def test_config_json_records_every_option_and_what_sampling_needs(tmp_path):
    assert main(["train", "cgan", "--steps", "1", "--out", str(tmp_path / "r"), "--precision", "fp32",
                 "--batch-size", "8", "--device", "cpu", "--option", "conditioning=projection"]) == 0  # fmt: skip
    config = RunConfig.load(tmp_path / "r" / "config.json")
    assert config.options == {"conditioning": "projection", "lr": 2e-4}
    assert config.image_shape == [1, 28, 28] and config.num_classes == 10


def test_sample_needs_no_training_data(tmp_path, monkeypatch):
    run = tmp_path / "r"
    assert main(["train", "dcgan", "--steps", "1", "--out", str(run), "--precision", "fp32",
                 "--batch-size", "8", "--device", "cpu"]) == 0  # fmt: skip

    def no_data(*args, **kwargs):
        raise AssertionError("sampling must not load the dataset")

    monkeypatch.setattr("ganedu.models.base.load_dataset", no_data)
    monkeypatch.setattr("ganedu.data.load_dataset", no_data)
    assert main(["sample", str(run), "-n", "3", "--out", str(tmp_path / "s.npz"), "--device", "cpu"]) == 0
    import numpy as np

    with np.load(tmp_path / "s.npz") as npz:
        assert npz["images"].shape == (3, 1, 28, 28)


@pytest.mark.parametrize("command", ["grading", "pretrained", "doctor"])
def test_grading_and_pretrained_are_subcommands_of_the_one_command_line(command, monkeypatch):
    import importlib

    seen = []
    monkeypatch.setattr(
        importlib.import_module(f"ganedu.{command}"), "main", lambda argv: seen.append(argv) or 0
    )
    assert main([command, "make-stubs", "--check"]) == 0
    assert seen == [["make-stubs", "--check"]]


# what a fresh `python -m ganedu ARGS` imported: its stdout, stderr, and whether PyTorch was among it
FRESH = """
import atexit, runpy, sys
atexit.register(lambda: print("PYTORCH-IMPORTED" if "torch" in sys.modules else "NO-PYTORCH", file=sys.stderr))
sys.argv = ["ganedu", *sys.argv[1:]]
runpy.run_module("ganedu", run_name="__main__")
"""


def fresh(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", FRESH, *argv], capture_output=True, text=True, timeout=60)


def test_options_lists_every_models_declared_options_without_importing_pytorch():
    done = fresh("options")
    assert done.stderr.strip().splitlines()[-1] == "NO-PYTORCH", done.stderr
    expected = [
        f"{name}: {spec.paper}\ndefault --batch-size: {spec.batch_size}\noptions (--option KEY=VALUE):\n  "
        + describe(spec.options).replace("\n", "\n  ")
        for name, spec in MODELS.items()  # the paper modules' own specs, PyTorch imported
    ]
    assert done.stdout == "\n\n".join(expected) + "\n"
    assert [line.split(":")[0] for line in done.stdout.split("\n\n")] == list(MODELS)


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "r3gan", "--help"],
        ["train", "wgan", "--steps", "1", "--option", "n_critc=1"],
        ["train", "wgan", "--steps", "1", "--option", "n_critic=abc"],
        ["train", "lsgan", "--steps", "1", "--option", "loss=wasserstein"],
        ["train", "nomodel", "--steps", "1"],
    ],
)
def test_model_help_and_a_refused_option_need_no_pytorch(argv, tmp_path):
    done = fresh(*argv, *(["--out", str(tmp_path / "run")] if "--steps" in argv else []))
    assert done.stderr.strip().splitlines()[-1] == "NO-PYTORCH", done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "run").exists()


def test_r3gan_schedule_auto_is_resolved_by_the_speed_mode_into_the_recorded_options(monkeypatch):
    monkeypatch.setenv("GANEDU_MODE", "full")
    assert options_of(RunConfig("r3gan")).schedule == "paper"
    monkeypatch.setenv("GANEDU_MODE", "cpu")
    assert options_of(RunConfig("r3gan")).schedule == "constant"
    assert options_of(RunConfig("r3gan", options={"schedule": "paper"})).schedule == "paper"
    # what build() writes into config.json: the schedule trained with, kept on --resume elsewhere
    assert dataclasses.asdict(options_of(RunConfig("r3gan")))["schedule"] == "constant"


def test_lsgan_loss_choices_are_its_loss_pairs():
    from ganedu.models import lsgan
    from ganedu.models.catalog import LSGAN_LOSSES

    assert tuple(lsgan.LOSSES) == LSGAN_LOSSES

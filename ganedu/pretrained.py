"""Small trained models shipped with ganedu, for the chapters whose models take too long to train on a laptop.

Chapters 7 (CycleGAN) and 8 (StyleGAN) load these instead of training for ten minutes, and
retrain in ``full`` mode on a GPU. Each file holds the generator weights of one run of the
project's own CLI (``python -m ganedu train MODEL --minutes 10``) and the run's config; a JSON
record beside it gives the exact command, the hardware time and the measured metrics. Each
file is pinned by SHA-256 and loaded with ``torch.load(weights_only=True)``: data, never code.

    gan, data = load_pretrained("cyclegan")   # a CycleGAN bundle with the shipped generators
    gan.translate(sneakers, "AB")             # sneakers -> ankle boots

To refresh a file: ``python -m ganedu.pretrained export RUN_DIR NAME`` writes it from a
finished run and prints the new hash to pin in :data:`PRETRAINED`.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from ganedu.checkpoint import load_checkpoint
from ganedu.errors import CheckpointError, UnknownModelError
from ganedu.files import check_pinned, sha256_file, write_atomically

WEIGHTS_DIR = Path(__file__).parent / "weights"


@dataclass(frozen=True)
class PretrainedSpec:
    """One shipped generator: its file in ``ganedu/weights`` and the file's pinned SHA-256."""

    model: str
    file: str
    sha256: str

    @property
    def path(self) -> Path:
        return WEIGHTS_DIR / self.file

    @property
    def record_path(self) -> Path:
        return self.path.with_suffix(".json")


PRETRAINED: dict[str, PretrainedSpec] = {
    "cyclegan": PretrainedSpec(
        "cyclegan",
        "cyclegan_fashion_mnist.pt",
        "8153dffc6852604b07fb03c9909cbe0c57135bd119354efbe34697e4d7b1a73b",
    ),
    "stylegan": PretrainedSpec(
        "stylegan",
        "stylegan_fashion_mnist.pt",
        "80524a04817c97e74a50a5768252d8a2524710226a0e561ce563af21611447b2",
    ),
}


def _spec(name: str) -> PretrainedSpec:
    if name not in PRETRAINED:
        raise UnknownModelError(f"no pretrained {name!r} is shipped; there are: {', '.join(PRETRAINED)}")
    return PRETRAINED[name]


def record(name: str) -> dict:
    """The JSON record shipped beside the weights: command, steps, wall time, metrics."""
    return json.loads(_spec(name).record_path.read_text())


def _generator(gan) -> torch.nn.Module:
    """The weights worth shipping: the EMA generator when the model keeps one, else G."""
    return gan.ema.model if gan.ema is not None else gan.G


def load_pretrained(name: str, device: torch.device | str | None = "cpu", spec: PretrainedSpec | None = None):
    """The shipped model ``name`` as ``(gan, data)``, built by its recipe with the trained generator loaded.

    The generator (and its EMA copy) hold the shipped weights; the discriminator is untrained,
    so the bundle is for sampling, translating and exploring, not for resuming training.

    Raises:
        CheckpointError: the file is missing, or its SHA-256 is not the pinned one.
    """
    from ganedu.models import RunConfig, build

    spec = spec or _spec(name)
    if not spec.path.is_file():
        raise CheckpointError(
            f"{spec.path} is missing; reinstall ganedu or train with `python -m ganedu train {name}`"
        )
    check_pinned(
        spec.path,
        spec.sha256,
        what="the file ganedu shipped",
        remedy=f"reinstall ganedu, or retrain with `python -m ganedu train {name}` and use that run directory instead",
        error=CheckpointError,
    )
    state = load_checkpoint(spec.path, map_location="cpu")
    config = RunConfig(**state["config"])
    config.device = str(device) if device is not None else "auto"
    gan, data = build(config)
    gan.G.load_state_dict(state["G"])
    if gan.ema is not None:
        gan.ema.model.load_state_dict(state["G"])
    gan.step = int(state["step"])
    gan.G.eval()
    return gan, data


def export(run: Path, name: str, metrics: dict | None = None) -> Path:
    """Write the generator of the finished run ``run`` to ``ganedu/weights`` with its record; returns the path."""
    from ganedu.models import RunConfig, build
    from ganedu.train import resume

    spec = _spec(name)
    config = RunConfig.load(run / "config.json")
    config.device = "cpu"
    gan, data = build(config)
    resume(run / "ckpt.pt", gan, data)
    state = {
        "config": dataclasses.asdict(config) | {"device": "auto"},
        "G": {k: v.detach().clone() for k, v in _generator(gan).state_dict().items()},
        "step": gan.step,
    }
    buffer = io.BytesIO()  # made in memory: torch.save into a file hides a full disk (ganedu.files)
    torch.save(state, buffer)
    write_atomically(spec.path, buffer.getvalue())
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line.strip()]
    rec = {
        "model": name,
        "run_config": dataclasses.asdict(config),
        "step": gan.step,
        "wall_s": log[-1].get("time") if log else None,
        "sha256": sha256_file(spec.path),
        "torch": torch.__version__,
        **(metrics or {}),
    }
    spec.record_path.write_text(json.dumps(rec, indent=2) + "\n")
    return spec.path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ganedu.pretrained", description="ship a run's generator")
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="write RUN's generator to ganedu/weights/ and print its SHA-256")
    e.add_argument("run", type=Path)
    e.add_argument("name", choices=list(PRETRAINED))
    e.add_argument(
        "--metrics", type=Path, help="a JSON file of measured metrics to record beside the weights"
    )
    e.add_argument("--command", help="the training command, recorded as is")
    args = p.parse_args(argv)
    metrics = json.loads(args.metrics.read_text()) if args.metrics else {}
    if args.command:
        metrics["command"] = args.command
    path = export(args.run, args.name, metrics)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB), sha256 {sha256_file(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

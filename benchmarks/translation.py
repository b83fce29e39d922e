"""How well a trained CycleGAN run translates, for the chapter 7 must-hold.

    python benchmarks/translation.py runs/cyclegan-10min [--out benchmarks/results/cyclegan.json]
    python benchmarks/translation.py runs/cyclegan-10min --append benchmarks/results/cyclegan_defaults.json

Translates every test-split image of domain A with G (A→B) and of domain B with F (B→A).
An *independent* Fashion-MNIST classifier (the LeNet shipped in ``ganedu/weights``, not used
in training) labels the translations: ``a_to_b`` is the share of translated A images it calls
class B, ``b_to_a`` the reverse. ``cycle_l1`` is the mean absolute error, in [0, 1] pixel
units, between each input and its reconstruction F(G(a)) (and G(F(b))); ``identity_l1`` the
same between an input and the translation of its own domain (G(b) vs b). For scale,
``l1_a_vs_b`` is the mean absolute error between the mean sneaker and the mean boot. The row
also names the run's batch size and precision and the CPU it is scored on (run it on the
machine that trained the run). ``--out`` writes the row alone; ``--append`` adds it to a list.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from machine import append_rows, machine  # noqa: E402

from ganedu.data import load_dataset, to_float
from ganedu.metrics import ClassifierFeatures
from ganedu.models import RunConfig, build
from ganedu.train import resume


def score_translation(run: Path) -> dict:
    config = RunConfig.load(run / "config.json")
    config.device = "cpu"
    gan, data = build(config)
    resume(run / "ckpt.pt", gan, data)
    class_a, class_b = gan.classes
    images, labels = load_dataset(gan.dataset, "test")
    size = data.pad_to or images.shape[-1]  # what the generators see: 28×28 padded to 32×32
    a = to_float(images[labels == class_a], pad_to=data.pad_to)
    b = to_float(images[labels == class_b], pad_to=data.pad_to)
    fake_b, fake_a = gan.translate(a, "AB"), gan.translate(b, "BA")
    rec_a, rec_b = gan.translate(fake_b, "BA"), gan.translate(fake_a, "AB")
    judge = ClassifierFeatures(gan.dataset, which="independent")

    def share(x: torch.Tensor, cls: int) -> float:
        crop = (size - images.shape[-1]) // 2
        x = x[..., crop : crop + images.shape[-1], crop : crop + images.shape[-1]]
        uint8 = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return round(float((judge.predict(uint8).cpu() == cls).float().mean()), 4)

    def l1(x, y) -> float:  # in [0, 1] pixel units
        return round(float((x - y).abs().mean() / 2), 4)

    return {
        "run": str(run),
        "step": gan.step,
        "batch_size": config.batch_size,
        "precision": config.precision if config.precision != "auto" else f"auto ({gan.precision})",
        "n_a": len(a),
        "n_b": len(b),
        "a_to_b": share(fake_b, class_b),
        "b_to_a": share(fake_a, class_a),
        "inputs_a_as_a": share(a, class_a),
        "inputs_b_as_b": share(b, class_b),
        "cycle_l1": l1(torch.cat([rec_a, rec_b]), torch.cat([a, b])),
        "identity_l1": l1(torch.cat([gan.translate(b, "AB"), gan.translate(a, "BA")]), torch.cat([b, a])),
        "l1_a_vs_b": l1(a.mean(0), b.mean(0)),
        **machine(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path)
    p.add_argument("--out", type=Path, help="write the row to this file")
    p.add_argument("--append", type=Path, help="add the row to the JSON list in this file")
    args = p.parse_args()
    row = score_translation(args.run)
    print(json.dumps(row))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(row, indent=2) + "\n")
    if args.append:
        append_rows(args.append, [row])


if __name__ == "__main__":
    main()

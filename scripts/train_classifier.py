"""Train the Fashion-MNIST classifiers shipped in ganedu/weights/ (fixed seed, CPU, a few minutes).

    python scripts/train_classifier.py --which primary       # FashionCNN, seed 0
    python scripts/train_classifier.py --which independent   # LeNet, seed 1

Each run trains on the 60,000 training images (no augmentation, no use of the test set
during training), then measures accuracy on the 10,000 test images once, writes
``ganedu/weights/<file>.pt`` (a state dict) and ``<file>.json`` (accuracy, seed, command,
time) and prints the SHA-256 to pin in ``ganedu/metrics/classifier.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

from ganedu.checkpoint import save_checkpoint
from ganedu.data import load_dataset, sha256_file, to_float
from ganedu.metrics.classifier import classifier_spec
from ganedu.runtime import seed_everything

# Training settings per classifier: epochs, batch size, peak learning rate, weight decay.
SETTINGS = {
    "primary": {"epochs": 6, "batch_size": 128, "lr": 2e-3, "weight_decay": 5e-4},
    "independent": {"epochs": 8, "batch_size": 128, "lr": 1e-3, "weight_decay": 0.0},
}


@torch.inference_mode()
def accuracy(network: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    network.eval()
    correct = sum(
        int((network(to_float(images[i : i + 1000])).argmax(1) == labels[i : i + 1000]).sum())
        for i in range(0, len(images), 1000)
    )
    return correct / len(images)


def train(which: str, threads: int) -> dict:
    spec = classifier_spec("fashion-mnist", which)
    settings = SETTINGS[which]
    torch.set_num_threads(threads)
    generator = seed_everything(spec.seed)
    images, labels = load_dataset("fashion-mnist", "train")
    network = spec.architecture()
    optimizer = torch.optim.AdamW(
        network.parameters(), lr=settings["lr"], weight_decay=settings["weight_decay"]
    )
    steps_per_epoch = math.ceil(len(images) / settings["batch_size"])
    total = settings["epochs"] * steps_per_epoch
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=settings["lr"], total_steps=total)
    start = time.perf_counter()
    for epoch in range(settings["epochs"]):
        network.train()
        order = torch.randperm(len(images), generator=generator)
        for i in range(0, len(images), settings["batch_size"]):
            batch = order[i : i + settings["batch_size"]]
            loss = F.cross_entropy(network(to_float(images[batch])), labels[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        print(
            f"epoch {epoch + 1}/{settings['epochs']}: loss {loss.item():.3f}, {time.perf_counter() - start:.0f}s"
        )
    seconds = time.perf_counter() - start
    test_images, test_labels = load_dataset("fashion-mnist", "test")
    record = {
        "dataset": "fashion-mnist",
        "which": which,
        "architecture": spec.architecture.__name__,
        "parameters": sum(p.numel() for p in network.parameters()),
        "seed": spec.seed,
        **settings,
        "test_accuracy": accuracy(network, test_images, test_labels),
        "train_seconds": round(seconds, 1),
        "threads": threads,
        "torch": torch.__version__,
        "command": f"python scripts/train_classifier.py --which {which}",
    }
    save_checkpoint(spec.weights_path, network.state_dict())
    record["sha256"] = sha256_file(spec.weights_path)
    spec.record_path.write_text(json.dumps(record, indent=2) + "\n")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--which", choices=sorted(SETTINGS), required=True)
    parser.add_argument("--threads", type=int, default=1)
    record = train(**vars(parser.parse_args(argv)))
    print(json.dumps(record, indent=2))
    print(f"pin this in ganedu/metrics/classifier.py: {record['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

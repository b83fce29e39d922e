"""The textbook DCGAN loop, kept as the baseline ganedu is measured against.

This is the loop of pytorch/examples' ``dcgan/main.py`` and most tutorials: a per-sample
``Dataset`` with PIL transforms behind a ``DataLoader``, a discriminator that ends in
``Sigmoid`` trained with ``BCELoss``, Adam(2e-4, β1 = 0.5), ``zero_grad()``, fp32, and the
generator step reusing the fake batch of the discriminator step. The networks are ganedu's
own DCGAN, so only the loop differs. Do not copy this into course code: it is the "before".
"""

from __future__ import annotations

import time

import numpy as np
import torch
from PIL import Image
from torch import nn
from torchvision import transforms

from ganedu.nets import dcgan


class PerSampleDataset(torch.utils.data.Dataset):
    """Images decoded and transformed one at a time, as torchvision datasets do."""

    def __init__(self, images_uint8: torch.Tensor):
        self.images = images_uint8.numpy()
        self.transform = transforms.Compose(
            [transforms.Pad(2), transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]
        )

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i, 0], mode="L")), 0


class TextbookDCGAN:
    """The textbook training loop over ganedu's DCGAN networks; ``train(minutes)`` or ``train(steps=)``."""

    def __init__(self, images_uint8: torch.Tensor, batch_size: int = 64, workers: int = 2, seed: int = 0):
        torch.manual_seed(seed)
        self.loader = torch.utils.data.DataLoader(
            PerSampleDataset(images_uint8),
            batch_size=batch_size,
            shuffle=True,
            num_workers=workers,
            drop_last=True,
        )
        self.G = dcgan.Generator(nz=100, nc=1, image_size=32)
        self.D = nn.Sequential(dcgan.Discriminator(nc=1, image_size=32), nn.Sigmoid())
        self.criterion = nn.BCELoss()
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.steps = 0

    def train(self, minutes: float | None = None, steps: int | None = None) -> int:
        """Train until ``minutes`` pass or ``steps`` steps are done; returns images processed."""
        deadline = time.monotonic() + 60 * minutes if minutes is not None else float("inf")
        images, start = 0, self.steps
        while True:
            for real, _ in self.loader:
                b = real.shape[0]
                # (1) update D: maximize log(D(x)) + log(1 - D(G(z)))
                self.D.zero_grad()
                label = torch.full((b,), 1.0)
                err_real = self.criterion(self.D(real).view(-1), label)
                err_real.backward()
                fake = self.G(torch.randn(b, 100, 1, 1))
                label.fill_(0.0)
                err_fake = self.criterion(self.D(fake.detach()).view(-1), label)
                err_fake.backward()
                self.opt_d.step()
                # (2) update G: maximize log(D(G(z)))
                self.G.zero_grad()
                label.fill_(1.0)
                err_g = self.criterion(self.D(fake).view(-1), label)
                err_g.backward()
                self.opt_g.step()
                self.steps += 1
                images += b
                if time.monotonic() > deadline or (steps is not None and self.steps - start >= steps):
                    return images

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` uint8 samples (N, 1, 28, 28), the padding cropped away."""
        from ganedu.data import to_uint8

        gen = torch.Generator().manual_seed(seed)
        self.G.eval()
        out = torch.cat([self.G(torch.randn(min(500, n - i), 100, generator=gen)) for i in range(0, n, 500)])
        self.G.train()
        return to_uint8(out, crop_to=28).numpy()

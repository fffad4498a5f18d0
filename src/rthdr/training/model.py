"""The digit CNN: small enough for sub-millisecond CPU inference, accurate enough for 99.6 %+.

Shape of the network (default config), for a batch of N images:
    (N, 1, 28, 28) in [0, 1]  -> normalise with the MNIST mean/std
    stage 1: conv 16                 -> (N, 16, 28, 28) -> max-pool -> (N, 16, 14, 14)
    stage 2: conv 32, conv 32        -> (N, 32, 14, 14) -> max-pool -> (N, 32, 7, 7)
    stage 3: conv 64, conv 64, 128   -> (N, 128, 7, 7)  = features
    head:    1x1 conv to 10 classes  -> (N, 10, 7, 7)   = class activation maps (CAM)
             global average pool     -> (N, 10)         = logits
A 1x1 convolution followed by global average pooling is exactly "GAP then linear", so the class
activation maps come for free from the same computation that produces the logits.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from rthdr.training.config import ModelConfig  # torch-free, so that the CLI can read its defaults

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


def conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class DigitNet(nn.Module):
    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config or ModelConfig()
        layers: list[nn.Module] = []
        channels = 1
        for index, stage in enumerate(self.config.stages):
            if index > 0:
                layers += [nn.MaxPool2d(2), nn.Dropout(self.config.dropout)]
            for out_channels in stage:
                layers.append(conv_bn_relu(channels, out_channels))
                channels = out_channels
        layers.append(nn.Dropout(self.config.dropout))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Conv2d(channels, self.config.num_classes, 1)

    def activations(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) pixels in [0, 1] -> (N, C, 7, 7) output of the last convolution block."""
        return self.features((x - MNIST_MEAN) / MNIST_STD)

    def class_maps(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) pixels in [0, 1] -> (N, classes, 7, 7) class activation maps."""
        return self.classifier(self.activations(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) pixels in [0, 1] -> (N, classes) logits."""
        return self.class_maps(x).mean(dim=(2, 3))


class Ensemble(nn.Module):
    """Several DigitNets voting: the mean of their probabilities (and of their class maps).

    forward() returns log-probabilities, which work wherever logits do (argmax, cross-entropy)."""

    def __init__(self, networks: list[DigitNet]) -> None:
        super().__init__()
        self.networks = networks
        self.members = nn.ModuleList(networks)  # registers their parameters

    def class_maps(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([m.class_maps(x) for m in self.networks]).mean(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probabilities = torch.stack([torch.softmax(m(x), dim=1) for m in self.networks]).mean(0)
        return probabilities.clamp_min(1e-12).log()


Model = DigitNet | Ensemble


def members(model: Model) -> list[DigitNet]:
    return list(model.networks) if isinstance(model, Ensemble) else [model]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_macs(model: Model, size: int = 28) -> int:
    """Multiply-accumulates of one forward pass (convolutions only; the rest is negligible)."""
    macs = 0
    for member in members(model):
        side = size
        for module in member.modules():
            if isinstance(module, nn.MaxPool2d):
                side //= 2
            elif isinstance(module, nn.Conv2d):
                kh, kw = module.kernel_size
                macs += side * side * module.in_channels * module.out_channels * kh * kw // module.groups
    return macs


def save_checkpoint(model: Model, path: str, **extra: Any) -> None:
    """A checkpoint carries each network's config beside its weights, so it can be rebuilt from the
    file alone; an ensemble is a list of such entries."""
    entries = [{"config": m.config.to_dict(), "state_dict": m.state_dict()} for m in members(model)]
    body = entries[0] if isinstance(model, DigitNet) else {"members": entries}
    torch.save({**body, **extra}, path)


def _build(entry: dict[str, Any]) -> DigitNet:
    model = DigitNet(ModelConfig.from_dict(entry["config"]))
    model.load_state_dict(entry["state_dict"])
    return model.eval()


def load_checkpoint(path: str) -> tuple[Model, dict[str, Any]]:
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if "members" in checkpoint:
        return Ensemble([_build(entry) for entry in checkpoint["members"]]).eval(), checkpoint
    return _build(checkpoint), checkpoint

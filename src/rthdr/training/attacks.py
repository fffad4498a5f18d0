"""White-box attacks on the model's input (pixels in [0, 1], an L-infinity budget eps in those units):
what adversarial training learns from and what rthdr.evaluation.robustness measures."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float) -> torch.Tensor:
    """Fast gradient sign method: one step of size eps up the loss gradient's sign."""
    x = x.clone().requires_grad_(True)
    loss = F.cross_entropy(model(x), y)
    (gradient,) = torch.autograd.grad(loss, x)
    return (x + eps * gradient.sign()).clamp(0, 1).detach()


def pgd(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    steps: int = 10,
    step_size: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Projected gradient descent (Madry et al.): a random start in the eps-ball, then `steps`
    signed-gradient steps, each projected back into the ball and the valid pixel range."""
    if eps == 0:
        return x.clone()
    step_size = step_size or 2.5 * eps / steps
    noise = (torch.rand(x.shape, generator=generator) * 2 - 1) * eps
    adversarial = (x + noise).clamp(0, 1)
    for _ in range(steps):
        adversarial.requires_grad_(True)
        loss = F.cross_entropy(model(adversarial), y)
        (gradient,) = torch.autograd.grad(loss, adversarial)
        adversarial = adversarial.detach() + step_size * gradient.sign()
        adversarial = torch.min(torch.max(adversarial, x - eps), x + eps).clamp(0, 1)
    return adversarial.detach()

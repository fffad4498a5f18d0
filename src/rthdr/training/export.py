"""ONNX export that verifies itself: the ONNX checker, then ONNX Runtime against PyTorch."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rthdr.training.model import MNIST_MEAN, MNIST_STD, DigitNet, Model, members

INPUT_NAME = "image"  # (N, 1, 28, 28) float32 pixels in [0, 1], 0 = background
# (N, 10) softmax; (N, 10, 7, 7) class activation maps without the classifier's bias, i.e. the
# classifier's weights applied to the last convolution's output: Grad-CAM's map before its ReLU.
OUTPUT_NAMES = ("probabilities", "cam")
PARITY_TOLERANCE = 1e-4
# The explainer graph beside each served network (NETWORK.explainer.onnx): the model input and the
# class to explain, (N,) int64, to the guided backpropagation of that class's logit, (N, 28, 28).
CLASS_INPUT_NAME = "class"
EXPLAINER_OUTPUT_NAMES = ("guided",)


class ServingGraph(nn.Module):
    """What the service runs: probabilities plus the class activation maps they come from; for an
    ensemble, the mean of its members' probabilities and maps."""

    def __init__(self, model: Model) -> None:
        super().__init__()
        self.members = nn.ModuleList(members(model))

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        probabilities, cams = [], []
        for member in cast(list[DigitNet], list(self.members)):
            classifier = member.classifier
            assert classifier.bias is not None
            cam = F.conv2d(member.activations(image), classifier.weight)
            probabilities.append(torch.softmax(cam.mean(dim=(2, 3)) + classifier.bias[None, :], dim=1))
            cams.append(cam)
        if len(cams) == 1:
            return probabilities[0], cams[0]  # a single network: no averaging nodes in the graph
        return torch.stack(probabilities).mean(0), torch.stack(cams).mean(0)


class GuidedBackprop(nn.Module):
    """Guided backpropagation (Springenberg et al. 2015) of one class's logit to the input pixels: its
    gradient, with each ReLU passing back only positive gradient, and only where it was active. Guided
    Grad-CAM (Selvaraju et al. 2017) multiplies it by the Grad-CAM map to put that map on the strokes.
    ONNX has no autograd, so the backward pass is written out: masks and transposed convolutions."""

    def __init__(self, model: Model) -> None:
        super().__init__()
        self.members = nn.ModuleList(members(model))

    def forward(self, image: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        guided = [guided_backprop(m, image, target) for m in cast(list[DigitNet], list(self.members))]
        return guided[0] if len(guided) == 1 else torch.stack(guided).mean(0)


def guided_backprop(net: DigitNet, image: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(N, 1, 28, 28) pixels and (N,) classes -> (N, 28, 28) guided gradients of the classes' logits."""
    x, backward = (image - MNIST_MEAN) / MNIST_STD, []
    for layer in net.features:  # conv + BN + ReLU blocks, max-pools, and dropouts (identity here)
        if isinstance(layer, nn.Sequential):
            weight, bias = folded(layer)  # one tensor for both directions: the file holds it once
            x = F.relu(F.conv2d(x, weight, bias, padding=1))
            backward.append(partial(back_through_block, weight, (x > 0).to(x.dtype)))
        elif isinstance(layer, nn.MaxPool2d):
            pooled, maximum_at = F.max_pool2d(x, layer.kernel_size, return_indices=True)
            backward.append(partial(back_through_pool, x.shape, maximum_at))
            x = pooled
    weights = net.classifier.weight[:, :, 0, 0][target]  # (N, channels): the logit is their mean product
    grad = (weights / (x.shape[2] * x.shape[3]))[:, :, None, None].expand_as(x)
    for step in reversed(backward):
        grad = step(grad)
    return grad[:, 0] / MNIST_STD


def folded(block: nn.Sequential) -> tuple[torch.Tensor, torch.Tensor]:
    """A conv + BN block's convolution weight and bias with the batch norm (eval mode) folded in."""
    conv, norm = cast(nn.Conv2d, block[0]), cast(nn.BatchNorm2d, block[1])
    assert norm.running_mean is not None and norm.running_var is not None
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    return conv.weight * scale[:, None, None, None], norm.bias - norm.running_mean * scale


def back_through_block(weight: torch.Tensor, active: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    grad = grad * active * (grad > 0).to(grad.dtype)  # the guided ReLU
    return F.conv_transpose2d(grad, weight, padding=1)


def back_through_pool(shape: torch.Size, maximum_at: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """Each window's gradient goes to its maximum, the one max-pooling chose (ties are common: the
    background is flat)."""
    n, channels, height, width = shape
    flat = torch.zeros(n, channels, height * width, dtype=grad.dtype)
    return flat.scatter(2, maximum_at.flatten(2), grad.flatten(2)).view(shape)


def export_explainer(model: Model, path: str | Path, opset: int = 17) -> float:
    """The guided backpropagation graph of a served network (NETWORK.explainer.onnx beside it), for
    Guided Grad-CAM heatmaps; returns export_graph()'s parity."""
    classes = members(model)[0].config.num_classes
    return export_graph(GuidedBackprop(model.eval()), path, EXPLAINER_OUTPUT_NAMES, opset, classes=classes)


def export_onnx(model: Model, path: str | Path, opset: int = 17) -> float:
    """The digit classifier as the service runs it (ServingGraph); returns export_graph()'s parity."""
    return export_graph(ServingGraph(model.eval()), path, OUTPUT_NAMES, opset)


def export_release(model: Model, models: Path, name: str) -> float:
    """What a release ships of an image network: NAME.onnx (export_onnx's parity is returned) and its
    explainer graph NAME.explainer.onnx beside it, from the same weights."""
    parity = export_onnx(model, models / f"{name}.onnx")
    export_explainer(model, models / f"{name}.explainer.onnx")
    return parity


def export_graph(
    graph: nn.Module,
    path: str | Path,
    output_names: Sequence[str],
    opset: int = 17,
    input_shape: tuple[int, ...] = (1, 28, 28),
    input_name: str = INPUT_NAME,
    classes: int | None = None,
) -> float:
    """Write `graph` (`input_name`, a (N, *input_shape) batch, to one tensor per output name) as ONNX
    with a dynamic batch axis, run the ONNX checker, and return the max abs difference of ONNX Runtime's
    answers from PyTorch's on another batch: an export that differs by more than PARITY_TOLERANCE
    raises rather than ship. Every network rthdr serves is exported here, so each is verified alike.
    With `classes`, the graph also takes a class to answer for: (N,) int64 in [0, classes)."""
    import onnx
    import onnxruntime as ort

    graph.eval()

    def inputs(count: int, seed: int) -> dict[str, torch.Tensor]:
        generator = torch.Generator().manual_seed(seed)
        made = {input_name: torch.rand(count, *input_shape, generator=generator)}
        if classes is not None:
            made[CLASS_INPUT_NAME] = torch.randint(0, classes, (count,), generator=generator)
        return made

    example = inputs(4, 0)
    torch.onnx.export(
        graph,
        tuple(example.values()),
        str(path),
        input_names=list(example),
        output_names=list(output_names),
        dynamic_axes={name: {0: "batch"} for name in [*example, *output_names]},
        opset_version=opset,
        dynamo=False,
    )
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    batch = inputs(16, 1)
    with torch.no_grad():
        outputs = graph(*batch.values())
    expected = [outputs] if isinstance(outputs, torch.Tensor) else list(outputs)
    actual = session.run(list(output_names), {name: value.numpy() for name, value in batch.items()})
    difference = max(float(np.abs(a - e.numpy()).max()) for a, e in zip(actual, expected, strict=True))
    if difference > PARITY_TOLERANCE:
        raise RuntimeError(f"ONNX export of {path} differs from PyTorch by {difference:.2e}")
    return difference

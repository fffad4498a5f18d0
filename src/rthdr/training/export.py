"""ONNX export that verifies itself: the ONNX checker, then ONNX Runtime against PyTorch."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rthdr.training.model import DigitNet, Model, members

INPUT_NAME = "image"  # (N, 1, 28, 28) float32 pixels in [0, 1], 0 = background
# (N, 10) softmax; (N, 10, 7, 7) class activation maps without the classifier's bias, i.e. the
# classifier's weights applied to the last convolution's output: Grad-CAM's map before its ReLU.
OUTPUT_NAMES = ("probabilities", "cam")
PARITY_TOLERANCE = 1e-4


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


def export_onnx(model: Model, path: str | Path, opset: int = 17) -> float:
    """The digit classifier as the service runs it (ServingGraph); returns export_graph()'s parity."""
    return export_graph(ServingGraph(model.eval()), path, OUTPUT_NAMES, opset)


def export_graph(
    graph: nn.Module,
    path: str | Path,
    output_names: Sequence[str],
    opset: int = 17,
    input_shape: tuple[int, ...] = (1, 28, 28),
    input_name: str = INPUT_NAME,
) -> float:
    """Write `graph` (`input_name`, a (N, *input_shape) batch, to one tensor per output name) as ONNX
    with a dynamic batch axis, run the ONNX checker, and return the max abs difference of ONNX Runtime's
    answers from PyTorch's on another batch: an export that differs by more than PARITY_TOLERANCE
    raises rather than ship. Every network rthdr serves is exported here, so each is verified alike."""
    import onnx
    import onnxruntime as ort

    graph.eval()
    example = torch.rand(4, *input_shape, generator=torch.Generator().manual_seed(0))
    torch.onnx.export(
        graph,
        (example,),
        str(path),
        input_names=[input_name],
        output_names=list(output_names),
        dynamic_axes={input_name: {0: "batch"}, **{name: {0: "batch"} for name in output_names}},
        opset_version=opset,
        dynamo=False,
    )
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    batch = torch.rand(16, *input_shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        outputs = graph(batch)
    expected = [outputs] if isinstance(outputs, torch.Tensor) else list(outputs)
    actual = session.run(list(output_names), {input_name: batch.numpy()})
    difference = max(float(np.abs(a - e.numpy()).max()) for a, e in zip(actual, expected, strict=True))
    if difference > PARITY_TOLERANCE:
        raise RuntimeError(f"ONNX export of {path} differs from PyTorch by {difference:.2e}")
    return difference

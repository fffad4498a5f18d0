"""Smaller and faster models for the edge: static INT8 quantisation (ONNX Runtime) and structured
pruning with fine-tuning (PyTorch), each measured against the FP32 model it came from."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from rthdr.core.inference import Classifier
from rthdr.core.preprocess import preprocess_all
from rthdr.data.mnist import load_mnist
from rthdr.evaluation.timing import interleaved, throughput
from rthdr.training.config import ModelConfig
from rthdr.training.model import DigitNet

QUANTISED_OPS = {"Conv", "Relu", "MaxPool"}
PRUNED_LABEL = "pruned (structured), fine-tuned"
INT8_LABEL = "INT8 (static, QDQ; served)"


def float_layers(graph: Any) -> list[str]:
    """Names of the nodes to keep in float, the usual mixed-precision choice, measured on validation
    images: the first convolution of each network (quantising its input cost one of our two networks
    1.5 points), the 1x1 classifier convolutions whose class maps feed the head or leave the graph,
    and the head itself (averaging, bias, softmax), so probabilities still sum to 1."""
    head = {n.name for n in graph.node if n.op_type not in QUANTISED_OPS}
    head_inputs = {name for n in graph.node if n.name in head for name in n.input}
    outputs = {o.name for o in graph.output}
    classifiers = {
        n.name for n in graph.node if n.op_type == "Conv" and set(n.output) & (head_inputs | outputs)
    }
    # Tensors computed from the image without passing a convolution: the normalised input.
    from_input = {i.name for i in graph.input}
    for node in graph.node:
        if node.op_type != "Conv" and set(node.input) & from_input:
            from_input |= set(node.output)
    first = {n.name for n in graph.node if n.op_type == "Conv" and set(n.input) & from_input}
    return sorted(head | classifiers | first)


class _Calibration:
    """Feeds ONNX Runtime's calibrator batches of training images, as the service would see them."""

    def __init__(self, images: np.ndarray, input_name: str, batch_size: int = 50) -> None:
        self.batches = iter(images[i : i + batch_size, None] for i in range(0, len(images), batch_size))
        self.input_name = input_name

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self.batches, None)
        return None if batch is None else {self.input_name: batch.astype(np.float32)}


def calibration_images(data_dir: str | Path | None, count: int, seed: int = 0) -> np.ndarray:
    """`count` random training images through the serving preprocessing (never test images)."""
    images, _ = load_mnist("train", data_dir)
    pick = np.random.default_rng(seed).choice(len(images), count, replace=False)
    return preprocess_all(images[pick], progress=False)


def quantize_int8(fp32: Path, int8: Path, calibration: np.ndarray) -> None:
    """Static INT8 quantisation, QDQ format: per-channel weights, activations calibrated by min-max
    on real inputs; the layers float_layers() names stay in float. Raises if ONNX Runtime cannot load
    the result."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    input_name = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"]).get_inputs()[0].name
    with tempfile.TemporaryDirectory() as folder:
        prepared = Path(folder) / "prepared.onnx"
        quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
        keep_float = float_layers(onnx.load(str(prepared)).graph)
        quantize_static(
            str(prepared),
            str(int8),
            _Calibration(calibration, input_name),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=keep_float,
        )
    Classifier(int8)  # loads, or raises ModelError


@dataclass
class Variant:
    name: str
    file: str
    size_bytes: int
    test_accuracy: float
    single_image_ms_p50: float
    batch_256_images_per_s: float


def measure(
    variants: list[tuple[str, Path]], test_inputs: np.ndarray, test_labels: np.ndarray, quick: bool = False
) -> list[Variant]:
    """Size, test accuracy (through the serving preprocessing), one-thread latency and throughput of
    each model. Latency is timed in interleaved rounds (rthdr.bench.interleaved)."""
    classifiers = [Classifier(path, threads=1) for _, path in variants]
    one, batch = test_inputs[:1], test_inputs[:256]
    calls = [partial(classifier.run, one) for classifier in classifiers]
    times = interleaved(calls, 300, rounds=3) if quick else interleaved(calls, 3000)
    results = []
    for (name, path), classifier, timings in zip(variants, classifiers, times, strict=True):
        accuracy = float((classifier.predict_all(test_inputs).argmax(1) == test_labels).mean())
        results.append(
            Variant(
                name=name,
                file=path.name,
                size_bytes=path.stat().st_size,
                test_accuracy=accuracy,
                single_image_ms_p50=round(float(np.percentile(timings, 50)), 4),
                batch_256_images_per_s=throughput(
                    partial(classifier.run, batch), len(batch), 0.5 if quick else 3.0
                ),
            )
        )
    return results


def report(variants: list[Variant], out_dir: str | Path) -> list[Path]:
    """edge.json and edge.md (the table)."""
    from rthdr.evaluation.report import write_outputs

    rows = [
        "| model | file | size | test accuracy % | one image p50 ms | batch of 256, images/s |",
        "|---|---|---|---|---|---|",
    ]
    rows += [
        f"| {v.name} | `{v.file}` | {v.size_bytes / 1024:,.0f} KiB | {100 * v.test_accuracy:.2f} | "
        f"{v.single_image_ms_p50} | {v.batch_256_images_per_s:,.0f} |"
        for v in variants
    ]
    return write_outputs(out_dir, "edge", variants, "\n".join(rows) + "\n")


def prune_channels(model: DigitNet, amount: float) -> DigitNet:
    """Structured pruning: torch.nn.utils.prune ranks each convolution's output channels by L1 norm
    and masks the weakest `amount` of them; the survivors are then copied into a physically smaller
    network (masked channels would still cost time and bytes)."""
    import torch
    from torch import nn
    from torch.nn.utils import prune

    blocks = [name for name, m in model.features.named_children() if isinstance(m, nn.Sequential)]
    old = model.state_dict()
    kept: list[torch.Tensor] = []
    for name in blocks:  # conv + BN + ReLU blocks, in order
        conv = nn.Conv2d(1, 1, 1)
        conv.weight = nn.Parameter(old[f"features.{name}.0.weight"].clone())
        prune.ln_structured(conv, "weight", amount=amount, n=1, dim=0)
        mask = dict(conv.named_buffers())["weight_mask"]
        kept.append(torch.nonzero(mask.flatten(1).any(1)).flatten())
    sizes = iter(len(k) for k in kept)
    stages = tuple(tuple(next(sizes) for _ in stage) for stage in model.config.stages)
    config = ModelConfig(stages=stages, dropout=model.config.dropout, num_classes=model.config.num_classes)
    smaller = DigitNet(config)
    new = smaller.state_dict()
    previous = torch.tensor([0])  # the input's one channel
    for name, keep in zip(blocks, kept, strict=True):
        prefix = f"features.{name}."
        new[prefix + "0.weight"] = old[prefix + "0.weight"][keep][:, previous]
        for field in ("weight", "bias", "running_mean", "running_var"):
            new[prefix + "1." + field] = old[prefix + "1." + field][keep]
        new[prefix + "1.num_batches_tracked"] = old[prefix + "1.num_batches_tracked"]
        previous = keep
    new["classifier.weight"] = old["classifier.weight"][:, previous]
    new["classifier.bias"] = old["classifier.bias"]
    smaller.load_state_dict(new)
    return smaller.eval()


def prune_and_finetune(
    weights: Path, amount: float, epochs: int, out_dir: Path, data_dir: str | Path | None
) -> list[DigitNet]:
    """Prune every network of the shipped model and fine-tune each on the training set (a short
    one-cycle run from the pruned weights), keeping the best epoch by validation accuracy."""
    from rthdr.training.model import load_checkpoint, members
    from rthdr.training.train import TrainConfig, train

    model, _ = load_checkpoint(str(weights))
    tuned = []
    for index, network in enumerate(members(model)):
        pruned = prune_channels(network, amount)
        cfg = TrainConfig(epochs=epochs, lr=1e-3, model=pruned.config, seed=100 + index, patience=epochs)
        run = out_dir / f"pruned-{index}"
        train(cfg, run, data_dir, start_from=pruned)
        tuned.append(load_checkpoint(str(run / "model.pt"))[0])
    return tuned  # type: ignore[return-value]


def write_pruned(fp32: Path, weights: Path, amount: float, epochs: int, data_dir: str | Path | None) -> Path:
    """Prune and fine-tune `weights` (prune_and_finetune) and write the result beside the float
    model as MODEL.pruned.onnx, with its checkpoint MODEL.pruned.pt."""
    from rthdr.training.export import export_onnx
    from rthdr.training.model import Ensemble, save_checkpoint

    with tempfile.TemporaryDirectory() as runs:
        networks = prune_and_finetune(weights, amount, epochs, Path(runs), data_dir)
    model = networks[0] if len(networks) == 1 else Ensemble(networks)
    pruned = fp32.with_suffix(".pruned.onnx")
    export_onnx(model, pruned)
    save_checkpoint(model, str(pruned.with_suffix(".pt")))
    return pruned


def variants_beside(fp32: Path) -> list[tuple[str, Path]]:
    """The float model and the smaller files beside it, named for the table: those this run made
    and those an earlier run left, so that every variant is measured in the same rounds."""
    smaller = [(PRUNED_LABEL, fp32.with_suffix(".pruned.onnx")), (INT8_LABEL, fp32.with_suffix(".int8.onnx"))]
    return [("FP32", fp32), *((name, path) for name, path in smaller if path.is_file())]


def measure_on_test(
    variants: list[tuple[str, Path]], data_dir: str | Path | None, limit: int | None, quick: bool = False
) -> list[Variant]:
    """measure() on the first `limit` MNIST test images (all by default), through the serving
    preprocessing."""
    images, labels = load_mnist("test", data_dir)
    return measure(variants, preprocess_all(images[:limit]), labels[:limit], quick)

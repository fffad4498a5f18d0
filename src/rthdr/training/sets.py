"""What a run trains and validates on: MNIST's training images (a seeded 1/12 held out), and the
generated corpus, EMNIST and reviewed corrections where the run asks for them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from tqdm import tqdm

from rthdr.core.charsets import CHARSETS, DIGITS, NONE
from rthdr.data.mnist import DataError, load_mnist, train_validation_split
from rthdr.training.config import TrainConfig

if TYPE_CHECKING:
    from rthdr.data.corpus import Corpus


def training_sets(cfg: TrainConfig, data_dir: str | Path | None) -> tuple[Splits, tuple[str, ...]]:
    """The run's training and validation tensors, and the class names the network then has."""
    corpus = load_corpus(cfg) if cfg.corpus else None
    with_mnist = corpus is None or extends_mnist(corpus)
    split = split_train_val(*load_mnist("train", data_dir), cfg) if with_mnist else NO_IMAGES
    classes: tuple[str, ...] = DIGITS
    if corpus is not None:
        split, classes = add_corpus(split, corpus, cfg)
    if cfg.emnist:
        if corpus is not None and classes != CHARACTER_CLASSES:
            raise DataError("--emnist with --corpus needs an alphanumeric corpus: EMNIST has its 47 classes")
        inputs, labels, indices = emnist_inputs(cfg)
        split, classes = joined(split, inputs, labels, indices), CHARACTER_CLASSES
        tqdm.write(f"--emnist: {len(indices[0])} training and {len(indices[1])} validation images")
    if cfg.extra:  # training only: model selection stays on MNIST's validation split
        x_train, y_train, x_val, y_val = split
        split = (*mix_extra(x_train, y_train, load_extra(cfg.extra)), x_val, y_val)
    return split, classes


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """(N, 28, 28) uint8 0-255 or float in [0, 1] -> float (N, 1, 28, 28) in [0, 1], the model's input."""
    tensor = torch.tensor(images, dtype=torch.float32)
    return (tensor.div_(255) if images.dtype == np.uint8 else tensor).unsqueeze(1)


def split_train_val(
    images: np.ndarray, labels: np.ndarray, cfg: TrainConfig
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A seeded shuffle, optionally limited, with the last 1/12 of the images held out."""
    train_idx, val_idx = train_validation_split(len(images), cfg.split_seed, cfg.val_fraction, cfg.limit)

    def inputs(index: np.ndarray) -> torch.Tensor:
        if not cfg.serving_preprocess:
            return to_tensor(images[index])
        from rthdr.core.preprocess import preprocess_all

        return to_tensor(preprocess_all(images[index]))

    return (
        inputs(train_idx),
        torch.from_numpy(labels[train_idx].astype(np.int64)),
        inputs(val_idx),
        torch.from_numpy(labels[val_idx].astype(np.int64)),
    )


# The share of each epoch's images that come from --extra: enough that a few hundred corrections are
# seen ~30 times an epoch (each time augmented afresh), few enough that MNIST still makes 85 %.
EXTRA_SHARE = 0.15


def load_extra(directory: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """The model inputs and labels that `rthdr reviews export` wrote to `directory`."""
    path = Path(directory) / "inputs.npz"
    if not path.is_file():
        raise DataError(f"--extra {directory}: no inputs.npz there; write one with `rthdr reviews export`")
    with np.load(path) as data:
        images, labels = data["images"], data["labels"]
    if not len(labels):
        raise DataError(f"--extra {directory}: the export holds no images")
    return to_tensor(images), torch.from_numpy(labels.astype(np.int64))


def mix_extra(
    images: torch.Tensor, labels: torch.Tensor, extra: tuple[torch.Tensor, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The training set with the extra set appended, repeated to about EXTRA_SHARE of the whole."""
    copies = max(1, round(EXTRA_SHARE / (1 - EXTRA_SHARE) * len(images) / len(extra[0])))
    tqdm.write(f"--extra: {len(extra[0])} images, {copies} copies each, among {len(images)} MNIST images")
    return torch.cat([images, extra[0].repeat(copies, 1, 1, 1)]), torch.cat([labels, extra[1].repeat(copies)])


Splits = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]  # train x, y, validation x, y


CHARACTER_CLASSES: tuple[str, ...] = (*CHARSETS["alphanumeric"], NONE)  # EMNIST balanced's, then none


def joined(
    splits: Splits, inputs: np.ndarray, labels: np.ndarray, indices: tuple[np.ndarray, np.ndarray]
) -> Splits:
    """The splits with another set's model inputs and labels added: indices[0] to training,
    indices[1] to validation."""
    x_train, y_train, x_val, y_val = splits
    targets = torch.from_numpy(labels.astype(np.int64))
    train_idx, val_idx = indices
    return (
        torch.cat([x_train, to_tensor(inputs[train_idx])]),
        torch.cat([y_train, targets[train_idx]]),
        torch.cat([x_val, to_tensor(inputs[val_idx])]),
        torch.cat([y_val, targets[val_idx]]),
    )


NO_IMAGES: Splits = (torch.zeros(0, 1, 28, 28), torch.zeros(0, dtype=torch.long)) * 2


def load_corpus(cfg: TrainConfig) -> Corpus:
    from rthdr.data.corpus import load

    path = Path(cfg.corpus or "")
    if not path.is_file():
        raise DataError(f"--corpus {path}: no such file; make one with `rthdr data corpus`")
    return load(path)


def extends_mnist(corpus: Corpus) -> bool:
    """A corpus whose classes start with MNIST's digits is trained with MNIST; another (the scripts
    corpus: other scripts' digits) is trained on alone."""
    return corpus.classes[: len(DIGITS)] == DIGITS


def add_corpus(splits: Splits, corpus: Corpus, cfg: TrainConfig) -> tuple[Splits, tuple[str, ...]]:
    """The train and validation splits (MNIST's, or NO_IMAGES) with the corpus's images added to
    each (the same seeded 1/12 held out), and the class names the network then has."""
    from rthdr.data.corpus import split_indices

    indices = split_indices(corpus, cfg.split_seed, cfg.val_fraction, cfg.limit)
    tqdm.write(
        f"--corpus: {len(indices[0])} training and {len(indices[1])} validation images, {len(corpus.classes)} classes"
    )
    return joined(splits, corpus.images, corpus.labels, indices), corpus.classes


def emnist_inputs(
    cfg: TrainConfig, validation_only: bool = False
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """EMNIST balanced's training images through the serving preprocessing (as MNIST's; only the
    validation ones if asked, the rest left blank), their labels, and the seeded training and
    validation indices (limited as MNIST is by cfg.limit)."""
    from rthdr.core.preprocess import preprocess_all
    from rthdr.data.emnist import load_emnist

    images, labels = load_emnist(cfg.emnist or "", "train")
    train_idx, val_idx = train_validation_split(len(images), cfg.split_seed, cfg.val_fraction, cfg.limit)
    used = val_idx if validation_only else np.concatenate([train_idx, val_idx])
    inputs = np.zeros((len(images), 28, 28), np.float32)
    inputs[used] = preprocess_all(images[used])
    return inputs, labels, (train_idx, val_idx)

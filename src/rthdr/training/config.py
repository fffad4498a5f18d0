"""The settings of a training run, each written once: here.

The `rthdr train` and `rthdr train-onedigit` flags are made from these fields (name, type, default,
help), and so is the model card's "reproduce" command, so that a setting cannot be added to one and
forgotten in the other. The module needs no torch: the CLI builds its parser from it in the serving
image, where `rthdr serve` is the entry point and torch is absent.
"""

from __future__ import annotations

from dataclasses import Field, asdict, dataclass, field, fields
from typing import Any, get_args, get_type_hints


def setting(default: Any, help: str, **flag: Any) -> Any:
    """A config field that is also a command-line flag. `flag` may name the flag where it is not the
    field's name with dashes (flag="--elastic") and give argparse options (choices, metavar)."""
    return field(default=default, metadata={"help": help, **flag})


def settings(config: type) -> list[Field[Any]]:
    """The fields of a config dataclass that are flags, in their order."""
    return [f for f in fields(config) if "help" in f.metadata]


def flag_name(option: Field[Any]) -> str:
    return str(option.metadata.get("flag", "--" + option.name.replace("_", "-")))


def value_type(config: type, option: Field[Any]) -> type:
    """What a flag's text converts to: the field's type, without its `| None`."""
    hint = get_type_hints(config)[option.name]
    kinds = [kind for kind in get_args(hint) if kind is not type(None)] or [hint]
    return kinds[0]


def as_flags(config: Any) -> list[str]:
    """The command-line words that give `config` where it differs from its defaults,
    e.g. ["--epochs", "3", "--no-serving-preprocess"]; a parser made from the same fields reads
    them back into an equal config."""
    words: list[str] = []
    for option in settings(type(config)):
        value, flag = getattr(config, option.name), flag_name(option)
        if value == option.default:
            continue
        if isinstance(value, bool):
            words.append(flag if value else "--no-" + flag.removeprefix("--"))
        else:
            words += [flag, str(value)]
    return words


@dataclass(frozen=True)
class ModelConfig:
    # Output channels of each 3x3 conv (+BN+ReLU), grouped into stages; a 2x2 max-pool
    # separates consecutive stages, so three stages take 28x28 down to 7x7.
    stages: tuple[tuple[int, ...], ...] = ((16,), (32, 32), (64, 64, 128))
    dropout: float = 0.1  # after each pooling and before the classifier
    num_classes: int = 10

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        stages = tuple(tuple(int(c) for c in stage) for stage in data["stages"])
        return cls(stages=stages, dropout=float(data["dropout"]), num_classes=int(data["num_classes"]))


def stages_words(stages: tuple[tuple[int, ...], ...]) -> list[str]:
    """((16,), (32, 32)) -> ["16", "32,32"]: the network's shape as `--stages` takes it."""
    return [",".join(str(width) for width in stage) for stage in stages]


@dataclass
class TrainConfig:
    epochs: int = setting(30, "training epochs")
    batch_size: int = setting(128, "images per step")
    lr: float = setting(3e-3, "peak learning rate (one-cycle schedule)")
    weight_decay: float = setting(5e-4, "AdamW weight decay")
    label_smoothing: float = setting(0.1, "label smoothing of the cross-entropy loss")
    val_fraction: float = setting(
        1 / 12,
        "share of the training images held out for model selection and early stopping "
        "(1/12: 5,000 of the 60,000)",
    )
    limit: int | None = setting(None, "train on only this many images")
    patience: int = setting(8, "early-stopping patience in epochs")
    ema_decay: float = setting(
        0.999, "decay of the exponential moving average of the weights (the average is what is kept)"
    )
    # Random affine augmentation, drawn independently per image.
    rotate_deg: float = setting(12.0, "augmentation: rotation by up to this many degrees")
    shear_deg: float = setting(12.0, "augmentation: shear by up to this many degrees")
    scale: float = setting(0.12, "augmentation: zoom in [1 - SCALE, 1 + SCALE]")
    shift_px: float = setting(2.5, "augmentation: shift by up to this many pixels")
    # The amplitude of a smooth random displacement field.
    elastic_px: float = setting(0.8, "elastic distortion in pixels (0 = off)", flag="--elastic")
    # Out-of-focus blur of any image, in the loop: the corpus's pictures are blurred (and JPEG'd) when
    # made and MNIST's never were, so a character model learnt "sharp, hence a digit" (blurring MNIST's
    # test digits by 0.8 px got 26 % of them answered "not a digit"). Blurring both sources alike
    # takes that shortcut away. 0 = off, as the digit model is trained.
    blur_share: float = setting(
        0.0, "augmentation: share of the images blurred by 0.3-0.8 pixels each step (0 = off)"
    )
    # Adversarial training: each batch also trains on its attacked copy (half the loss each), so the
    # model learns to resist attacks without giving up much clean accuracy. None = off.
    adversarial: str | None = setting(
        None,
        "adversarial training: every batch is also learned in an attacked copy",
        choices=["pgd", "fgsm"],
    )
    adversarial_eps: float = setting(
        0.1, "attack budget for adversarial training (L-infinity, pixels in [0, 1])"
    )
    adversarial_steps: int = setting(3, "with --adversarial pgd: attack steps per batch")
    # A checkpoint to fine-tune instead of training from scratch; kept for provenance.
    init: str | None = setting(
        None, "start from these weights (a checkpoint; an ensemble's first network) and fine-tune"
    )
    # Knowledge distillation (Hinton et al. 2015): a trained checkpoint's softened answers on the same
    # augmented batch are a second target, which lets a smaller, faster network keep the larger one's
    # accuracy. None = off.
    teacher: str | None = setting(
        None,
        "distil this trained model (a .pt checkpoint) into the one being trained",
        metavar="CHECKPOINT",
    )
    distill_weight: float = setting(
        0.5, "with --teacher: the share of the loss that is the teacher's answers (the rest, the labels)"
    )
    distill_temperature: float = setting(
        2.0, "with --teacher: softens both answers, so the teacher's second choices count"
    )
    # Corrections people made in the review queue, as `rthdr reviews export` writes them; mixed with
    # MNIST (rthdr.training.sets.EXTRA_SHARE of each epoch) so that little of MNIST is forgotten
    # (docs/reviews.md measures how little).
    extra: str | None = setting(
        None,
        "also train on this folder from `rthdr reviews export` (its inputs.npz), repeated to about "
        "15 percent of each epoch; with --init, fine-tunes a model on its users' corrections",
        metavar="DIR",
    )
    # The character corpus (rthdr.data.corpus): letters, more digit styles and `none`. The network
    # then learns the corpus's classes; MNIST's digits keep their labels, which come first.
    corpus: str | None = setting(
        None,
        "also train on this corpus from `rthdr data corpus` (a .npz): the network learns its classes "
        "(digits, letters, none); 1/12 of it joins the validation split",
        metavar="NPZ",
    )
    # EMNIST "balanced" (rthdr.data.emnist), for users who have its files: real handwritten letters.
    emnist: str | None = setting(
        None,
        "also train on EMNIST balanced from this folder (its emnist-balanced-* files), through the serving "
        "preprocessing; 1/12 joins the validation split",
        metavar="DIR",
    )
    seed: int = setting(0, "random seed (initialisation, batch order, augmentation)")
    split_seed: int = setting(
        0, "which training images are held out; the same for the networks of an ensemble"
    )
    # MNIST's own tensors differ from the serving preprocessing's output by resampling details.
    serving_preprocess: bool = setting(
        True,
        "train on images passed through the serving preprocessing (rthdr.core.preprocess), "
        "so that the network learns exactly what it will be shown",
    )
    threads: int = setting(0, "CPU threads for PyTorch (0 = all)")
    # The network's shape: `--stages`, made by the CLI and the model card from ModelConfig.
    model: ModelConfig = field(default_factory=ModelConfig)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """A run's config as its metrics.json holds it; settings an older run lacks take their defaults."""
        names = {f.name for f in fields(cls)} - {"model"}
        model = ModelConfig.from_dict(data["model"]) if "model" in data else ModelConfig()
        return cls(**{name: value for name, value in data.items() if name in names}, model=model)


@dataclass
class OneDigitConfig:
    """How rthdr.training.onedigit trains the one-digit check (train_one_digit's keywords)."""

    numbers: int = setting(10000, "synthetic numbers to take parts from")
    digits: int = setting(30000, "plain MNIST training digits added")
    epochs: int = setting(5, "training epochs")
    touching: float = setting(0.6, "share of the gaps between digits closed (touching pairs)")
    seed: int = setting(0, "random seed")
    threads: int = setting(0, "CPU threads for PyTorch (0 = all)")


@dataclass
class StrokeConfig:
    """How rthdr.training.strokes trains the stroke model (train_strokes' keywords)."""

    epochs: int = setting(15, "training epochs")
    limit: int | None = setting(None, "use only this many MNIST training digits (a smoke run)")
    corpus: str | None = setting(
        None,
        "train the character stroke model instead: on this corpus from `rthdr data corpus` (charset "
        "alphanumeric, a .npz) traced into strokes, with as many MNIST digits per digit; it learns the "
        "corpus's classes and fuses with the character model",
        metavar="NPZ",
    )
    seed: int = setting(0, "random seed")
    threads: int = setting(0, "CPU threads for PyTorch (0 = all)")

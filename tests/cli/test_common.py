"""Flags made from a config dataclass: the defaults are the config's, and they read back into it."""

from __future__ import annotations

import argparse
import inspect

from rthdr.cli.common import add_settings, settings_from
from rthdr.training.config import OneDigitConfig, TrainConfig, as_flags


def parser_for(config: type) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_settings(parser, config)
    return parser


def test_no_flags_give_the_config_defaults() -> None:
    assert settings_from(parser_for(OneDigitConfig).parse_args([]), OneDigitConfig) == OneDigitConfig()
    assert settings_from(parser_for(TrainConfig).parse_args([]), TrainConfig) == TrainConfig()


def test_flags_keep_their_names_and_read_back() -> None:
    parser = parser_for(TrainConfig)
    args = parser.parse_args(["--elastic", "0", "--adversarial", "pgd", "--no-serving-preprocess"])
    cfg = settings_from(args, TrainConfig)
    assert (cfg.elastic_px, cfg.adversarial, cfg.serving_preprocess) == (0.0, "pgd", False)
    assert as_flags(cfg) == ["--elastic", "0.0", "--adversarial", "pgd", "--no-serving-preprocess"]
    assert settings_from(parser.parse_args(as_flags(cfg)), TrainConfig) == cfg


def test_the_one_digit_config_is_what_train_one_digit_defaults_to() -> None:
    """train_one_digit takes the settings as keywords; the CLI passes OneDigitConfig's, so the two
    must agree for a call from Python to train what `rthdr train-onedigit` does."""
    from rthdr.training.onedigit import train_one_digit

    defaults = {
        name: p.default
        for name, p in inspect.signature(train_one_digit).parameters.items()
        if name in OneDigitConfig.__dataclass_fields__
    }
    assert defaults == vars(OneDigitConfig())

"""Measuring models: accuracy, model cards, baselines, robustness, edge variants, timing, plots."""

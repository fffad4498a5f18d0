"""Which readings go to a person: every uncertain one, and a random audit share of the confident ones.

The audit share exists because "uncertain" is the model's own opinion: a confident mistake is only
found by looking at answers the model was sure of. The service and `rthdr batch --review` decide
alike; the random source is passed in so that tests can say which answers are audited.
"""

from __future__ import annotations

import random


def review_reason(uncertain: bool, audit_rate: float, rng: random.Random) -> str | None:
    """Why a reading should be reviewed ("uncertain" or "audit"), or None: it need not be."""
    if uncertain:
        return "uncertain"
    return "audit" if rng.random() < audit_rate else None

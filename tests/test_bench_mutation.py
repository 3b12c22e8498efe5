"""bench/mutation.py's arithmetic: the score of a random sample of mutants and its margin (`--sample N`)."""

from __future__ import annotations

import importlib.util
import math
import random
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _mutation() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_mutation", ROOT / "bench" / "mutation.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_full_run_has_no_margin_and_a_sample_has_the_textbook_one() -> None:
    m = _mutation()
    assert m.margin(90.0, 4000, 4000) == 0.0  # every mutant run: the score is exact
    # 95 % interval of a proportion, 0.9 measured on 400 of 4,000: 1.96 * sqrt(.9 * .1 / 400) * sqrt(3600 / 3999)
    assert m.margin(90.0, 400, 4000) == round(100 * 1.96 * 0.015 * math.sqrt(3600 / 3999), 1) == 2.8
    assert m.margin(100.0, 400, 4000) == 0.0  # nothing survived: the normal approximation gives no width
    assert m.margin(90.0, 100, 4000) > m.margin(90.0, 400, 4000)  # a smaller sample is less sure


def test_the_margin_covers_the_true_score_of_random_samples() -> None:
    """The property the margin claims, checked by simulation: over many samples of 400 from a population of
    4,000 mutants of which 88 % are killed, about 95 % of the intervals contain 88 %."""
    m = _mutation()
    population = [True] * 3520 + [False] * 480
    rng = random.Random(13)
    covered = 0
    for _ in range(400):
        drawn = rng.sample(population, 400)
        score = 100 * sum(drawn) / 400
        covered += abs(score - 88.0) <= m.margin(score, 400, 4000)
    assert 0.90 <= covered / 400 <= 0.99

"""Smoke of bench/scale.py's synthetic spec (`make bench-scale` times it at 3,000 tables; here only correctness).

The synthetic spec uses every object kind, so it also covers what SPEC-131 does not: comments on indexes,
triggers and policies are verified like any other object.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from generator.check import check
from generator.lint import lint
from generator.load import load_spec
from generator.migrate.planner import plan
from generator.migrate.snapshot import of_spec
from generator.order import order
from generator.pipeline import Build, build
from generator.verify import verify_sql

ROOT = Path(__file__).resolve().parent.parent


def _scale() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "bench" / "scale.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Build]:
    root = tmp_path_factory.mktemp("scale")
    scale = _scale()
    scale.write_spec(root / "spec", 30)  # two modules: the second starts with its lookup table
    scale.write_spec(root / "old-spec", 30, old=True)
    return root, build(root / "spec")


def test_synthetic_spec_generates_and_verifies(synthetic: tuple[Path, Build]) -> None:
    _, result = synthetic
    assert result.mismatches == []
    assert [f.name for f in result.files] == ["00-platform.sql", "00-z-access.sql", "0001-module.sql",
                                              "0002-module.sql", "schema.sql"]
    assert not [f for f in lint(result.catalog) if f.severity == "error"]


def test_synthetic_spec_plans_from_its_older_version(synthetic: tuple[Path, Build]) -> None:
    root, result = synthetic
    steps = plan(result.catalog, of_spec(check(load_spec(root / "old-spec")))).steps
    assert steps, "the two versions differ in one table of ten"


@pytest.mark.parametrize("kind", ["INDEX", "TRIGGER", "POLICY"])
def test_comment_of_each_kind_is_verified(synthetic: tuple[Path, Build], kind: str) -> None:
    _, result = synthetic
    sql = next(f.text for f in result.files if f.name == "schema.sql")
    tampered, count = re.subn(rf"^COMMENT ON {kind} .*?;\n", "", sql, count=1, flags=re.M | re.S)
    assert count == 1
    mismatch = verify_sql("schema.sql", tampered, order(result.catalog), result.catalog, registry=True)
    assert mismatch is not None and not mismatch.unexpected
    assert [m.split()[:2] for m in mismatch.missing] == [["comment", kind.lower()]]

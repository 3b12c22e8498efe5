"""Helpers to write small spec directories for tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def write_spec(root: Path, modules: dict[str, dict[str, Any]]) -> Path:
    """Write each module as spec/<name>.yaml under `root`; returns the spec directory."""
    spec = root / "spec"
    spec.mkdir(parents=True, exist_ok=True)
    for name, module in modules.items():
        (spec / name).write_text(yaml.safe_dump(module, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return spec


def sql_of(files: list[Any], name: str) -> str:
    return next(f.text for f in files if f.name == name)

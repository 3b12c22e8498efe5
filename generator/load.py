"""Read a spec directory (one YAML file per module, in file-name order) into a Schema."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from .decode import decode_module
from .diagnostics import Collector, Pos
from .model import Module, Schema

SPEC_SUFFIXES = (".yaml", ".yml")


def display_path(path: Path) -> str:
    """The path as users should see it in diagnostics: relative to the working directory when below it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def spec_files(spec_dir: Path) -> list[Path]:
    return sorted(p for p in spec_dir.iterdir() if p.suffix in SPEC_SUFFIXES and p.is_file())


def load_spec(spec_dir: Path) -> Schema:
    """All modules of a spec directory; raises SpecError listing every decoding mistake."""
    errors = Collector()
    if not spec_dir.is_dir():
        errors.error(Pos(display_path(spec_dir), 1, 1), "spec directory not found (run pgspec in a project's "
                                                         "directory, or start one with `pgspec init`)")
        errors.raise_if_any()
    files = spec_files(spec_dir)
    if not files:
        errors.error(Pos(display_path(spec_dir), 1, 1), "no *.yaml spec files in this directory")
    modules: list[Module] = []
    for path in files:
        module = decode_module(path, display_path(path), errors)
        if module is not None:
            modules.append(dataclasses.replace(module, source=f"{spec_dir.name}/{path.name}"))
    errors.raise_if_any()
    return Schema(tuple(modules))

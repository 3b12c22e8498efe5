"""The pipeline, top to bottom: load -> check -> order -> render -> verify (then, in the CLI, judge.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .check import check
from .derive import Catalog
from .diagnostics import Mismatch
from .load import load_spec
from .order import Placed, order
from .output import OutputFile
from .render import (
    Piece,
    kept_modules,
    module_pieces,
    raw_registry_module,
    registry_module,
    render_outputs,
)
from .verify import Memo, verify_sql


@dataclass(frozen=True)
class Build:
    catalog: Catalog
    files: list[OutputFile]
    mismatches: list[Mismatch]
    placed: list[Placed]  # the items in output order: what the PostgreSQL judge maps errors back with
    pieces: dict[int, list[Piece]] | None  # every module's SQL, piece by piece (None: some modules left out)


def build(spec_dir: Path, *, include_platform: bool = True) -> Build:
    """Everything `generate` and `check` need, in memory; raises SpecError on a spec mistake."""
    catalog = check(load_spec(spec_dir))
    placed = order(catalog)
    pieces = module_pieces(catalog, placed, kept_modules(catalog, include_platform=include_platform))
    files = render_outputs(catalog, placed, include_platform=include_platform, pieces=pieces)
    return Build(catalog, files, verify_files(catalog, placed, files, include_platform=include_platform), placed,
                 pieces if include_platform else None)


def verify_files(catalog: Catalog, placed: list[Placed], files: list[OutputFile], *,
                 include_platform: bool = True) -> list[Mismatch]:
    """Cross-check each module file against the items placed in it, and schema.sql against all of them."""
    modules = catalog.schema.modules
    kept = set(kept_modules(catalog, include_platform=include_platform))
    by_name = {f.name: f for f in files}
    registry = registry_module(placed, kept)
    raw_registry = raw_registry_module(placed, kept)
    mismatches = []
    memo = Memo()  # schema.sql repeats the module files: each item and statement is read once
    in_module: dict[int, list[Placed]] = {i: [] for i in kept}  # one pass, not one per module
    for p in placed:
        if p.module in in_module:
            in_module[p.module].append(p)
    for i in sorted(kept):
        name = f"{modules[i].stem}.sql"
        mismatch = verify_sql(name, by_name[name].text, in_module[i], catalog,
                              registry=i == registry, raw_registry=i == raw_registry, memo=memo)
        if mismatch:
            mismatches.append(mismatch)
    whole = verify_sql("schema.sql", by_name["schema.sql"].text, [p for p in placed if p.module in kept], catalog,
                       registry=registry is not None, raw_registry=raw_registry is not None, memo=memo,
                       repeats=True)
    if whole:
        mismatches.append(whole)
    return mismatches

"""The editor's copy of the JSON Schema: where spec files point at it, and whether it is current.

Each spec file starts with a yaml-language-server modeline, `# yaml-language-server: $schema=../spec.schema.json`.
The schema is derived from the model (jsonschema.py), so a copy on disk goes stale when pgspec is upgraded. The
package never rewrites its own copy at run time (an installed package may be read-only and is shared by every
project): `pgspec schema --write PATH` writes a copy where a project wants it, and `check` reports every copy a
modeline names that is missing or out of date.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .jsonschema import SCHEMA_ID, json_schema_text
from .load import display_path, spec_files
from .report import Record

# The copy shipped inside the package (package data); this repository's spec files point at it.
PACKAGED_SCHEMA = Path(__file__).parent / "spec.schema.json"
MODELINE = "# yaml-language-server: $schema="
_TARGET = re.compile(r"#\s*yaml-language-server:\s*\$schema=(\S+)")


def modeline(schema_path: Path, spec_dir: Path) -> str:
    """The first line of a spec file in `spec_dir` pointing its editor at `schema_path`."""
    relative = Path(os.path.relpath(schema_path.resolve(), spec_dir.resolve()))
    return f"{MODELINE}{relative.as_posix()}"


def referenced_schemas(spec_dir: Path) -> dict[Path, list[Path]]:
    """Local schema files named by the modelines of the spec files (URLs are the editor's business)."""
    found: dict[Path, list[Path]] = {}
    if not spec_dir.is_dir():
        return found
    for spec_file in spec_files(spec_dir):
        with spec_file.open(encoding="utf-8", errors="replace") as fh:
            first = fh.readline()
        match = _TARGET.match(first)
        if not match or "://" in match[1]:
            continue
        target = (spec_file.parent / match[1]).resolve()
        found.setdefault(target, []).append(spec_file)
    return found


@dataclass(frozen=True)
class StaleSchema:
    path: Path
    problem: str  # "missing" or "out of date"

    def record(self) -> Record:
        shown = display_path(self.path)
        return Record("stale", self.problem, file=shown,
                      hint=f"editor JSON Schema; run `pgspec schema --write {shown}`")


def stale_schemas(spec_dir: Path) -> list[StaleSchema]:
    """Every schema copy the modelines name that is missing or differs from the current schema.

    A file that is not a pgspec schema (another `$id`) is someone else's and is left alone."""
    current = json_schema_text()
    stale = []
    for path in sorted(referenced_schemas(spec_dir)):
        if not path.exists():
            stale.append(StaleSchema(path, "missing"))
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if text == current:
            continue
        try:
            ours = json.loads(text).get("$id") == SCHEMA_ID
        except (ValueError, AttributeError):
            ours = False
        if ours:
            stale.append(StaleSchema(path, "out of date"))
    return stale

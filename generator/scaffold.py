"""`pgspec init`: a starter project that generates, checks and applies as created.

The starter's files ship as package data in `starter/` (the platform module for plain PostgreSQL, one example
module, a Makefile, a README, a .gitignore); the editor's JSON Schema is written beside `spec/` from the model, so
it always matches the installed pgspec. Nothing is overwritten: a directory that already holds any of these files
is refused before anything is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .jsonschema import json_schema_text
from .output import write_text_atomically

STARTER = Path(__file__).parent / "starter"
# starter file (package data) -> path in the new project
LAYOUT = {
    "spec/00-platform.yaml": "spec/00-platform.yaml",
    "spec/01-notes.yaml": "spec/01-notes.yaml",
    "Makefile": "Makefile",
    "README.md": "README.md",
    "gitignore": ".gitignore",  # not shipped as .gitignore: packaging tools skip dot-files
}
SCHEMA = "spec.schema.json"  # the modelines of the starter's spec files point here (`../spec.schema.json`)


def project_files(target: str) -> dict[str, str]:
    """Every file of a new project, by path relative to the project directory."""
    files = {dest: (STARTER / src).read_text(encoding="utf-8").replace("@TARGET@", target)
             for src, dest in LAYOUT.items()}
    files[SCHEMA] = json_schema_text()
    return files


class InitError(Exception):
    pass


def init(directory: Path, target: str = "postgres") -> list[Path]:
    """Write a starter project into `directory` (created if missing); returns the files written."""
    files = project_files(target)
    taken = sorted(name for name in files if (directory / name).exists())
    if taken:
        raise InitError(f"{directory} already has {', '.join(taken)}; nothing written "
                        f"(choose an empty directory, or a new one: `pgspec init DIR`)")
    if (directory / "spec").is_dir() and any((directory / "spec").iterdir()):
        raise InitError(f"{directory / 'spec'} is not empty; nothing written")
    written = []
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, text)
        written.append(path)
    return written


def main(args: argparse.Namespace) -> int:
    """Exit 0 with the files written and the next steps, or 2 when the directory already holds a project."""
    try:
        written = init(args.directory, args.target)
    except InitError as exc:
        print(f"pgspec init: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    cd = "" if args.directory == Path(".") else f"cd {args.directory} && "
    flag = "" if args.target == "postgres" else " --target supabase"
    print(f"next: {cd}pgspec generate{flag} && pgspec check{flag}   (or `make generate check`; see README.md)")
    return 0

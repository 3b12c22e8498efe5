"""Findings for people and for machines: one record shape, three output formats.

`check`, `lint` and `verify` (and later `plan`) turn what they found into `Record`s and print them with `emit`:
- `text`: one line each, `FILE:LINE:COL: message` or `schema.object: message`, as the commands always printed;
- `json`: one JSON array on stdout, each record an object (`kind`, `rule`, `severity`, `file`, `line`, `col`,
  `object`, `message`, `hint`), the fields that do not apply set to null;
- `github`: GitHub Actions workflow commands, `::error file=F,line=L,col=C,title=T::message`, which the Actions
  runner turns into annotations on the pull request's diff.
Summaries and advice stay human-only, on stderr, so stdout is the machine-readable part.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TextIO

from .diagnostics import NOWHERE, Diagnostic, Pos

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")  # the most severe first
FORMATS = ("text", "json", "github")
_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


@dataclass(frozen=True)
class Record:
    """One finding. `kind` says which check found it (spec, stale, mismatch, lint, drift); `rule` is a lint id."""

    kind: str
    message: str
    severity: Severity = "error"
    rule: str | None = None
    file: str | None = None
    line: int | None = None
    col: int | None = None
    object: str | None = None
    hint: str | None = None

    @staticmethod
    def at(kind: str, pos: Pos, message: str, **fields: Any) -> Record:
        """A record placed at a spec position (NOWHERE: not placed)."""
        if pos == NOWHERE:
            return Record(kind, message, **fields)
        return Record(kind, message, file=pos.file, line=pos.line, col=pos.col, **fields)

    @property
    def place(self) -> str | None:
        if self.file is None:
            return self.object
        return ":".join(str(p) for p in (self.file, self.line, self.col) if p is not None)

    def text(self) -> str:
        rule = f"{self.rule} {self.severity}: " if self.rule else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.place}: {rule}{self.message}{hint}" if self.place else f"{rule}{self.message}{hint}"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def github(self) -> str:
        properties = [f"{key}={_escape_property(str(value))}" for key, value in
                      (("file", self.file), ("line", self.line), ("col", self.col)) if value is not None]
        properties.append(f"title={_escape_property(self.rule or self.kind)}")
        message = self.message if self.file is not None or self.object is None else f"{self.object}: {self.message}"
        if self.hint:
            message += f" ({self.hint})"
        return f"::{_GITHUB_LEVEL[self.severity]} {','.join(properties)}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    # The runner's own escaping rules for a workflow command's message.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def spec_error_records(diagnostics: Iterable[Diagnostic]) -> list[Record]:
    return [Record.at("spec", d.pos, d.message) for d in diagnostics]


def add_format_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text (default), json (one array on stdout) or github (workflow annotations "
                        "::error file=F,line=L,col=C::message for GitHub Actions)")


def emit(records: Iterable[Record], fmt: str, *, text_stream: TextIO | None = None) -> None:
    """Print the records in `fmt`: text to `text_stream` (default stdout), json and github to stdout."""
    records = list(records)
    if fmt == "json":
        json.dump([r.as_json() for r in records], sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif fmt == "github":
        for record in records:
            print(record.github())
    elif fmt == "text":
        for record in records:
            print(record.text(), file=text_stream or sys.stdout)
    else:
        raise ValueError(f"unknown format {fmt!r}")


@dataclass(frozen=True, order=True)
class Finding:
    """A lint rule's finding (lint.py makes them). Here, with nothing heavy imported, as `check` and `lint` read
    them back from the build cache without loading the generator."""

    pos: Pos
    where: str
    rule: str
    severity: Severity
    message: str
    hint: str
    subjects: tuple[str, ...] = field(compare=False)

    def text(self) -> str:
        place = self.where if self.pos == NOWHERE else str(self.pos)
        return f"{place}: {self.rule} {self.severity}: {self.message} ({self.hint})"

    def record(self) -> Record:
        """The finding for report.emit (text, json, github)."""
        return Record.at("lint", self.pos, self.message, severity=self.severity, rule=self.rule, object=self.where,
                         hint=self.hint)

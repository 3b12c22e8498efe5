"""Source positions and the errors users see.

Every mistake in a spec is reported as ``FILE:LINE:COL: message``. Code that finds mistakes collects
:class:`Diagnostic` objects and raises :class:`SpecError` once with all of them, so a user sees every problem of a
run at once instead of fixing them one by one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Pos:
    """A place in a spec file; line and column count from 1, as editors show them."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NOWHERE = Pos("<builtin>", 0, 0)


@dataclass(frozen=True, order=True)
class Diagnostic:
    pos: Pos
    message: str

    def __str__(self) -> str:
        return f"{self.pos}: {self.message}"


# Characters that end a line for str.splitlines, terminals and editors: a message quoting the spec's text (a type
# name holding U+2028) must stay one `FILE:LINE:COL: message` line.
_LINE_BREAKS = {ord(c): c.encode("unicode_escape").decode() for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}


def one_line(message: str) -> str:
    return message.translate(_LINE_BREAKS)


class SpecError(Exception):
    """One or more mistakes in the spec; the CLI prints them and exits 2."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = tuple(sorted(set(diagnostics)))
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class Collector:
    """Accumulates diagnostics; ``raise_if_any`` turns them into one SpecError."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def error(self, pos: Pos, message: str) -> None:
        self.items.append(Diagnostic(pos, one_line(message)))

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    def raise_if_any(self) -> None:
        if self.items:
            raise SpecError(self.items)


@dataclass(frozen=True)
class Mismatch:
    """What verify.py found an output file to lack or hold beyond the spec (a generator bug). Here, with nothing
    heavy imported, as `check` reads them back from the build cache without loading the generator."""

    file: str
    missing: tuple[str, ...]  # declared by the spec, absent from the SQL
    unexpected: tuple[str, ...]  # in the SQL, not declared by the spec

    def lines(self) -> list[str]:
        return ([f"{self.file}: missing from SQL: {m}" for m in self.missing]
                + [f"{self.file}: not in spec: {u}" for u in self.unexpected])
